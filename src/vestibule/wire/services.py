"""The one table of AWS services Vestibule serves from its single base URL. A row says how requests reach
the service (query `Version`, JSON 1.1 target prefix, REST paths), how they are signed, the XML namespace
of its answers, and its operation table. Adding a service is one module with an `OperationTable` and one
row here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .aws_json.identitystore import IDENTITY_STORE
from .aws_json.organizations import ORGANIZATIONS
from .aws_json.sso_admin import SSO_ADMIN
from .aws_query.iam import IAM
from .aws_query.sts import STS
from .operations import AnyOperation
from .rest_json.signin import SIGNIN
from .rest_json.sso_oidc import SSO_OIDC
from .rest_json.sso_portal import SSO_PORTAL


class Protocol(StrEnum):
    QUERY = "query"
    JSON = "json"
    REST_JSON = "rest-json"


@dataclass(frozen=True)
class Service:
    name: str  # botocore's service name (`botocore/data/<name>/`)
    protocol: Protocol
    signing_name: str  # the service in a SigV4 credential scope
    operations: Mapping[str, AnyOperation]
    version: str | None = None  # query: the `Version` parameter
    target_prefix: str | None = None  # JSON 1.1: `X-Amz-Target: <prefix>.<Operation>`
    namespace: str | None = None  # query: the XML namespace of answers
    paths: tuple[str, ...] = ()  # rest-json: the request paths (or prefixes, ending in `/`) it answers
    validation_code: str = "ValidationException"  # JSON 1.1: the code its model gives input that breaks the rules


SERVICES: tuple[Service, ...] = (
    Service("sts", Protocol.QUERY, "sts", STS.rows, version="2011-06-15",
            namespace="https://sts.amazonaws.com/doc/2011-06-15/"),
    Service("iam", Protocol.QUERY, "iam", IAM.rows, version="2010-05-08",
            namespace="https://iam.amazonaws.com/doc/2010-05-08/"),
    Service("identitystore", Protocol.JSON, "identitystore", IDENTITY_STORE.rows, target_prefix="AWSIdentityStore"),
    Service("organizations", Protocol.JSON, "organizations", ORGANIZATIONS.rows,
            target_prefix="AWSOrganizationsV20161128", validation_code="InvalidInputException"),
    Service("sso-admin", Protocol.JSON, "sso", SSO_ADMIN.rows, target_prefix="SWBExternalService"),
    Service("sso", Protocol.REST_JSON, "awsssoportal", SSO_PORTAL.rows,
            paths=("/federation/credentials", "/assignment/", "/logout")),
    Service("sso-oidc", Protocol.REST_JSON, "sso-oauth", SSO_OIDC.rows,
            paths=("/client/register", "/device_authorization", "/token")),
    # the paths it serves, then those of its model's other operations (answered UnknownOperationException)
    Service("signin", Protocol.REST_JSON, "signin", SIGNIN.rows,
            paths=("/v1/token", "/list-sessions", "/get-session", "/batch-revoke-sessions", "/v1/introspect",
                   "/v1/revoke", "/get-resource-policy", "/list-resource-permission-statements",
                   "/put-resource-permission-statement", "/delete-resource-permission-statement",
                   "/get-console-authorization-configuration", "/put-console-authorization-configuration",
                   "/delete-console-authorization-configuration")),
)

QUERY_BY_VERSION = {s.version: s for s in SERVICES if s.protocol is Protocol.QUERY}
QUERY_BY_SIGNING_NAME = {s.signing_name: s for s in SERVICES if s.protocol is Protocol.QUERY}
JSON_BY_TARGET_PREFIX = {s.target_prefix: s for s in SERVICES if s.protocol is Protocol.JSON}


def rest_json_service(path: str) -> Service | None:
    """The REST-JSON service that answers `path` (exactly, or under a prefix ending in `/`)."""
    for service in SERVICES:
        if service.protocol is Protocol.REST_JSON:
            for owned in service.paths:
                if path == owned or (owned.endswith("/") and path.startswith(owned)):
                    return service
    return None
