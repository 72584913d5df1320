"""SSO-OIDC for the command line: client registration, the device authorization grant (RFC 8628), the
authorization code grant with PKCE (RFC 7636), refresh tokens that rotate, and the bearer tokens the SSO portal
API accepts. Every token is random and stored hashed; an access token is bound to the access portal session
that approved it and dies with it (sign-out, Logout, expiry), and never outlives it.

CONTRACT (lead, session 2026-12-02c): the signatures and dataclasses below are what the wire (`wire/rest_json/
sso_oidc.py`, `sso_portal.py`), the approval pages (`web/device/`) and the tests code against. Bodies are
filled by the service helper; change a signature only by telling the lead."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from ...core import oauth
from ...core.oauth import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidClient,
    InvalidClientMetadata,
    InvalidGrant,
    InvalidRedirectUri,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    SlowDown,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from ...core.principals import PrincipalRef
from ...core.throttle import Scope, ThrottleKey, wait_without_captcha
from ...core.tokens import hash_token, new_token, same
from ...errors import PermissionDenied, TooManyAttempts, VestibuleError
from ...store.models import DirectoryUser as UserRow
from ...store.models import OidcClient, OidcGrant, OidcToken, SsoInstance
from ...store.models import Session as SessionRow
from ...store.repositories import Conflict, UnitOfWork
from ...store.sql import sso_oidc as oidc_rows
from ...store.sql.sso_oidc import ALLOWED, DENIED, PENDING, USED
from .. import audit, metrics, sessions
from ..context import Client, Deps
from ..invalidation import SESSION
from ..signin import portal
from ..signin.portal import PortalSession
from . import directory, instances
from .directory import DirectoryUser
from .instances import Instance


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


_MAX_NAME = 128
_MAX_REDIRECT_URIS = 10
_MAX_URI = 2048
_MAX_STATE = 2048


def _unit_result(outcome: IssuedToken | OAuthError) -> IssuedToken:
    """A token, or the error decided inside a unit that had to commit first (a poll's time, a burnt code, a
    revoked family)."""
    if isinstance(outcome, OAuthError):
        raise outcome
    return outcome


async def _portal_of_url(uow: UnitOfWork, deps: Deps, url: str, member: str) -> Instance:
    name = oauth.portal_name_in(url, deps.settings.public_origin)
    instance = await instances.by_portal_name(uow, name) if name and len(name) <= 63 else None
    if instance is None or instance.status != "ACTIVE":
        raise InvalidRequest(f"{member} does not name an access portal of this server "
                             f"({deps.settings.public_origin}/portal/<name>/start).")
    return instance


def _portal_name(instance: Instance) -> str:
    return instance.settings.portal_subdomain or instance.identity_store_id


async def register_client(deps: Deps, client: Client, *, client_name: str, client_type: str,
                          scopes: list[str] | None, grant_types: list[str] | None, redirect_uris: list[str] | None,
                          issuer_url: str | None) -> RegisteredClient:
    """RegisterClient. `client_type` must be "public"; InvalidClientMetadata, InvalidScope, InvalidRedirectUri
    (only `http://127.0.0.1[:port]/...` or `http://localhost...` loopback URIs) otherwise."""
    if client_type != "public":
        raise InvalidClientMetadata("clientType must be public.")
    name = client_name.strip()
    if not name or len(name) > _MAX_NAME or not name.isprintable():
        raise InvalidClientMetadata(f"clientName must be 1 to {_MAX_NAME} printable characters.")
    wanted_scopes = list(dict.fromkeys(scopes or []))
    unknown = [s for s in wanted_scopes if s not in oauth.SCOPES]
    if unknown:
        raise InvalidScope(f"Unknown scope: {unknown[0][:64]}. This server offers {', '.join(sorted(oauth.SCOPES))}.")
    grants = list(dict.fromkeys(grant_types or oauth.DEFAULT_GRANT_TYPES))
    unsupported = [g for g in grants if g not in oauth.GRANT_TYPES]
    if unsupported:
        raise UnsupportedGrantType(f"Unsupported grant type: {unsupported[0][:128]}.")
    uris = list(dict.fromkeys(redirect_uris or []))
    if len(uris) > _MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"At most {_MAX_REDIRECT_URIS} redirect URIs.")
    for uri in uris:
        if len(uri) > _MAX_URI or not oauth.is_loopback_redirect(uri):
            raise InvalidRedirectUri("Redirect URIs must be loopback http URIs (http://127.0.0.1[:port]/...).")
    if oauth.AUTHORIZATION_CODE_GRANT in grants and not uris:
        raise InvalidRedirectUri("The authorization_code grant needs at least one redirect URI.")
    if oauth.AUTHORIZATION_CODE_GRANT not in grants and uris:
        raise InvalidClientMetadata("redirectUris are only for the authorization_code grant.")
    await _admit_request(deps, client)
    now = deps.clock()
    client_id, secret = new_token()[:32], new_token()
    expires = now + oauth.CLIENT_SECRET_LIFETIME
    async with deps.store.unit() as uow:
        instance = await _portal_of_url(uow, deps, issuer_url, "issuerUrl") if issuer_url else None
        await uow.oidc_clients.add(OidcClient(
            id=client_id, secret_hash=hash_token(secret), name=name, client_type=client_type, scopes=wanted_scopes,
            grant_types=grants, redirect_uris=uris, identity_store_id=instance.identity_store_id if instance else None,
            registered_from_ip=client.ip[:64], created_at=now, secret_expires_at=expires))
        await audit.record(uow, at=now, event="RegisterClient", result="Success", client=client,
                           account_id=instance.owner_account_id if instance else None, client_id=client_id,
                           client_name=name, grant_types=grants, scopes=wanted_scopes)
    return RegisteredClient(client_id, secret, int(now), int(expires))


def request_keys(client: Client) -> list[ThrottleKey]:
    """The budget of anonymous requests that store a row (registrations, device and PKCE requests), per address."""
    return [ThrottleKey(Scope.REQUESTS, f"sso-oidc:{client.ip}")]


async def _admit_request(deps: Deps, client: Client) -> None:
    """Each such request counts (none is given back): TooManyAttempts (SlowDownException, a 429 page) with the
    true wait once an address has made too many in the hour."""
    keys, now = request_keys(client), deps.clock()
    refused = await deps.throttle.reserve(keys, now, captcha_solved=False)
    metrics.record_throttle("request", "allowed" if refused is None else "delayed")
    if refused is not None:
        raise TooManyAttempts(max(1, wait_without_captcha(keys, await deps.throttle.states(keys, now), now)))


async def _authenticated(uow: UnitOfWork, client_id: str, client_secret: str, now: float) -> OidcClient:
    app = await uow.oidc_clients.get(client_id) if client_id else None
    if app is None or not same(hash_token(client_secret), app.secret_hash):
        raise InvalidClient("Unknown client or wrong client secret.")
    if now >= app.secret_expires_at:
        raise InvalidClient("The client's registration has expired; register it again.")
    return app


async def start_device_authorization(deps: Deps, client: Client, *, client_id: str, client_secret: str,
                                     start_url: str) -> DeviceAuthorization:
    """StartDeviceAuthorization. InvalidClient for a bad client; InvalidRequest when `start_url` names no
    active access portal of this server (`<public url>/portal/<name>/start`, with or without a trailing part)."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        app = await _authenticated(uow, client_id, client_secret, now)
        if oauth.DEVICE_CODE_GRANT not in app.grant_types:
            raise UnauthorizedClient("The client was not registered for the device_code grant.")
        instance = await _portal_of_url(uow, deps, start_url, "startUrl")
        if app.identity_store_id is not None and app.identity_store_id != instance.identity_store_id:
            raise InvalidRequest("startUrl names another access portal than the client's issuerUrl.")
    await _admit_request(deps, client)
    device_code = new_token()
    for _ in range(5):  # a user code already taken (about one in 25 billion per live code): draw again
        user_code = oauth.new_user_code()
        try:
            async with deps.store.unit() as uow:
                await uow.oidc_grants.add(OidcGrant(
                    id=new_token(), kind="device", status=PENDING, client_id=app.id,
                    identity_store_id=instance.identity_store_id, scopes=list(app.scopes),
                    device_code_hash=hash_token(device_code), user_code=oauth.normalize_user_code(user_code),
                    interval=oauth.POLL_INTERVAL, requested_from_ip=client.ip[:64], requested_at=now,
                    expires_at=now + oauth.DEVICE_CODE_LIFETIME))
                await audit.record(uow, at=now, event="StartDeviceAuthorization", result="Success", client=client,
                                   account_id=instance.owner_account_id, client_id=app.id, client_name=app.name)
            break
        except Conflict:
            continue
    else:
        raise RuntimeError("no free user code in 5 draws")
    verification = f"{deps.settings.public_origin}/device"
    return DeviceAuthorization(device_code, user_code, verification, f"{verification}?user_code={user_code}",
                               oauth.DEVICE_CODE_LIFETIME, oauth.POLL_INTERVAL)


