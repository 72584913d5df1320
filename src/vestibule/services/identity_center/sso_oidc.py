"""SSO-OIDC for the command line: client registration, the device authorization grant (RFC 8628), the
authorization code grant with PKCE (RFC 7636), refresh tokens that rotate, and the bearer tokens the SSO portal
API accepts. Every token is random and stored hashed; an access token is bound to the access portal session
that approved it and dies with it (sign-out, Logout, expiry), and never outlives it.

CONTRACT (lead, session 2026-12-02c): the signatures and dataclasses below are what the wire (`wire/rest_json/
sso_oidc.py`, `sso_portal.py`), the approval pages (`web/device/`) and the tests code against. Bodies are
filled by the service helper; change a signature only by telling the lead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...errors import VestibuleError
from ..context import Client, Deps
from ..signin.portal import PortalSession


class InvalidBearerToken(VestibuleError):
    """Unknown, expired or revoked access token, or its portal session ended (the SSO portal's 401)."""

    code = "sso.invalid_token"


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str  # shown once; only its hash is stored
    client_id_issued_at: int  # epoch seconds
    client_secret_expires_at: int  # epoch seconds: 90 days after registration


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str  # as shown: ABCD-EFGH
    verification_uri: str  # <public url>/device
    verification_uri_complete: str  # <public url>/device?user_code=ABCD-EFGH
    expires_in: int
    interval: int


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    token_type: str  # "Bearer"
    expires_in: int
    refresh_token: str | None  # only for clients registered with the refresh_token grant


@dataclass(frozen=True)
class PendingApproval:
    """What the approval page shows and decides on."""

    id: str  # opaque ID of the pending grant (travels in the approval form)
    kind: Literal["device", "code"]
    client_name: str
    scopes: tuple[str, ...]
    requested_from_ip: str
    requested_at: float  # epoch seconds
    expires_at: float
    identity_store_id: str  # the portal the user must be signed in to
    portal_name: str  # its path name: `/portal/<portal_name>/start`
    user_code: str | None  # device grants: ABCD-EFGH


@dataclass(frozen=True)
class Decision:
    allowed: bool
    redirect_to: str | None  # code grants: redirect_uri with code and state (or error=access_denied); else None


@dataclass(frozen=True)
class BearerSession:
    portal: PortalSession  # the approving user's live portal session (user, instance, principal)
    token_id: str


async def register_client(deps: Deps, client: Client, *, client_name: str, client_type: str,
                          scopes: list[str] | None, grant_types: list[str] | None, redirect_uris: list[str] | None,
                          issuer_url: str | None) -> RegisteredClient:
    """RegisterClient. `client_type` must be "public"; InvalidClientMetadata, InvalidScope, InvalidRedirectUri
    (only `http://127.0.0.1[:port]/...` or `http://localhost...` loopback URIs) otherwise."""
    raise NotImplementedError


async def start_device_authorization(deps: Deps, client: Client, *, client_id: str, client_secret: str,
                                     start_url: str) -> DeviceAuthorization:
    """StartDeviceAuthorization. InvalidClient for a bad client; InvalidRequest when `start_url` names no
    active access portal of this server (`<public url>/portal/<name>/start`, with or without a trailing part)."""
    raise NotImplementedError


async def create_token(deps: Deps, client: Client, *, client_id: str, client_secret: str, grant_type: str,
                       device_code: str | None = None, code: str | None = None, redirect_uri: str | None = None,
                       code_verifier: str | None = None, refresh_token: str | None = None,
                       scope: list[str] | None = None) -> IssuedToken:
    """CreateToken for `urn:ietf:params:oauth:grant-type:device_code`, `authorization_code` and `refresh_token`.
    Raises the `core.oauth` errors: AuthorizationPending, SlowDown (polled faster than the interval; the interval
    grows by 5 s), ExpiredToken, AccessDenied, InvalidGrant (unknown or reused code; a reused refresh token also
    revokes its whole family), InvalidClient, UnsupportedGrantType, UnauthorizedClient, InvalidRequest."""
    raise NotImplementedError


async def pending_device(deps: Deps, client: Client, user_code: str) -> PendingApproval:
    """The pending device grant for a typed user code (any case, dash optional). Throttled per client address
    (TooManyAttempts); InvalidGrant for an unknown, used or malformed code; ExpiredToken once expired."""
    raise NotImplementedError


async def begin_authorization(deps: Deps, client: Client, *, response_type: str, client_id: str,
                              redirect_uri: str, state: str, code_challenge: str, code_challenge_method: str,
                              scopes: list[str]) -> PendingApproval:
    """The unmodelled `GET /authorize` of the PKCE flow: a pending code grant. InvalidClient, InvalidRedirectUri
    (not loopback, or not registered apart from the port), InvalidRequest (response_type not `code`, method not
    S256, malformed challenge), InvalidScope. The portal is the one named by the client's `issuerUrl`."""
    raise NotImplementedError


async def approval(deps: Deps, approval_id: str) -> PendingApproval:
    """A pending grant by its ID (for the confirm page after sign-in); InvalidGrant when gone or decided,
    ExpiredToken once expired."""
    raise NotImplementedError


async def decide(deps: Deps, client: Client, signed_in: PortalSession, approval_id: str,
                 allow: bool) -> Decision:
    """Allow or Deny, by a user signed in to the grant's portal (PermissionDenied for another portal's session).
    Single use: a second decision raises InvalidGrant. Audited (`AuthorizeDevice` / `AuthorizeClient`)."""
    raise NotImplementedError


async def bearer(deps: Deps, token: str) -> BearerSession:
    """The live session behind an access token; InvalidBearerToken otherwise."""
    raise NotImplementedError


async def logout(deps: Deps, client: Client, token: str) -> None:
    """Logout: revokes the access token, its refresh token family and the portal session behind it;
    InvalidBearerToken when the token is not live."""
    raise NotImplementedError
