"""STS over the query protocol: caller identity, session tokens, role assumption, federation tokens."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from ...core.federation_failures import Cause, FederationFailure
from ...services import outbound_federation, sts, sts_decode, sts_root, sts_scoped
from ...services.federation import saml as federation_saml
from ...services.federation import web_identity
from ...services.temporary_credentials import Issued
from ..members import detected, enum, integer, missing, string_list, structure, structure_list, text, violation
from .errors import IDPRejectedClaim, ValidationError
from .request import QueryRequest, QueryTable
from .xml import Result, Timestamp, XmlValue

STS: QueryTable = QueryTable()

ACCESS_KEY_ID = text("AccessKeyId", 16, 128, r"[\w]*")
DURATION = integer("DurationSeconds", 900, 129600)
SERIAL = text("SerialNumber", 9, 256, r"[\w+=/:,.@-]*")
TOKEN_CODE = text("TokenCode", 6, 6, r"[\d]*")
FEDERATION_POLICY = text("Policy", 1, 2048, r"[\u0009\u000A\u000D\u0020-\u00FF]+")
ROLE_SESSION_POLICY = text("Policy", 1, None, r"[\u0009\u000A\u000D\u0020-\u00FF]+")  # packed size checked
POLICY_ARNS = structure_list("PolicyArns")
MINIMUM_TOKEN_SIZE = integer("MinimumSessionTokenSize", 0, 4096)  # accepted, not acted on
SESSION_TAGS = structure_list("Tags", 50)
TRANSITIVE_TAG_KEYS = string_list("TransitiveTagKeys", 50)
_TAG_PATTERN = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]"
_TAG_EXTRA = set("_.:/=+-@")
# the model's arnType pattern, verbatim: Java reads `\u10000` as U+1000 then "0", and so does Python
ROLE_ARN_PATTERN = r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+"


def _credentials(issued: Issued) -> dict[str, XmlValue]:
    return {"AccessKeyId": issued.access_key_id, "SecretAccessKey": issued.secret_access_key,
            "SessionToken": issued.session_token, "Expiration": Timestamp(issued.expires_at)}


def _session_policy(q: QueryRequest) -> sts.SessionPolicy:
    return sts.SessionPolicy(q.input.text("Policy"),
                             tuple(m.get("arn") or "" for m in q.input.structs("PolicyArns")))


def _tag_text(at: str, value: str | None, low: int, high: int) -> list[str]:
    """The violations of a session tag's key (1-128) or value (0-256) and the model's tag pattern."""
    if value is None:
        return [missing(at)]
    if not low <= len(value) <= high:
        rule = (f"Member must have length less than or equal to {high}" if len(value) > high
                else f"Member must have length greater than or equal to {low}")
        return [violation(at, rule, value)]
    if not all(unicodedata.category(c)[0] in "LZN" or c in _TAG_EXTRA for c in value):
        quantifier = "+" if low else "*"
        return [violation(at, f"Member must satisfy regular expression pattern: {_TAG_PATTERN}{quantifier}", value)]
    return []


def _session_tags(q: QueryRequest, transitive: bool = False) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """`Tags` (and, when the operation has them, `TransitiveTagKeys`) as the model declares the members of the
    Tag shape: each key 1-128, each value 0-256 characters of the tag pattern; every violation listed at once."""
    found: list[str] = []
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(q.input.structs("Tags"), start=1):
        key, value = item.get("Key"), item.get("Value")
        found += _tag_text(f"tags.{index}.member.key", key, 1, 128)
        found += _tag_text(f"tags.{index}.member.value", value, 0, 256)
        pairs.append((key or "", value or ""))
    keys = q.input.strings("TransitiveTagKeys") if transitive else []
    for index, key in enumerate(keys, start=1):
        found += _tag_text(f"transitiveTagKeys.{index}.member", key, 1, 128)
    if found:
        raise ValidationError(detected(found))
    return tuple(pairs), tuple(keys)


def _mfa(q: QueryRequest) -> sts.MfaProof | None:
    return sts.mfa_proof(q.input.text("SerialNumber"), q.input.text("TokenCode"))


@STS.operation("GetCallerIdentity", action=None)
async def get_caller_identity(q: QueryRequest) -> Result:
    caller = q.call.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


@STS.operation("GetAccessKeyInfo", action="sts:GetAccessKeyInfo", inputs=(ACCESS_KEY_ID.required(),))
async def get_access_key_info(q: QueryRequest) -> Result:
    return {"Account": await sts.get_access_key_info(q.call, q.input.required("AccessKeyId"))}


@STS.operation("GetSessionToken", action=None, audit="GetSessionToken", inputs=(DURATION, SERIAL, TOKEN_CODE))
async def get_session_token(q: QueryRequest) -> Result:
    issued = await sts.get_session_token(q.call, q.input.integer("DurationSeconds"), _mfa(q))
    return {"Credentials": _credentials(issued)}


@STS.operation("AssumeRole", action="sts:AssumeRole", audit="AssumeRole", inputs=(
    text("RoleArn", 20, 2048, ROLE_ARN_PATTERN).required(), text("RoleSessionName", 2, 64, r"[\w+=,.@-]*").required(),
    POLICY_ARNS, ROLE_SESSION_POLICY, integer("DurationSeconds", 900, 43200),
    text("ExternalId", 2, 1224, r"[\w+=,.@:\/-]*"), SERIAL, TOKEN_CODE,
    text("SourceIdentity", 2, 256, r"[\w+=,.@-]*"), SESSION_TAGS, TRANSITIVE_TAG_KEYS))
async def assume_role(q: QueryRequest) -> Result:
    tags, transitive = _session_tags(q, transitive=True)
    request = sts.AssumeRoleRequest(
        role_arn=q.input.required("RoleArn"), session_name=q.input.required("RoleSessionName"),
        duration=q.input.integer("DurationSeconds"), external_id=q.input.text("ExternalId"), mfa=_mfa(q),
        policy=_session_policy(q), source_identity=q.input.text("SourceIdentity"), tags=tags,
        transitive_tag_keys=transitive)
    session = await sts.assume_role(q.call, request)
    result: dict[str, XmlValue] = {
        "Credentials": _credentials(session.credentials),
        "AssumedRoleUser": {"AssumedRoleId": session.assumed_role_id, "Arn": session.arn},
        "PackedPolicySize": session.packed_policy_size}
    if session.source_identity is not None:
        result["SourceIdentity"] = session.source_identity
    return result


@STS.operation("GetFederationToken", action="sts:GetFederationToken", audit="GetFederationToken", inputs=(
    text("Name", 2, 32, r"[\w+=,.@-]*").required(), FEDERATION_POLICY, POLICY_ARNS, DURATION, SESSION_TAGS))
async def get_federation_token(q: QueryRequest) -> Result:
    session = await sts.get_federation_token(q.call, q.input.required("Name"), q.input.integer("DurationSeconds"),
                                             _session_policy(q), _session_tags(q)[0])
    return {"Credentials": _credentials(session.credentials),
            "FederatedUser": {"FederatedUserId": session.federated_user_id, "Arn": session.arn},
            "PackedPolicySize": session.packed_policy_size}


@STS.operation("DecodeAuthorizationMessage", action="sts:DecodeAuthorizationMessage",
               audit="DecodeAuthorizationMessage", inputs=(
    text("EncodedMessage", 1, 10240).required(),))
async def decode_authorization_message(q: QueryRequest) -> Result:
    return {"DecodedMessage": await sts_decode.decode_authorization_message(q.call, q.input.required("EncodedMessage"))}


@STS.operation("GetScopedCredentials", action="sts:GetScopedCredentials", audit="GetScopedCredentials", inputs=(
    FEDERATION_POLICY, integer("DurationSeconds", 1, 129600), MINIMUM_TOKEN_SIZE,
    text("ScopedSessionDescription", 2, 256, r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*")))
async def get_scoped_credentials(q: QueryRequest) -> Result:
    scoped = await sts_scoped.get_scoped_credentials(q.call, q.input.text("Policy"), q.input.integer("DurationSeconds"),
                                                     q.input.text("ScopedSessionDescription"))
    result: dict[str, XmlValue] = {"Credentials": _credentials(scoped.credentials),
                                   "SessionInfo": {"ScopedSessionId": scoped.scoped_session_id, "Arn": scoped.arn},
                                   "SessionTokenSize": len(scoped.credentials.session_token),
                                   "ScopedPoliciesCount": scoped.scoped_policies}
    if scoped.source_identity is not None:
        result["SourceIdentity"] = scoped.source_identity
    return result


@STS.operation("AssumeRoot", action="sts:AssumeRoot", audit="AssumeRoot", inputs=(
    text("TargetPrincipal", 12, 2048).required(), structure("TaskPolicyArn").required(),
    integer("DurationSeconds", 0, 900), MINIMUM_TOKEN_SIZE))
async def assume_root(q: QueryRequest) -> Result:
    await sts_root.assume_root(q.call, q.input.required("TargetPrincipal"),
                               q.input.struct("TaskPolicyArn").get("arn", ""))
    return None  # not reached: there are no organizations yet


@STS.operation("GetWebIdentityToken", action="sts:GetWebIdentityToken", audit="GetWebIdentityToken", inputs=(
    replace(string_list("Audience", 10), min=1).required(), integer("DurationSeconds", 60, 3600),
    text("SigningAlgorithm", 5, 5).required(),
    text("Scope", 1, 256, r"[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]+( [\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]+)*"),
    enum("SubjectMode", "AWSIdentity", "OriginIdentity"), structure_list("Tags", 50)))
async def get_web_identity_token(q: QueryRequest) -> Result:
    token = await outbound_federation.get_web_identity_token(q.call, outbound_federation.TokenRequest(
        audiences=tuple(q.input.strings("Audience")), algorithm=q.input.required("SigningAlgorithm"),
        duration=q.input.integer("DurationSeconds"), scope=q.input.text("Scope"),
        subject_mode=q.input.text("SubjectMode"),
        tags=tuple((t.get("Key", ""), t.get("Value", "")) for t in q.input.structs("Tags"))))
    return {"WebIdentityToken": token.token, "Expiration": Timestamp(token.expires_at)}


@STS.operation("AssumeRoleWithWebIdentity", action=None, audit="AssumeRoleWithWebIdentity", signed=False, inputs=(
    text("RoleArn", 20, 2048, ROLE_ARN_PATTERN).required(), text("RoleSessionName", 2, 64, r"[\w+=,.@-]*").required(),
    text("WebIdentityToken", 4, 20000).required().sensitive(), text("ProviderId", 4, 2048), POLICY_ARNS,
    FEDERATION_POLICY, integer("DurationSeconds", 900, 43200), MINIMUM_TOKEN_SIZE))
async def assume_role_with_web_identity(q: QueryRequest) -> Result:
    session = await web_identity.assume_role_with_web_identity(q.deps, q.client, web_identity.WebIdentityRequest(
        role_arn=q.input.required("RoleArn"), session_name=q.input.required("RoleSessionName"),
        token=q.input.required("WebIdentityToken"), policy=_session_policy(q),
        duration=q.input.integer("DurationSeconds"), provider_id=q.input.text("ProviderId")), secure=q.secure)
    result: dict[str, XmlValue] = {
        "Credentials": _credentials(session.credentials), "SubjectFromWebIdentityToken": session.subject,
        "AssumedRoleUser": {"AssumedRoleId": session.assumed_role_id, "Arn": session.arn},
        "PackedPolicySize": session.packed_policy_size, "Provider": session.provider, "Audience": session.audience}
    if session.source_identity is not None:
        result["SourceIdentity"] = session.source_identity
    return result


@STS.operation("AssumeRoleWithSAML", action=None, audit="AssumeRoleWithSAML", signed=False, inputs=(
    text("RoleArn", 20, 2048, ROLE_ARN_PATTERN).required(), text("PrincipalArn", 20, 2048, ROLE_ARN_PATTERN).required(),
    text("SAMLAssertion", 4, 100000).required().sensitive(), POLICY_ARNS, FEDERATION_POLICY,
    integer("DurationSeconds", 900, 43200), MINIMUM_TOKEN_SIZE))
async def assume_role_with_saml(q: QueryRequest) -> Result:
    try:
        session = await federation_saml.assume_role_with_saml(q.deps, q.client, federation_saml.SamlRequest(
            role_arn=q.input.required("RoleArn"), principal_arn=q.input.required("PrincipalArn"),
            saml_assertion=q.input.required("SAMLAssertion"), policy=_session_policy(q),
            duration=q.input.integer("DurationSeconds")), secure=q.secure)
    except FederationFailure as failure:
        # the response's own error status: botocore's model names it IDPRejectedClaim ("the IdP reported that
        # authentication failed"); IDPCommunicationError is not among this operation's errors
        if failure.cause is Cause.IDP_ERROR:
            raise IDPRejectedClaim(str(failure)) from None
        raise
    result: dict[str, XmlValue] = {
        "Credentials": _credentials(session.credentials),
        "AssumedRoleUser": {"AssumedRoleId": session.assumed_role_id, "Arn": session.arn},
        "PackedPolicySize": session.packed_policy_size, "Subject": session.subject,
        "SubjectType": session.subject_type, "Issuer": session.issuer, "Audience": session.audience,
        "NameQualifier": session.name_qualifier}
    if session.source_identity is not None:
        result["SourceIdentity"] = session.source_identity
    return result
