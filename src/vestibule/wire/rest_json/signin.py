"""The sign-in service (`signin`, REST-JSON): CreateOAuth2Token (`POST /v1/token`, unsigned, with a DPoP proof)
gives the CLI temporary credentials of a console user and refreshes them (`vestibule login`, botocore's login
credential provider); ListSessions, GetSession and BatchRevokeSessions (SigV4) show and end login and console
sessions. Every error is `{"__type", "error": <OAuth2ErrorCode>, "message"}` (errors.SIGNIN_ERRORS); botocore
raises the model's exception with `e.response["error"]` set, which its login provider reads.

Times are Unix epoch seconds, as the model documents them. The other operations of the model are not served
(UNSERVED); three of them share `POST /v1/token` and are told apart by a query parameter (QUERY_NAMED): such a
request is refused as an unknown operation, never answered as CreateOAuth2Token."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ...services import cli_login, signin_sessions
from ...services.api_call import ApiCall
from ...services.signin_sessions import SessionInfo
from ..json_values import JsonObject, JsonValue
from ..members import Member, enum, integer, text, violation
from .errors import ValidationException
from .request import RestRequest, RestTable

SIGNIN: RestTable = RestTable()

# CreateOAuth2Token's siblings on `POST /v1/token`: the query parameter that names each (not served).
QUERY_NAMED: Mapping[str, str] = {
    "x-amz-token-request-type": "CreateBearerToken",
    "x-amz-client-auth-method": "CreateOAuth2TokenWithIAM",
    "x-amz-oauth-token-method": "CreateOAuth2TokenWithTokenExchange",
}

_IAM_ONLY = "Vestibule's sign-in service serves the CLI login and its sessions only"
UNSERVED: Mapping[str, str] = {
    "CreateBearerToken": "bearer tokens for other AWS services: no such service here",
    "CreateOAuth2TokenWithIAM": "OAuth tokens scoped to AWS resources: no such resource here",
    "CreateOAuth2TokenWithTokenExchange": "token exchange for AWS resources: no such resource here",
    "IntrospectOAuth2TokenWithIAM": "introspects the tokens of the operations above, which are not served",
    "RevokeOAuth2TokenWithIAM": "revokes the tokens of the operations above; BatchRevokeSessions ends a login",
    "GetResourcePolicy": _IAM_ONLY + " (no sign-in resource policies)",
    "ListResourcePermissionStatements": _IAM_ONLY + " (no sign-in resource policies)",
    "PutResourcePermissionStatement": _IAM_ONLY + " (no sign-in resource policies)",
    "DeleteResourcePermissionStatement": _IAM_ONLY + " (no sign-in resource policies)",
    "GetConsoleAuthorizationConfiguration": _IAM_ONLY + " (console authorization is IAM policy here)",
    "PutConsoleAuthorizationConfiguration": _IAM_ONLY + " (console authorization is IAM policy here)",
    "DeleteConsoleAuthorizationConfiguration": _IAM_ONLY + " (console authorization is IAM policy here)",
}

_PRINCIPAL_FILTER = (
    "arn:aws:((iam::[0-9]{12}:role/[a-zA-Z0-9_+=,.@-]{1,64})|(iam::[0-9]{12}:user/[a-zA-Z0-9_+=,.@-]{1,64})|"
    "(sts::[0-9]{12}:federated-user/[a-zA-Z0-9_+=,.@-]{2,193})|(iam::[0-9]{12}:root)|(iam::[0-9]{12}:[*]))")
_PRINCIPAL = text("principalArn", 20, 2048, _PRINCIPAL_FILTER)
_SESSION_ARN_MAX = 256
_DPOP_MAX = 4096  # a proof with a P-256 JWK is about 600 characters
_JWT_CHARS = re.compile(r"[A-Za-z0-9_\-.=]+")  # base64url segments and their dots (padding tolerated)
_LONG_MAX = 2**63 - 1
# epoch seconds a filter is clamped to (year 1970 to 5138): the same sessions match, and the value stays a
# number every database binds
_FILTER_RANGE = (0, 10**11)


@SIGNIN.operation("CreateOAuth2Token", action=None, audit="CreateOAuth2Token", signed=False,
                  http=("POST", "/v1/token"),
                  inputs=(text("clientId", pattern="arn:aws:signin:::devtools/(cross-device|same-device)").required(),
                          text("grantType", pattern="(authorization_code|refresh_token)").required(),
                          text("code", 1, 512), text("redirectUri", 1, 2048),
                          text("codeVerifier", 43, 128, "[A-Za-z0-9\\-._~]+"),
                          text("refreshToken", 1, 12288).sensitive()))
async def create_oauth2_token(r: RestRequest) -> JsonObject:
    """The body is the model's `tokenInput` and the answer its `tokenOutput` (both payload members). Beyond the
    model, the answer names the account, the principal and the login session (`accountId`, `principalArn`,
    `sessionArn`): botocore ignores them; `vestibule login` writes them to its cache file."""
    i = r.input
    tokens = await cli_login.create_token(
        r.deps, r.client, client_id=i.required("clientId"), grant_type=i.required("grantType"), code=i.text("code"),
        redirect_uri=i.text("redirectUri"), code_verifier=i.text("codeVerifier"),
        refresh_token=i.text("refreshToken"), dpop=_dpop(r), urls=r.urls)
    return {"accessToken": {"accessKeyId": tokens.access_key_id, "secretAccessKey": tokens.secret_access_key,
                            "sessionToken": tokens.session_token},
            "tokenType": "aws_sigv4", "expiresIn": tokens.expires_in, "refreshToken": tokens.refresh_token,
            "accountId": tokens.account_id, "principalArn": tokens.principal_arn, "sessionArn": tokens.session_arn}


def _dpop(r: RestRequest) -> str | None:
    """The request's one DPoP header (RFC 9449 4.3: exactly one), checked for shape only; the use case checks
    the proof. None when absent (the use case refuses that)."""
    values = [value for name, value in r.headers if name == "dpop"]
    if not values:
        return None
    if len(values) > 1:
        raise ValidationException("A request carries one DPoP header, not several.", "invalid_request")
    proof = values[0].strip()
    if len(proof) > _DPOP_MAX or not _JWT_CHARS.fullmatch(proof) or proof.count(".") != 2:
        raise ValidationException("The DPoP header is not a JWT (three base64url segments).", "invalid_request")
    return proof


@SIGNIN.operation("ListSessions", action="signin:ListSessions", signed=True, http=("POST", "/list-sessions"),
                  inputs=(_PRINCIPAL, integer("maxResults", 1, 100), text("nextToken", 0, 2048, "[-a-zA-Z0-9+=/_]*"),
                          enum("status", "ACTIVE", "REVOKED"), text("clientId"), integer("issuedAfter"),
                          integer("issuedBefore")))
async def list_sessions(r: RestRequest) -> JsonObject:
    i = r.input
    after, before = _epoch(i.integer("issuedAfter"), "issuedAfter"), _epoch(i.integer("issuedBefore"), "issuedBefore")
    items, next_token = await signin_sessions.list_sessions(
        _call(r), principal_arn=i.text("principalArn"), max_results=i.integer("maxResults"),
        next_token=i.text("nextToken") or None, status=i.text("status"), client_id=i.text("clientId"),
        issued_after=None if after is None else after * 1000, issued_before=None if before is None else before * 1000)
    reply: dict[str, JsonValue] = {"items": [_summary(s) for s in items]}
    if next_token:
        reply["nextToken"] = next_token
    return reply


@SIGNIN.operation("GetSession", action="signin:GetSession", signed=True, http=("POST", "/get-session"),
                  inputs=(text("sessionArn", 1, _SESSION_ARN_MAX).required(), _PRINCIPAL))
async def get_session(r: RestRequest) -> JsonObject:
    i = r.input
    found = await signin_sessions.get_session(_call(r), session_arn=i.required("sessionArn"),
                                              principal_arn=i.text("principalArn"))
    reply = dict(_summary(found))
    reply["lastUsedAt"] = int(found.last_used_at)
    if found.issued_in_region:
        reply["issuedInRegion"] = found.issued_in_region
    if found.user_agent:
        reply["userAgent"] = found.user_agent
    return reply


@SIGNIN.operation("BatchRevokeSessions", action="signin:BatchRevokeSessions", audit="BatchRevokeSessions",
                  signed=True, http=("POST", "/batch-revoke-sessions"),
                  inputs=(_PRINCIPAL, Member("sessionArns", "list", 1, 5).required(), text("reason", 1, 256)))
async def batch_revoke_sessions(r: RestRequest) -> JsonObject:
    i = r.input
    arns = i.strings("sessionArns") or []
    problems = [violation(f"sessionArns.{n}.member",
                          f"Member must have length between 1 and {_SESSION_ARN_MAX}", None)
                for n, arn in enumerate(arns, 1) if not 1 <= len(arn) <= _SESSION_ARN_MAX]
    if problems:
        count = len(problems)
        raise ValidationException(f"{count} validation error{'' if count == 1 else 's'} detected: "
                                  + "; ".join(problems))
    revoked, failed = await signin_sessions.batch_revoke(
        _call(r), session_arns=arns, principal_arn=i.text("principalArn"), reason=i.text("reason"))
    return {"revokedSessions": [{"sessionArn": arn} for arn in revoked],
            "errors": [{"sessionArn": arn, "code": code, "message": message} for arn, code, message in failed]}


def _call(r: RestRequest) -> ApiCall:
    assert r.call is not None, "a signed operation runs with its API call"
    return r.call


def _epoch(value: int | None, name: str) -> int | None:
    """A Long filter in epoch seconds, clamped to _FILTER_RANGE; outside a Long: a validation error."""
    if value is None:
        return None
    if not -_LONG_MAX - 1 <= value <= _LONG_MAX:
        raise ValidationException(f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                                  "constraint: Member must be a 64-bit integer")
    low, high = _FILTER_RANGE
    return min(max(value, low), high)


def _summary(s: SessionInfo) -> dict[str, JsonValue]:
    """The model's `Session` (ListSessions items; GetSession adds to it)."""
    shown: dict[str, JsonValue] = {"sessionArn": s.session_arn, "principalArn": s.principal_arn, "status": s.status,
                                   "issuedAt": int(s.issued_at), "expiresAt": int(s.expires_at)}
    if s.kind == "cli":
        shown["clientType"] = "CLI"
        if s.client_id:
            shown["clientId"] = s.client_id
    return shown
