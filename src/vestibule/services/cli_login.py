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

The sessions API (ListSessions, GetSession, BatchRevokeSessions, the security page's list) is
`services/signin_sessions.py`; this module is the OAuth flow and the ending of login sessions.

CONTRACT (lead, session 2026-12-03): the signatures and dataclasses below are what the wire
(`wire/rest_json/signin.py`), the pages (`web/console/cli_login.py`) and the tests code against. Bodies are
filled by the service helper; change a signature only by telling the lead."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlencode

from ..core import arns, dpop, oauth
from ..core.oauth import ExpiredToken, InvalidClient, InvalidGrant, InvalidRedirectUri, InvalidRequest
from ..core.principals import PrincipalKind
from ..core.throttle import Scope, ThrottleKey, wait_without_captcha
from ..core.tokens import hash_token, new_token, same
from ..errors import PermissionDenied, TooManyAttempts, VestibuleError
from ..store.models import CliLogin, CliLoginGrant, CliLoginRefreshToken
from ..store.models import Session as SessionRow
from ..store.repositories import Conflict, UnitOfWork
from ..store.sql.cli_login import ALLOWED, PENDING, USED
from . import audit, metrics, sessions, temporary_credentials
from .api_call import ApiCall
from .aws_identity import Caller
from .context import Client, Deps
from .identity_center.sso_oidc import request_keys
from .invalidation import SESSION
from .principals import LoadedPrincipal, Principal
from .principals import load as load_principal
from .sessions import CLI, CONSOLE, SignedInSession

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


_MAX_URI = 2048
_MAX_STATE = 2048
_MAX_CODE = 512  # the model's AuthorizationCode
_MAX_REFRESH = 12288  # the model's RefreshToken


def _plain(value: str, *, empty: bool = False, limit: int = 256) -> bool:
    """A value from a URL or a form: at most `limit` printable characters (no NUL: PostgreSQL refuses it)."""
    return (bool(value) or empty) and len(value) <= limit and value.isprintable()


def _refused(outcome: LoginTokens | LoginRefused) -> LoginTokens:
    """Tokens, or the refusal decided inside a unit that had to commit first (a burnt code, an ended login)."""
    if isinstance(outcome, LoginRefused):
        raise outcome
    return outcome


def token_keys(client: Client) -> list[ThrottleKey]:
    """The per-address budget of REFUSED CreateOAuth2Token requests (each costs an ECDSA check, a replay row and
    for a known code or token an audit row): the rule of anonymous requests that store a row, its own count."""
    return [ThrottleKey(Scope.REQUESTS, f"signin-token:{client.ip}")]


async def _admit(deps: Deps, keys: Sequence[ThrottleKey]) -> None:
    """Reserve one attempt on `keys` (TooManyAttempts with the wait while they refuse it)."""
    now = deps.clock()
    refused = await deps.throttle.reserve(keys, now, captcha_solved=False)
    metrics.record_throttle("request", "allowed" if refused is None else "delayed")
    if refused is not None:
        raise TooManyAttempts(max(1, wait_without_captcha(keys, await deps.throttle.states(keys, now), now)))


async def _admit_request(deps: Deps, client: Client) -> None:
    """The per-address budget of anonymous requests that store a row, shared with SSO-OIDC's."""
    await _admit(deps, request_keys(client))


def _request_of(grant: CliLoginGrant) -> LoginRequest:
    return LoginRequest(grant.id, grant.client_id, grant.client_id == CROSS_DEVICE, grant.redirect_uri,
                        grant.requested_from_ip, grant.requested_at, grant.expires_at)


async def begin(deps: Deps, client: Client, *, response_type: str, client_id: str, redirect_uri: str, state: str,
                code_challenge: str, code_challenge_method: str) -> LoginRequest:
    """`GET /v1/authorize`: a pending request. `core.oauth` errors: InvalidClient (not one of CLIENT_IDS),
    InvalidRedirectUri (same device: not a loopback http URI; cross device: not <public url>/v1/authorize/code),
    InvalidRequest (response_type not `code`, method not S256, malformed challenge or state). Throttled per
    address like every anonymous request that stores a row (TooManyAttempts)."""
    if client_id not in CLIENT_IDS:
        raise InvalidClient(f"client_id must be {SAME_DEVICE} or {CROSS_DEVICE}.")
    cross_device = client_id == CROSS_DEVICE
    if cross_device:
        if redirect_uri != deps.settings.public_origin + CROSS_DEVICE_REDIRECT_PATH:
            raise InvalidRedirectUri("The cross-device redirect_uri must be "
                                     f"{deps.settings.public_origin}{CROSS_DEVICE_REDIRECT_PATH}.")
    elif len(redirect_uri) > _MAX_URI or not oauth.is_loopback_redirect(redirect_uri):
        raise InvalidRedirectUri("redirect_uri must be a loopback http URI (http://127.0.0.1:<port>/...).")
    if response_type != "code":
        raise InvalidRequest("response_type must be code.")
    if code_challenge_method not in ("SHA-256", "S256"):
        raise InvalidRequest("code_challenge_method must be SHA-256 (S256).")
    if not oauth.valid_challenge(code_challenge):
        raise InvalidRequest("code_challenge must be 43 base64url characters (SHA-256).")
    if not _plain(state, empty=True, limit=_MAX_STATE):
        raise InvalidRequest(f"state must be at most {_MAX_STATE} printable characters.")
    await _admit_request(deps, client)
    now = deps.clock()
    grant = CliLoginGrant(id=new_token(), client_id=client_id, redirect_uri=redirect_uri, state=state,
                          code_challenge=code_challenge, status=PENDING, requested_from_ip=client.ip[:64],
                          requested_at=now, expires_at=now + REQUEST_LIFETIME)
    async with deps.store.unit() as uow:
        await uow.cli_login_grants.add(grant)
    return _request_of(grant)


async def _pending_grant(uow: UnitOfWork, request_id: str, now: float) -> CliLoginGrant:
    grant = await uow.cli_login_grants.get(request_id) if _plain(request_id) else None
    if grant is None or grant.status != PENDING:
        raise InvalidGrant("This request was already decided or does not exist.")
    if now >= grant.expires_at:
        raise ExpiredToken("This request has expired; run the login again.")
    return grant


async def pending(deps: Deps, request_id: str) -> LoginRequest:
    """The pending request (for the confirmation page); core.oauth InvalidGrant when unknown or decided,
    ExpiredToken once expired."""
    async with deps.store.unit() as uow:
        return _request_of(await _pending_grant(uow, request_id, deps.clock()))


def _redirect(uri: str, **params: str) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _as_caller(loaded: LoadedPrincipal, mfa_used: bool, mfa_at: float | None) -> Caller:
    """The principal as its login credentials will call: itself, temporary, with the console session's MFA."""
    ref = loaded.principal.ref
    if ref.kind == PrincipalKind.ROOT:
        base = Caller(loaded.account.id, arns.root_arn(loaded.account.id), loaded.account.id, "root", ref, "")
    else:
        assert loaded.user is not None
        base = Caller(loaded.account.id, loaded.principal.arn, loaded.user.id, "user", ref, "",
                      user_name=loaded.user.name)
    return replace(base, temporary=True, mfa_authenticated=mfa_used, mfa_authenticated_at=mfa_at if mfa_used else None)


async def _authorize(deps: Deps, uow: UnitOfWork, client: Client, caller: Caller, action: str) -> None:
    """PermissionDenied unless the principal's policies allow `action` on its own ARN (the root: always)."""
    call = ApiCall(deps, caller, "signin", action, None, source_ip=client.ip,
                   secure=deps.settings.public_is_https, user_agent=client.user_agent)
    await call.authorize(uow, caller.arn)


async def decide(deps: Deps, client: Client, signed_in: SignedInSession, request_id: str,
                 allow: bool) -> LoginDecision:
    """Allow or Deny by a root or IAM user signed in to the console (role sessions: PermissionDenied). Allow
    checks AUTHORIZE_ACTION against the user's policies (root: always); PermissionDenied with a message the page
    shows when policy forbids it. Single use (InvalidGrant the second time). Audited (`AuthorizeOAuth2Access`)."""
    principal = signed_in.principal
    if principal.ref.kind not in (PrincipalKind.ROOT, PrincipalKind.IAM_USER):
        raise PermissionDenied("Only the root user or an IAM user can allow a command-line login.")
    now = deps.clock()
    refusal: PermissionDenied | None = None
    async with deps.store.unit() as uow:
        grant = await _pending_grant(uow, request_id, now)
        code = new_token() if allow else None
        if allow:
            loaded = await load_principal(uow, principal.key)
            if loaded is None:
                raise PermissionDenied("This user can no longer sign in.")
            caller = _as_caller(loaded, signed_in.session.mfa_used, signed_in.session.created_at)
            try:
                await _authorize(deps, uow, client, caller, AUTHORIZE_ACTION)
            except PermissionDenied as denied:
                refusal = denied
        if refusal is None and not await uow.cli_login_grants.decide(
                grant.id, now, allowed=allow, approved_session_hash=signed_in.session.id_hash,
                principal_key=principal.key, account_id=principal.account_id,
                code_hash=hash_token(code) if code else None, expires_at=now + CODE_LIFETIME if code else None):
            raise InvalidGrant("This request was already decided.")
        await audit.record(uow, at=now, event="AuthorizeOAuth2Access",
                           result="Failure" if refusal is not None else "Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="console",
                           mfa_used=signed_in.session.mfa_used, decision="Allow" if allow else "Deny",
                           client_id=grant.client_id, requested_from_ip=grant.requested_from_ip,
                           reason="denied by policy" if refusal is not None else "")
    if refusal is not None:
        raise refusal
    state = {"state": grant.state} if grant.state else {}
    if grant.client_id == CROSS_DEVICE:
        return LoginDecision(allow, None, code)
    if code is not None:
        return LoginDecision(True, _redirect(grant.redirect_uri, code=code, **state), None)
    return LoginDecision(False, _redirect(grant.redirect_uri, error="access_denied",
                                          error_description="The user denied the request.", **state), None)


async def _proof(deps: Deps, dpop_header: str | None, urls: Sequence[str], now: float) -> dpop.Proof:
    """The request's DPoP proof, checked and recorded as seen (in the database: a replay to any node fails)."""
    try:
        proof = dpop.verify(dpop_header, method="POST", urls=urls, now=now)
    except dpop.InvalidProof as bad:
        raise LoginRefused("invalid_request", str(bad)) from None
    try:
        async with deps.store.unit() as uow:
            await uow.dpop_replays.add(dpop.replay_key(proof.jkt, proof.jti), proof.iat + dpop.MAX_AGE + 1)
    except Conflict:
        raise LoginRefused("invalid_request", "This DPoP proof was already used (jti); "
                                              "make a new proof for each request.") from None
    return proof


async def create_token(deps: Deps, client: Client, *, client_id: str, grant_type: str, code: str | None,
                       redirect_uri: str | None, code_verifier: str | None, refresh_token: str | None,
                       dpop: str | None, urls: Sequence[str]) -> LoginTokens:
    """CreateOAuth2Token (`authorization_code` or `refresh_token`). `dpop` is the DPoP header; `urls` the
    request's own URLs without query (public origin + path, and the scheme and Host it arrived on), one of which
    the proof's `htu` must name. The code grant creates the login session bound to the proof's key; a refresh
    must be signed by that key, rotates the refresh token (a reuse after the grace revokes the session) and
    checks the user again. Raises LoginRefused. Refusals are counted per client address (`token_keys`): over
    that budget TooManyAttempts, before the proof is checked or anything written; a success costs nothing."""
    if client_id not in CLIENT_IDS:
        raise LoginRefused("invalid_client", f"clientId must be {SAME_DEVICE} or {CROSS_DEVICE}.")
    if grant_type == oauth.AUTHORIZATION_CODE_GRANT:
        if not code or not redirect_uri or not code_verifier:
            raise LoginRefused("invalid_request", "code, redirectUri and codeVerifier are required.")
        if len(code) > _MAX_CODE or len(redirect_uri) > _MAX_URI:
            raise LoginRefused("invalid_grant", "Unknown authorization code.")
    elif grant_type == oauth.REFRESH_TOKEN_GRANT:
        if not refresh_token:
            raise LoginRefused("invalid_request", "refreshToken is required.")
        if len(refresh_token) > _MAX_REFRESH:
            raise LoginRefused("invalid_grant", "Unknown refresh token.")
    else:
        raise LoginRefused("invalid_request", "grantType must be authorization_code or refresh_token.")
    keys = token_keys(client)
    await _admit(deps, keys)  # counted as refused until it turns out otherwise, so concurrent floods see it
    now = deps.clock()
    proof = await _proof(deps, dpop, urls, now)
    async with deps.store.unit() as uow:
        if grant_type == oauth.AUTHORIZATION_CODE_GRANT:
            assert code is not None and redirect_uri is not None and code_verifier is not None
            outcome = await _code_outcome(deps, uow, client, client_id, code, redirect_uri, code_verifier, proof, now)
        else:
            assert refresh_token is not None
            outcome = await _refresh_outcome(deps, uow, client, client_id, refresh_token, proof, now)
    tokens = _refused(outcome)
    await deps.throttle.settle((), keys)  # tokens issued: the attempt is taken back
    return tokens


async def end_login(deps: Deps, uow: UnitOfWork, session_hash: str, now: float) -> bool:
    """Revoke one session (a login, or any session the sessions API ends); once committed, every node forgets
    the credentials issued for it."""
    ended = await uow.sessions.revoke_one(session_hash, now)
    uow.after_commit(functools.partial(deps.bus.publish, SESSION, session_hash))
    return ended


def _ended(session: SessionRow, now: float) -> LoginRefused | None:
    """Why a login (or the console session that approves one) can no longer be used, or None while it can."""
    if session.revoked_at is not None:
        return LoginRefused("USER_CREDENTIALS_CHANGED", "This login session was ended (signed out, a password or "
                                                        "MFA change, or an administrator); run the login again.")
    if now >= session.expires_at:
        return LoginRefused("TOKEN_EXPIRED", "This login session has reached its end; run the login again.")
    return None


async def _fail(uow: UnitOfWork, client: Client, now: float, principal: str, account_id: str | None,
                grant_type: str, refusal: LoginRefused, *, detail: str = "", login_ended: bool = False
                ) -> LoginRefused:
    """A refusal worth an audit event; `principal` is an ARN, or a principal key whose ARN is looked up."""
    if not principal.startswith("arn:"):
        loaded = await load_principal(uow, principal)
        principal = loaded.principal.arn if loaded is not None else principal
    await audit.record(uow, at=now, event="CreateOAuth2Token", result="Failure", client=client,
                       account_id=account_id, principal=principal, method="dpop", grant_type=grant_type,
                       reason=refusal.reason, detail=detail, login_ended=login_ended)
    return refusal


async def _code_outcome(deps: Deps, uow: UnitOfWork, client: Client, client_id: str, code: str, redirect_uri: str,
                        code_verifier: str, proof: dpop.Proof, now: float) -> LoginTokens | LoginRefused:
    grant = await uow.cli_login_grants.by_code(hash_token(code))
    if grant is None or grant.client_id != client_id or grant.principal_key is None:
        return LoginRefused("invalid_grant", "Unknown authorization code.")
    kind = oauth.AUTHORIZATION_CODE_GRANT
    if grant.status == USED:
        return await _code_reused(deps, uow, client, grant, grant.session_hash, now)
    if grant.status != ALLOWED:
        return LoginRefused("invalid_grant", "Unknown authorization code.")
    if now >= grant.expires_at:
        return LoginRefused("AUTHCODE_EXPIRED", "The authorization code has expired; run the login again.")
    if redirect_uri != grant.redirect_uri or not oauth.verifier_matches(code_verifier, grant.code_challenge):
        await uow.cli_login_grants.burn(grant.id, now)
        return await _fail(uow, client, now, grant.principal_key, grant.account_id, kind, LoginRefused(
            "invalid_grant", "The redirect URI or code verifier does not match the authorization request."),
            detail="code burnt")
    if not await uow.cli_login_grants.claim(grant.id, now):
        # redeemed at the same moment by another request, which won: a reuse all the same. Its claim held the
        # row until it committed (the UPDATE above waited for it), so the session it made can be read now.
        return await _code_reused(deps, uow, client, grant, await uow.cli_login_grants.session_of(grant.id), now)
    console = await uow.sessions.get(grant.approved_session_hash) if grant.approved_session_hash else None
    if console is None or console.kind != CONSOLE:
        return LoginRefused("USER_CREDENTIALS_CHANGED", "The console session that allowed this login has ended.")
    ended = _ended(console, now)
    if ended is not None:
        return await _fail(uow, client, now, grant.principal_key, grant.account_id, kind, ended,
                           detail="the approving console session ended")
    loaded = await load_principal(uow, grant.principal_key)
    if loaded is None:
        return await _fail(uow, client, now, grant.principal_key, grant.account_id, kind, LoginRefused(
            "USER_CREDENTIALS_CHANGED", "The user no longer exists or its account is closed."))
    caller = _as_caller(loaded, console.mfa_used, console.created_at)
    try:
        await _authorize(deps, uow, client, caller, REFRESH_ACTION)
    except PermissionDenied as denied:
        return await _fail(uow, client, now, loaded.principal.arn, loaded.account.id, kind,
                           LoginRefused("INSUFFICIENT_PERMISSIONS", str(denied)))
    token = new_token()
    session = SessionRow(
        id_hash=hash_token(token), account_id=loaded.account.id, principal_key=loaded.principal.key, created_at=now,
        last_seen_at=now, expires_at=console.expires_at, idle_seconds=int(console.expires_at - now) + 1,
        revoked_at=None, mfa_used=console.mfa_used, csrf_secret=new_token()[:43], client_ip=client.ip[:64],
        user_agent=client.user_agent[:512], kind=CLI, public_id=uuid.uuid4().hex)
    await uow.sessions.add(session)
    await uow.cli_logins.add(CliLogin(session_hash=session.id_hash, client_id=client_id, dpop_jkt=proof.jkt,
                                      approved_session_hash=console.id_hash, region="", created_at=now))
    await uow.cli_login_grants.link_session(grant.id, session.id_hash)
    return await _issue(deps, uow, client, session, loaded, console.created_at, now, kind)


async def _code_reused(deps: Deps, uow: UnitOfWork, client: Client, grant: CliLoginGrant,
                       session_hash: str | None, now: float) -> LoginRefused:
    """RFC 6749 4.1.2: a code used twice may have been stolen; the login it gave is ended. Audited."""
    assert grant.principal_key is not None
    reused = await end_login(deps, uow, session_hash, now) if session_hash else False
    return await _fail(uow, client, now, grant.principal_key, grant.account_id, oauth.AUTHORIZATION_CODE_GRANT,
                       LoginRefused("invalid_grant", "This authorization code was already used; the login it "
                                                     "gave is ended."),
                       detail="authorization code reused", login_ended=reused)


async def _refresh_outcome(deps: Deps, uow: UnitOfWork, client: Client, client_id: str, refresh_token: str,
                           proof: dpop.Proof, now: float) -> LoginTokens | LoginRefused:
    row = await uow.cli_login_refresh_tokens.get(hash_token(refresh_token))
    login = await uow.cli_logins.get(row.session_hash) if row is not None else None
    session = await uow.sessions.get(row.session_hash) if row is not None else None
    if row is None or login is None or session is None or session.kind != CLI or login.client_id != client_id:
        return LoginRefused("invalid_grant", "Unknown refresh token.")
    kind = oauth.REFRESH_TOKEN_GRANT
    if not same(proof.jkt, login.dpop_jkt):
        # before anything changes: a stolen refresh token without the key neither rotates nor ends the login
        return await _fail(uow, client, now, session.principal_key, session.account_id, kind, LoginRefused(
            "invalid_request", "The DPoP proof is not signed by the key this login is bound to."))
    ended = _ended(session, now)
    if ended is not None:
        return ended
    if row.used_at is not None:
        if now - row.used_at < oauth.REFRESH_REUSE_GRACE:
            # tools sharing one cache refresh together and only one may win: refused, nothing revoked
            return LoginRefused("invalid_grant", "This refresh token was just used by another request; use the "
                                                 "token it returned.")
        await end_login(deps, uow, session.id_hash, now)
        return await _fail(uow, client, now, session.principal_key, session.account_id, kind, LoginRefused(
            "USER_CREDENTIALS_CHANGED", "This refresh token was already used, so the login session is ended; run "
                                        "the login again."), detail="refresh token reused", login_ended=True)
    loaded = await load_principal(uow, session.principal_key)
    if loaded is None:
        await end_login(deps, uow, session.id_hash, now)
        return await _fail(uow, client, now, session.principal_key, session.account_id, kind, LoginRefused(
            "USER_CREDENTIALS_CHANGED", "The user no longer exists or its account is closed."), login_ended=True)
    console = await uow.sessions.get(login.approved_session_hash)
    mfa_at = console.created_at if console is not None else session.created_at
    try:
        await _authorize(deps, uow, client, _as_caller(loaded, session.mfa_used, mfa_at), REFRESH_ACTION)
    except PermissionDenied as denied:
        return await _fail(uow, client, now, loaded.principal.arn, loaded.account.id, kind,
                           LoginRefused("INSUFFICIENT_PERMISSIONS", str(denied)))
    if not await uow.cli_login_refresh_tokens.rotate(row.token_hash, now):
        return LoginRefused("invalid_grant", "This refresh token was just used by another request; use the token "
                                             "it returned.")
    await uow.sessions.touch(session.id_hash, now)
    return await _issue(deps, uow, client, session, loaded, mfa_at, now, kind)


async def _issue(deps: Deps, uow: UnitOfWork, client: Client, session: SessionRow, loaded: LoadedPrincipal,
                 mfa_at: float, now: float, grant_type: str) -> LoginTokens | LoginRefused:
    """Temporary credentials of the principal itself for at most ACCESS_LIFETIME, never past the login
    session, and a new refresh token (living as long as the session)."""
    remaining = session.expires_at - now
    if remaining < 1:
        return LoginRefused("TOKEN_EXPIRED", "This login session has reached its end; run the login again.")
    duration = int(min(ACCESS_LIFETIME, remaining))
    refresh = new_token()
    await uow.cli_login_refresh_tokens.add(CliLoginRefreshToken(
        token_hash=hash_token(refresh), session_hash=session.id_hash, created_at=now, used_at=None,
        expires_at=session.expires_at))
    principal = loaded.principal
    issued = await temporary_credentials.issue(
        deps, uow, account_id=loaded.account.id, kind="login", source_principal_key=principal.key, arn=principal.arn,
        user_id=loaded.user.id if loaded.user is not None else loaded.account.id, duration=duration,
        mfa_authenticated=session.mfa_used, mfa_authenticated_at=mfa_at if session.mfa_used else None,
        login_session_hash=session.id_hash)
    session_arn = arns.signin_session(loaded.account.id, session.public_id or "")
    await audit.record(uow, at=now, event="CreateOAuth2Token", result="Success", client=client,
                       account_id=loaded.account.id, principal=principal.arn, method="dpop",
                       mfa_used=session.mfa_used, grant_type=grant_type, session_arn=session_arn,
                       access_key_id=issued.access_key_id)
    return LoginTokens(issued.access_key_id, issued.secret_access_key, issued.session_token, duration, refresh,
                       loaded.account.id, principal.arn, session_arn)


async def end_for_principal(deps: Deps, principal: Principal, reason: str) -> int:
    """Ends every login session (kind cli) of `principal` (an MFA device removed); the count."""
    async with deps.store.unit() as uow:
        return await end_logins(deps, uow, principal.key, principal.account_id, principal.arn, reason)


async def end_logins(deps: Deps, uow: UnitOfWork, principal_key: str, account_id: str, principal_arn: str,
                     reason: str) -> int:
    """`end_for_principal` inside the caller's unit (an MFA device removed in the same transaction)."""
    now = deps.clock()
    ended = await sessions.end_all(uow, deps.session_ports, principal_key, now, kind=CLI)
    if ended:
        await audit.record(uow, at=now, event="EndLoginSessions", result="Success", client=Client(),
                           account_id=account_id, principal=principal_arn, reason=reason[:256], ended=ended)
    return ended
