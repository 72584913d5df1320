"""The AWS query protocol endpoint (`POST /` or `GET /?Action=...`): STS and IAM.

Routes by `Version` (2011-06-15 STS, 2010-05-08 IAM), else by the credential scope's service.
Every request is SigV4-verified before any handler runs; every response carries a request ID.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import parse_qsl

from ..core import sigv4
from ..services.aws_identity import KeyDirectory
from ..services.context import Deps
from . import xml
from .errors import (
    AwsError,
    InvalidAction,
    MalformedQueryString,
    MissingAction,
    ServiceFailure,
)
from .params import QueryParams
from .registry import HANDLERS, CallContext

log = logging.getLogger("vestibule.aws")

VERSIONS = {"2011-06-15": "sts", "2010-05-08": "iam"}
NAMESPACES = {"sts": xml.STS_NAMESPACE, "iam": xml.IAM_NAMESPACE}
UNSIGNED_LATER = {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}


def _request_id() -> str:
    """A random version-4 UUID, formatted without the uuid module's overhead."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class QueryEndpoint:
    def __init__(self, deps: Deps, keys: KeyDirectory) -> None:
        self.deps = deps
        self.keys = keys
        from . import iam, sts  # noqa: F401  (registers the operations)

    async def handle(self, method: str, raw_path: str, query: str, headers: list[tuple[str, str]], body: bytes,
                     client_ip: str, secure: bool) -> tuple[int, str, str]:
        request_id = _request_id()
        service = "iam"
        try:
            pairs = parse_qsl(query, keep_blank_values=True)
            if body and method == "POST":
                try:
                    pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
                except UnicodeDecodeError:
                    raise MalformedQueryString("The request body is not valid UTF-8.") from None
            params = QueryParams(pairs)
            version = params.get("Version")
            action = params.get("Action")
            signed = sigv4.SignedRequest(method=method, path=raw_path, query=query, headers=headers, body=body,
                                         now=self.deps.clock())
            parts = None
            if version in VERSIONS:
                service = VERSIONS[version]
            else:
                parts = sigv4.parse_authorization(signed)
                service = parts.service if parts.service in HANDLERS else "iam"
            if action in UNSIGNED_LATER and service == "sts":
                raise InvalidAction(f"{action} is not supported by this server yet; sign in through an "
                                    "identity provider is planned for a later release.")
            caller = await self._authenticate(signed, parts, service)
            if not action:
                raise MissingAction("Missing Action")
            handler = HANDLERS[service].get(action)
            if handler is None:
                raise InvalidAction(f"Could not find operation {action} for version {version or 'NO_VERSION_SPECIFIED'}")
            ctx = CallContext(self.deps, caller, params, request_id, client_ip, secure, service, action,
                              {"keys": self.keys})
            result = await handler(ctx)
            return 200, xml.response(action, NAMESPACES[service], result, request_id), request_id
        except sigv4.SigV4Error as exc:
            return exc.status, xml.error(exc.code, exc.message, request_id, NAMESPACES[service]), request_id
        except AwsError as exc:
            return (exc.status, xml.error(exc.code, exc.message, request_id, NAMESPACES[service], exc.sender_fault),
                    request_id)
        except Exception:
            log.exception("internal error (request %s)", request_id)
            failure = ServiceFailure("An internal error occurred; the request ID identifies it in the server log.")
            return 500, xml.error(failure.code, failure.message, request_id, NAMESPACES[service], False), request_id

    async def _authenticate(self, signed: sigv4.SignedRequest, parts: sigv4.SignatureParts | None,
                            service: str) -> Any:
        parts = parts or sigv4.parse_authorization(signed)
        record = await self.keys.lookup(parts.access_key_id)
        if record is None or not record.active:
            raise sigv4.InvalidClientTokenId()
        if not record.token_ok(parts.session_token):
            raise sigv4.InvalidClientTokenId()
        sigv4.verify(signed, parts, record.secret, expected_service=service)
        if record.expires_at is not None and record.expires_at <= self.deps.clock():
            raise sigv4.ExpiredToken()
        await self.keys.note_use(parts.access_key_id, service, parts.region)
        return record.caller
