"""Console credentials for the command line (`vestibule login`): a root or IAM user signed in to the console
approves "allow the command line on this computer to act as you"; the CLI redeems the authorization code (PKCE
S256) with a DPoP proof (RFC 9449) of a P-256 key it made, and receives temporary STS credentials of that user
(15 minutes at most, never past the login session) and a refresh token bound to that key. botocore's login
credential provider then refreshes them itself through the signin service's CreateOAuth2Token.

A login session is a row of the `sessions` table of kind `cli` (its token is never handed out: nothing can use
it as a browser cookie), so everything that ends a user's sessions (a password change, sign-out everywhere, a
deleted user or login profile, account recovery) ends it too; removing an MFA device and BatchRevokeSessions end
it as well. Ending one publishes it on the invalidation bus and the credentials issued for it stop working on
every node at the next request.

CONTRACT (lead, session 2026-12-03): the signatures and dataclasses below are what the wire
(`wire/rest_json/signin.py`), the pages (`web/console/cli_login.py`, the security page) and the tests code
against. Bodies are filled by the service helper; change a signature only by telling the lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import VestibuleError
from .api_call import ApiCall
from .context import Client, Deps
from .principals import Principal
from .sessions import SignedInSession

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
CLIENT_IDS = (SAME_DEVICE, CROSS_DEVICE)
ACCESS_LIFETIME = 900  # seconds of each issued set of credentials (the model's ExpiresIn maximum)
REQUEST_LIFETIME = 600  # a pending authorization request
CODE_LIFETIME = 300  # an authorization code
AUTHORIZE_ACTION = "signin:AuthorizeOAuth2Access"  # checked when the user allows (policy can forbid CLI login)
REFRESH_ACTION = "signin:CreateOAuth2Token"  # checked again at every refresh (INSUFFICIENT_PERMISSIONS)
CROSS_DEVICE_REDIRECT_PATH = "/v1/authorize/code"  # cross-device: the page that shows the code to paste

Reason = Literal["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "INSUFFICIENT_PERMISSIONS", "AUTHCODE_EXPIRED",
                 "invalid_grant", "invalid_request", "invalid_client"]


class LoginRefused(VestibuleError):
    """CreateOAuth2Token refused. `reason` is the model's OAuth2ErrorCode the wire answers in `error`:
    TOKEN_EXPIRED (the login session reached its end), USER_CREDENTIALS_CHANGED (revoked: password change, MFA
    removal, administrator, reused refresh token, deleted user), INSUFFICIENT_PERMISSIONS (policy now denies
    signin:CreateOAuth2Token), AUTHCODE_EXPIRED, invalid_grant (unknown or used code, wrong verifier or redirect
    URI, unknown refresh token), invalid_request (missing members, a bad DPoP proof), invalid_client."""

    code = "signin.refused"

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message


class SessionNotFound(VestibuleError):
    """GetSession / BatchRevokeSessions: no such session for that principal in the caller's account (another
    account's session is reported the same way)."""

    code = "signin.session_not_found"


@dataclass(frozen=True)
class LoginRequest:
    """A pending `GET /v1/authorize`, as the confirmation page shows it."""

    id: str  # opaque; travels in the confirmation form
    client_id: str  # SAME_DEVICE or CROSS_DEVICE
    cross_device: bool
    redirect_uri: str
    requested_from_ip: str
    requested_at: float
    expires_at: float


@dataclass(frozen=True)
class LoginDecision:
    allowed: bool
    redirect_to: str | None  # same device: the loopback redirect_uri with code and state (or error=access_denied)
    code: str | None  # cross device, allowed: the code the user pastes into the terminal


@dataclass(frozen=True)
class LoginTokens:
    """CreateOAuth2Token's answer."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_in: int  # seconds, at most ACCESS_LIFETIME and never past the login session
    refresh_token: str
    account_id: str
    principal_arn: str
    session_arn: str


@dataclass(frozen=True)
class SessionInfo:
    """A login session (kind "cli") or a console session (kind "console"), for ListSessions/GetSession and the
    console's security page."""

    session_arn: str  # arn:aws:signin::<account>:session/<public id>
    principal_arn: str
    kind: Literal["cli", "console"]
    status: Literal["ACTIVE", "REVOKED"]
    client_id: str | None  # cli sessions: SAME_DEVICE or CROSS_DEVICE
    issued_at: float
    expires_at: float
    last_used_at: float
    client_ip: str
    user_agent: str
    issued_in_region: str | None
    current: bool = False  # the security page: the browser session showing the page