async def create_token(deps: Deps, client: Client, *, client_id: str, client_secret: str, grant_type: str,
                       device_code: str | None = None, code: str | None = None, redirect_uri: str | None = None,
                       code_verifier: str | None = None, refresh_token: str | None = None,
                       scope: list[str] | None = None) -> IssuedToken:
    """CreateToken for `urn:ietf:params:oauth:grant-type:device_code`, `authorization_code` and `refresh_token`.
    Raises the `core.oauth` errors: AuthorizationPending, SlowDown (polled faster than the interval; the interval
    grows by 5 s), ExpiredToken, AccessDenied, InvalidGrant (unknown or reused code; a reused refresh token also
    revokes its whole family), InvalidClient, UnsupportedGrantType, UnauthorizedClient, InvalidRequest."""
    if grant_type not in oauth.GRANT_TYPES:
        raise UnsupportedGrantType(f"Unsupported grant type: {grant_type[:128]}.")
    now = deps.clock()
    async with deps.store.unit() as uow:
        app = await _authenticated(uow, client_id, client_secret, now)
    if grant_type not in app.grant_types:
        raise UnauthorizedClient(f"The client was not registered for the {grant_type} grant.")
    if grant_type == oauth.DEVICE_CODE_GRANT:
        if not device_code:
            raise InvalidRequest("deviceCode is required.")
        return await _device_token(deps, client, app, device_code, now)
    if grant_type == oauth.AUTHORIZATION_CODE_GRANT:
        if not code or not redirect_uri or not code_verifier:
            raise InvalidRequest("code, redirectUri and codeVerifier are required.")
        return await _code_token(deps, client, app, code, redirect_uri, code_verifier, now)
    if not refresh_token:
        raise InvalidRequest("refreshToken is required.")
    return await _refreshed(deps, client, app, refresh_token, now)


async def _device_token(deps: Deps, client: Client, app: OidcClient, device_code: str, now: float) -> IssuedToken:
    async with deps.store.unit() as uow:
        outcome = await _device_outcome(deps, uow, client, app, device_code, now)
    return _unit_result(outcome)


async def _device_outcome(deps: Deps, uow: UnitOfWork, client: Client, app: OidcClient, device_code: str,
                          now: float) -> IssuedToken | OAuthError:
    grant = await uow.oidc_grants.by_device_code(hash_token(device_code))
    if grant is None or grant.kind != "device" or grant.client_id != app.id:
        return InvalidGrant("Unknown device code.")
    if grant.status == USED:
        return InvalidGrant("This device code was already used.")
    if now >= grant.expires_at:
        return ExpiredToken("The device code has expired; start the sign-in again.")
    if grant.status == DENIED:
        return AccessDenied("The user denied the request.")
    if grant.status == PENDING:
        if not await uow.oidc_grants.poll(grant.id, now):
            return SlowDown("Polled too fast; wait 5 seconds longer between requests.")
        return AuthorizationPending("The user has not approved the request yet.")
    if not await uow.oidc_grants.claim(grant.id, app.id, now):
        return InvalidGrant("This device code was already used.")
    return await _issue(deps, uow, client, app, grant.id, grant.session_id_hash, grant.scopes, now, "device_code")


async def _code_token(deps: Deps, client: Client, app: OidcClient, code: str, redirect_uri: str,
                      code_verifier: str, now: float) -> IssuedToken:
    async with deps.store.unit() as uow:
        outcome = await _code_outcome(deps, uow, client, app, code, redirect_uri, code_verifier, now)
    return _unit_result(outcome)