async def begin(deps: Deps, client: Client, *, response_type: str, client_id: str, redirect_uri: str, state: str,
                code_challenge: str, code_challenge_method: str) -> LoginRequest:
    """`GET /v1/authorize`: a pending request. `core.oauth` errors: InvalidClient (not one of CLIENT_IDS),
    InvalidRedirectUri (same device: not a loopback http URI; cross device: not <public url>/v1/authorize/code),
    InvalidRequest (response_type not `code`, method not S256, malformed challenge or state). Throttled per
    address like every anonymous request that stores a row (TooManyAttempts)."""
    raise NotImplementedError


async def pending(deps: Deps, request_id: str) -> LoginRequest:
    """The pending request (for the confirmation page); core.oauth InvalidGrant when unknown or decided,
    ExpiredToken once expired."""
    raise NotImplementedError


async def decide(deps: Deps, client: Client, signed_in: SignedInSession, request_id: str,
                 allow: bool) -> LoginDecision:
    """Allow or Deny by a root or IAM user signed in to the console (role sessions: PermissionDenied). Allow
    checks AUTHORIZE_ACTION against the user's policies (root: always); PermissionDenied with a message the page
    shows when policy forbids it. Single use (InvalidGrant the second time). Audited (`AuthorizeOAuth2Access`)."""
    raise NotImplementedError


async def create_token(deps: Deps, client: Client, *, client_id: str, grant_type: str, code: str | None,
                       redirect_uri: str | None, code_verifier: str | None, refresh_token: str | None,
                       dpop: str | None, urls: Sequence[str]) -> LoginTokens:
    """CreateOAuth2Token (`authorization_code` or `refresh_token`). `dpop` is the DPoP header; `urls` the
    request's own URLs without query (public origin + path, and the scheme and Host it arrived on), one of which
    the proof's `htu` must name. The code grant creates the login session bound to the proof's key; a refresh
    must be signed by that key, rotates the refresh token (a reuse after the grace revokes the session) and
    checks the user again. Raises LoginRefused."""
    raise NotImplementedError


async def list_sessions(call: ApiCall, *, principal_arn: str | None, max_results: int | None,
                        next_token: str | None, status: str | None, client_id: str | None,
                        issued_after: int | None, issued_before: int | None
                        ) -> tuple[list[SessionInfo], str | None]:
    """ListSessions: the caller's own sessions (principal_arn omitted), one user's or the root's, or the whole
    account's (`arn:aws:iam::<account>:*`). Another principal's sessions need `signin:ListSessions`
    (PermissionDenied); times are epoch milliseconds. (items, next token)."""
    raise NotImplementedError


async def get_session(call: ApiCall, *, session_arn: str, principal_arn: str | None) -> SessionInfo:
    """GetSession; SessionNotFound when it is not that principal's (or the caller's) in this account."""
    raise NotImplementedError


async def batch_revoke(call: ApiCall, *, session_arns: Sequence[str], principal_arn: str | None,
                       reason: str | None) -> tuple[list[str], list[tuple[str, str, str]]]:
    """BatchRevokeSessions (1 to 5 ARNs): (revoked ARNs, [(ARN, code, message)] for those that could not be).
    Revoking an already revoked session succeeds. One's own sessions need no permission (`vestibule logout`);
    another principal's need `signin:BatchRevokeSessions`. Audited per session."""
    raise NotImplementedError


async def sessions_of(deps: Deps, signed_in: SignedInSession) -> list[SessionInfo]:
    """The security page: the signed-in user's live login and console sessions, newest first."""
    raise NotImplementedError


async def end_session(deps: Deps, client: Client, signed_in: SignedInSession, session_arn: str) -> None:
    """The security page's End button: one of the user's own sessions (SessionNotFound otherwise). Audited."""
    raise NotImplementedError


async def end_for_principal(deps: Deps, principal: Principal, reason: str) -> int:
    """Ends every login session (kind cli) of `principal` (an MFA device removed); the count."""
    raise NotImplementedError