async def _code_outcome(deps: Deps, uow: UnitOfWork, client: Client, app: OidcClient, code: str,
                        redirect_uri: str, code_verifier: str, now: float) -> IssuedToken | OAuthError:
    grant = await uow.oidc_grants.by_code(hash_token(code))
    if grant is None or grant.kind != "code" or grant.client_id != app.id:
        return InvalidGrant("Unknown authorization code.")
    if grant.status == USED:
        # RFC 6749 4.1.2: a code used twice may have been stolen; what it granted is revoked.
        revoked = await uow.oidc_tokens.revoke_family(grant.id, now)
        await audit.record(uow, at=now, event="CreateToken", result="Failure", client=client,
                           principal=grant.principal_key or "", client_id=app.id, grant_type="authorization_code",
                           reason="authorization code reused; its tokens revoked", revoked=revoked)
        return InvalidGrant("This authorization code was already used.")
    if grant.status != ALLOWED or now >= grant.expires_at:
        return InvalidGrant("The authorization code has expired.")
    if redirect_uri != grant.redirect_uri or not oauth.verifier_matches(code_verifier, grant.code_challenge or ""):
        await uow.oidc_grants.burn(grant.id, now)
        return InvalidGrant("The redirect URI or code verifier does not match the authorization request.")
    if not await uow.oidc_grants.claim(grant.id, app.id, now):
        return InvalidGrant("This authorization code was already used.")
    return await _issue(deps, uow, client, app, grant.id, grant.session_id_hash, grant.scopes, now,
                        "authorization_code")


async def _refreshed(deps: Deps, client: Client, app: OidcClient, refresh_token: str, now: float) -> IssuedToken:
    async with deps.store.unit() as uow:
        outcome = await _refresh_outcome(deps, uow, client, app, refresh_token, now)
    return _unit_result(outcome)


async def _refresh_outcome(deps: Deps, uow: UnitOfWork, client: Client, app: OidcClient, refresh_token: str,
                           now: float) -> IssuedToken | OAuthError:
    row = await uow.oidc_tokens.by_hash(hash_token(refresh_token))
    if row is None or row.kind != "refresh" or row.client_id != app.id:
        return InvalidGrant("Unknown refresh token.")
    if row.revoked_at is not None or now >= row.expires_at:
        return InvalidGrant("The refresh token has expired or was revoked; sign in again.")
    if row.used_at is None and await uow.oidc_tokens.rotate(row.id, app.id, now):
        return await _issue(deps, uow, client, app, row.family_id, row.session_id_hash, row.scopes, now,
                            "refresh_token")
    if row.used_at is None or now - row.used_at < oauth.REFRESH_REUSE_GRACE:
        # Rotated a moment ago: tools sharing one token cache refresh together, and only one may win. The loser
        # is refused without signing everyone out (botocore keeps the access token it has and reads the
        # winner's from the cache); the family is revoked only for a reuse after the grace.
        return InvalidGrant("This refresh token was just used by another request; use the token it returned.")
    # Rotated before the grace: whoever holds it now, the family is revoked.
    revoked = await uow.oidc_tokens.revoke_family(row.family_id, now)
    await audit.record(uow, at=now, event="CreateToken", result="Failure", client=client,
                       principal=row.principal_key, client_id=app.id, grant_type="refresh_token",
                       reason="refresh token reused; its family revoked", revoked=revoked)
    return InvalidGrant("This refresh token was already used; every token of this sign-in is revoked.")


async def _issue(deps: Deps, uow: UnitOfWork, client: Client, app: OidcClient, family_id: str,
                 session_id_hash: str | None, scopes: list[str], now: float, grant: str) -> IssuedToken | OAuthError:
    """An access token (and a refresh token for clients registered for it) bound to the approving portal
    session: the access token lives an hour at most, neither outlives the session."""
    signed_in = await portal.session_by_id(uow, session_id_hash, now) if session_id_hash else None
    if signed_in is None or signed_in.instance.status != "ACTIVE":
        await uow.oidc_tokens.revoke_family(family_id, now)
        return InvalidGrant("The access portal session that approved this sign-in has ended; sign in again.")
    session_end = signed_in.session.expires_at
    access_expires = min(now + oauth.ACCESS_TOKEN_LIFETIME, session_end)
    if access_expires - now < 1:
        return InvalidGrant("The access portal session that approved this sign-in has ended; sign in again.")
    access = new_token()
    refresh = new_token() if oauth.REFRESH_TOKEN_GRANT in app.grant_types else None
    common = dict(family_id=family_id, client_id=app.id, identity_store_id=signed_in.instance.identity_store_id,
                  session_id_hash=signed_in.session.id_hash, principal_key=signed_in.principal.key,
                  user_id=signed_in.user.id, scopes=list(scopes), created_at=now, used_at=None, revoked_at=None)
    rows = [OidcToken(id=str(uuid.uuid4()), kind="access", token_hash=hash_token(access), expires_at=access_expires,
                      **common)]
    if refresh is not None:
        rows.append(OidcToken(id=str(uuid.uuid4()), kind="refresh", token_hash=hash_token(refresh),
                              expires_at=session_end, **common))
    await uow.oidc_tokens.add(rows)
    await audit.record(uow, at=now, event="CreateToken", result="Success", client=client,
                       account_id=signed_in.instance.owner_account_id, principal=signed_in.principal.arn,
                       client_id=app.id, client_name=app.name, grant_type=grant)
    return IssuedToken(access, "Bearer", int(access_expires - now), refresh)


def _plain(value: str, *, empty: bool = False) -> bool:
    """An identifier or state from a URL: at most 256 printable characters (no NUL: PostgreSQL refuses it)."""
    return (bool(value) or empty) and len(value) <= 256 and value.isprintable()


async def _approval_of(uow: UnitOfWork, grant: OidcGrant) -> PendingApproval:
    app = await uow.oidc_clients.get(grant.client_id)
    instance = await instances.by_identity_store_id(uow, grant.identity_store_id)
    if app is None or instance is None or instance.status != "ACTIVE":
        raise InvalidGrant("This request is no longer valid.")
    kind: Literal["device", "code"] = "device" if grant.kind == "device" else "code"
    return PendingApproval(grant.id, kind, app.name, tuple(grant.scopes), grant.requested_from_ip,
                           grant.requested_at, grant.expires_at, instance.identity_store_id, _portal_name(instance),
                           oauth.display_user_code(grant.user_code) if grant.user_code else None)


def user_code_keys(client: Client) -> list[ThrottleKey]:
    """The guessing budget of typed user codes: per client address (RFC 8628 5.1)."""
    return [ThrottleKey(Scope.CLIENT, f"user-code:{client.ip}")]


async def pending_device(deps: Deps, client: Client, user_code: str) -> PendingApproval:
    """The pending device grant for a typed user code (any case, dash optional). Throttled per client address
    (TooManyAttempts); InvalidGrant for an unknown, used or malformed code; ExpiredToken once expired."""
    normalized = oauth.normalize_user_code(user_code)
    if normalized is None:
        raise InvalidGrant("That is not a code of this form: ABCD-EFGH.")
    keys = user_code_keys(client)
    now = deps.clock()
    refused = await deps.throttle.reserve(keys, now, captcha_solved=False)
    metrics.record_throttle("code", "allowed" if refused is None else "delayed")
    if refused is not None:  # nobody solves a CAPTCHA here: the wait is until the window lets a code in again
        raise TooManyAttempts(max(1, wait_without_captcha(keys, await deps.throttle.states(keys, now), now)))
    async with deps.store.unit() as uow:
        grant = await uow.oidc_grants.by_user_code(normalized)
    if grant is None:
        raise InvalidGrant("Unknown code.")  # stays counted
    # A real code takes its own attempt back, nothing more: a valid code of one's own clears no wrong guesses.
    await deps.throttle.settle((), keys)
    return await approval(deps, grant.id)


async def begin_authorization(deps: Deps, client: Client, *, response_type: str, client_id: str,
                              redirect_uri: str, state: str, code_challenge: str, code_challenge_method: str,
                              scopes: list[str]) -> PendingApproval:
    """The unmodelled `GET /authorize` of the PKCE flow: a pending code grant. InvalidClient, InvalidRedirectUri
    (not loopback, or not registered apart from the port), InvalidRequest (response_type not `code`, method not
    S256, malformed challenge), InvalidScope. The portal is the one named by the client's `issuerUrl`."""
    await _admit_request(deps, client)
    now = deps.clock()
    async with deps.store.unit() as uow:
        app = await uow.oidc_clients.get(client_id) if _plain(client_id) else None
        if app is None or now >= app.secret_expires_at:
            raise InvalidClient("Unknown client, or its registration has expired.")
        if oauth.AUTHORIZATION_CODE_GRANT not in app.grant_types:
            raise UnauthorizedClient("The client was not registered for the authorization_code grant.")
        if len(redirect_uri) > _MAX_URI or not any(oauth.redirect_matches(r, redirect_uri) for r in app.redirect_uris):
            raise InvalidRedirectUri("redirect_uri is not one the client registered.")
        if response_type != "code":
            raise InvalidRequest("response_type must be code.")
        if code_challenge_method != "S256":
            raise InvalidRequest("code_challenge_method must be S256.")
        if not oauth.valid_challenge(code_challenge):
            raise InvalidRequest("code_challenge must be 43 base64url characters (S256).")
        if len(state) > _MAX_STATE or not _plain(state, empty=True):
            raise InvalidRequest(f"state must be at most {_MAX_STATE} printable characters.")
        wanted = list(dict.fromkeys(scopes)) or list(app.scopes)
        if any(s not in oauth.SCOPES or (app.scopes and s not in app.scopes) for s in wanted):
            raise InvalidScope("A requested scope was not registered by the client.")
        instance = (await instances.by_identity_store_id(uow, app.identity_store_id)
                    if app.identity_store_id else None)
        if instance is None or instance.status != "ACTIVE":
            raise InvalidRequest("The client was registered without the issuerUrl of an access portal.")
        grant = OidcGrant(id=new_token(), kind="code", status=PENDING, client_id=app.id,
                          identity_store_id=instance.identity_store_id, scopes=wanted, interval=0,
                          redirect_uri=redirect_uri, state=state, code_challenge=code_challenge,
                          requested_from_ip=client.ip[:64], requested_at=now,
                          expires_at=now + oauth.DEVICE_CODE_LIFETIME)
        await uow.oidc_grants.add(grant)
        return await _approval_of(uow, grant)


async def approval(deps: Deps, approval_id: str) -> PendingApproval:
    """A pending grant by its ID (for the confirm page after sign-in); InvalidGrant when gone or decided,
    ExpiredToken once expired."""
    async with deps.store.unit() as uow:
        grant = await uow.oidc_grants.get(approval_id) if _plain(approval_id) else None
        if grant is None or grant.status != PENDING:
            raise InvalidGrant("This request was already decided or does not exist.")
        if deps.clock() >= grant.expires_at:
            raise ExpiredToken("This request has expired; start the sign-in again.")
        return await _approval_of(uow, grant)


def _redirect(uri: str, **params: str) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


async def decide(deps: Deps, client: Client, signed_in: PortalSession, approval_id: str,
                 allow: bool) -> Decision:
    """Allow or Deny, by a user signed in to the grant's portal (PermissionDenied for another portal's session).
    Single use: a second decision raises InvalidGrant. Audited (`AuthorizeDevice` / `AuthorizeClient`)."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        grant = await uow.oidc_grants.get(approval_id) if _plain(approval_id) else None
        if grant is None:
            raise InvalidGrant("This request does not exist.")
        if grant.identity_store_id != signed_in.instance.identity_store_id:
            raise PermissionDenied("This request belongs to another access portal.")
        if grant.status == PENDING and now >= grant.expires_at:
            raise ExpiredToken("This request has expired; start the sign-in again.")
        code = new_token() if allow and grant.kind == "code" else None
        won = await uow.oidc_grants.decide(
            grant.id, now, allowed=allow, session_id_hash=signed_in.session.id_hash,
            principal_key=signed_in.principal.key, code_hash=hash_token(code) if code else None,
            expires_at=now + oauth.AUTHORIZATION_CODE_LIFETIME if code else None)
        if not won:
            raise InvalidGrant("This request was already decided.")
        app = await uow.oidc_clients.get(grant.client_id)
        await audit.record(uow, at=now, event="AuthorizeDevice" if grant.kind == "device" else "AuthorizeClient",
                           result="Success", client=client, account_id=signed_in.instance.owner_account_id,
                           principal=signed_in.principal.arn, decision="Allow" if allow else "Deny",
                           client_id=grant.client_id, client_name=app.name if app else "",
                           requested_from_ip=grant.requested_from_ip, scopes=list(grant.scopes))
    if grant.kind != "code" or not grant.redirect_uri:
        return Decision(allow, None)
    state = {"state": grant.state} if grant.state else {}
    if code is not None:
        return Decision(True, _redirect(grant.redirect_uri, code=code, **state))
    return Decision(False, _redirect(grant.redirect_uri, error="access_denied",
                                     error_description="The user denied the request.", **state))


_KNOWN_USERS: dict[tuple[str, int, str | None, bool], DirectoryUser] = {}  # exact: keyed by what can change


def _user_key(row: UserRow) -> tuple[str, int, str | None, bool]:
    return row.id, row.revision, row.password_hash, row.password_must_change


async def _directory_user(uow: UnitOfWork, row: UserRow) -> DirectoryUser | None:
    """The directory user of a row the bearer check read: built once per revision (and password state), so a
    token's check costs one statement; any change of the user bumps its revision and is read afresh."""
    key = _user_key(row)
    user = _KNOWN_USERS.get(key)
    if user is None:
        user = await directory.get_user(uow, row.identity_store_id, row.id)
        if user is None or (user.id, user.revision, user.password_hash, user.password_must_change) != key:
            return user
        if len(_KNOWN_USERS) >= 10_000:
            _KNOWN_USERS.clear()
        _KNOWN_USERS[key] = user
    return user


def _bearer_of(found: tuple[OidcToken, SessionRow, SsoInstance, UserRow] | None,
               user: DirectoryUser | None) -> tuple[OidcToken, PortalSession]:
    if found is None or user is None or not user.enabled:
        raise InvalidBearerToken()
    row, session, instance_row, _ = found
    instance = instances.of_row(instance_row)
    view = sessions.SessionView(session.id_hash, PrincipalRef.parse(session.principal_key), session.created_at,
                                session.expires_at, session.idle_seconds, session.mfa_used,
                                session.reauthenticated_at, session.reauthenticated_browser)
    return row, PortalSession(view, user, instance, portal.principal_of(user, instance))


async def bearer(deps: Deps, token: str) -> BearerSession:
    """The live session behind an access token; InvalidBearerToken otherwise. Token, session, instance and user
    are checked in one statement on every call (a revocation counts at the next request, on every node)."""
    if not token:
        raise InvalidBearerToken()
    found = await deps.store.run(oidc_rows.live_access, hash_token(token), deps.clock())
    user = _KNOWN_USERS.get(_user_key(found[3])) if found is not None else None
    if found is not None and user is None:
        async with deps.store.unit() as uow:
            user = await _directory_user(uow, found[3])
    row, signed_in = _bearer_of(found, user)
    return BearerSession(signed_in, row.id)


async def logout(deps: Deps, client: Client, token: str) -> None:
    """Logout: revokes the access token, its refresh token family and the portal session behind it;
    InvalidBearerToken when the token is not live."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        found = await uow.run(oidc_rows.live_access, hash_token(token), now) if token else None
        row, signed_in = _bearer_of(found, await _directory_user(uow, found[3]) if found is not None else None)
        await uow.oidc_tokens.revoke_family(row.family_id, now)
        await uow.oidc_tokens.revoke_session(row.session_id_hash, now)
        await uow.sessions.revoke(row.session_id_hash, now)
        uow.after_commit(functools.partial(deps.bus.publish, SESSION, row.session_id_hash))
        await audit.record(uow, at=now, event="Logout", result="Success", client=client,
                           account_id=signed_in.instance.owner_account_id, principal=signed_in.principal.arn,
                           client_id=row.client_id)
