"""Server-side console sessions: created at sign-in, checked on every request, revoked at once."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from ..core.principals import InvalidPrincipalKey, PrincipalKind, PrincipalRef
from ..core.tokens import hash_token, new_token
from ..store.models import Account, Profile, Session
from ..store.repositories import UnitOfWork
from ..store.sql import hot
from . import audit
from .context import Client, Deps, SessionPorts
from .invalidation import SESSION
from .principals import Principal, profile_principal, root_principal, user_principal
from .principals import load as load_principal

TOUCH_EVERY = 60.0
CONSOLE, CLI = "console", "cli"  # a browser's session; a login session of `vestibule login` (never a cookie)
PROFILE = "profile"  # a personal profile's browser session (its own cookie, never the console's)


@dataclass(frozen=True)
class NewSession:
    token: str
    expires_at: float


@dataclass(frozen=True)
class SessionView:
    """A live session as pages see it."""

    id_hash: str
    principal: PrincipalRef
    created_at: float
    expires_at: float
    idle_seconds: int
    mfa_used: bool
    reauthenticated_at: float | None = None  # when the password was last confirmed in this session
    reauthenticated_browser: str | None = None  # and the browser it was confirmed in

    @property
    def ends_at(self) -> float:
        """When the session ends if the user stays active: the absolute limit."""
        return self.expires_at


def new_session(ports: SessionPorts, principal: PrincipalRef, account_id: str, client: Client, mfa_used: bool,
                now: float) -> tuple[NewSession, Session]:
    """A new session's token (for the cookie) and its row, which stores only the token's hash."""
    token = new_token()
    idle = ports.root_idle_seconds if principal.kind == PrincipalKind.ROOT else ports.idle_seconds
    expires = now + ports.absolute_seconds
    row = hot.new_row(Session, dict(
        id_hash=hash_token(token), account_id=account_id, principal_key=principal.key,
        created_at=now, last_seen_at=now, expires_at=expires, idle_seconds=idle, revoked_at=None,
        mfa_used=mfa_used, csrf_secret=new_token()[:43], client_ip=client.ip[:64],
        user_agent=client.user_agent[:512], kind=PROFILE if principal.kind == PrincipalKind.PROFILE else CONSOLE,
        public_id=uuid.uuid4().hex,
    ))
    return NewSession(token, expires), row


def is_alive(session: Session, now: float) -> bool:
    return session.revoked_at is None and now < session.expires_at and now - session.last_seen_at < session.idle_seconds


def _view(session: Session) -> SessionView:
    return SessionView(session.id_hash, PrincipalRef.parse(session.principal_key), session.created_at,
                       session.expires_at, session.idle_seconds, session.mfa_used, session.reauthenticated_at,
                       session.reauthenticated_browser)


async def current(uow: UnitOfWork, ports: SessionPorts, token: str | None) -> SessionView | None:
    if not token:
        return None
    session = await uow.sessions.get(hash_token(token))
    now = ports.clock()
    if session is None or session.kind != CONSOLE or not is_alive(session, now):
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await uow.sessions.touch(session.id_hash, now)
        session.last_seen_at = now
    return _view(session)


async def end(uow: UnitOfWork, ports: SessionPorts, token: str) -> Session | None:
    """Revoke the session behind `token`; once committed, every process hears of it."""
    session = await uow.sessions.get(hash_token(token)) if token else None
    if session is not None:
        await uow.sessions.revoke(session.id_hash, ports.clock())
        uow.after_commit(functools.partial(ports.bus.publish, SESSION, session.id_hash))
    return session


async def end_all(uow: UnitOfWork, ports: SessionPorts, principal_key: str, at: float, keep: str | None = None,
                  kind: str | None = None) -> int:
    """Revoke every live session of `principal_key` (but `keep`; only of `kind` when given: CONSOLE or CLI);
    once committed each is published on the bus, so the credentials issued for a login session stop working
    on every node at their next request. The count."""
    ended = await uow.sessions.end_all(principal_key, at, keep=keep, kind=kind)
    for id_hash in ended:
        uow.after_commit(functools.partial(ports.bus.publish, SESSION, id_hash))
    return len(ended)


@dataclass(frozen=True)
class SignedInSession:
    session: SessionView
    principal: Principal


async def signed_in(ports: SessionPorts, token: str | None, kind: str = CONSOLE) -> SignedInSession | None:
    """The live session behind a cookie and its principal, or None: the session, its account and its user
    in one statement (so a revocation or a closed account counts at the next request), a touch at most
    once a minute. `kind`: CONSOLE (the console's cookie) or PROFILE (a personal profile's cookie); a session
    of the other kind is None."""
    if not token:
        return None
    if kind == PROFILE:
        found = await signed_in_profile(ports, token)
        return None if found is None else found[0]
    id_hash = hash_token(token)
    loaded = await ports.store.run(hot.session_principal, id_hash)
    if loaded is None:
        return None
    session, account, user = loaded
    now = ports.clock()
    if session.kind != CONSOLE or not is_alive(session, now) or account.status != "active":
        return None
    try:
        ref = PrincipalRef.parse(session.principal_key)
    except InvalidPrincipalKey:
        return None
    if ref.kind == PrincipalKind.ROOT and ref.id == account.id:
        principal = root_principal(account)
    elif ref.kind == PrincipalKind.IAM_USER and user is not None and user.account_id == account.id:
        principal = user_principal(user, account)
    elif ref.kind == PrincipalKind.ROLE and (role := await _role_session(ports, ref, account, now)) is not None:
        principal = role
    else:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await ports.store.run(hot.touch_session, id_hash, now)
        session.last_seen_at = now
    return SignedInSession(_view(session), principal)


async def signed_in_profile(ports: SessionPorts, token: str) -> tuple[SignedInSession, Profile] | None:
    """A personal profile's live session and its profile (one statement), touched at most once a minute."""
    id_hash = hash_token(token)
    loaded = await ports.store.run(hot.session_profile, id_hash)
    if loaded is None:
        return None
    session, profile = loaded
    now = ports.clock()
    if session.kind != PROFILE or session.account_id or not is_alive(session, now):
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await ports.store.run(hot.touch_session, id_hash, now)
        session.last_seen_at = now
    return SignedInSession(_view(session), profile_principal(profile)), profile


async def _role_session(ports: SessionPorts, ref: PrincipalRef, account: Account, now: float) -> Principal | None:
    """A console session of temporary credentials (the access portal's, the federation endpoint's): `role:<their
    access key ID>`, alive while those credentials are; the console shows `<role name>/<session name>` for an
    assumed role, `federated-user/<name>` for GetFederationToken's."""
    async with ports.store.unit() as uow:
        cred = await uow.temp_credentials.get(ref.id)
    if (cred is None or cred.kind not in ("assumed-role", "federated-user") or cred.account_id != account.id
            or cred.expires_at <= now):
        return None
    shown = (cred.arn.partition(":assumed-role/")[2] if cred.kind == "assumed-role"
             else cred.arn.rpartition(":")[2])
    return Principal(ref, account.id, account.name, account.alias, shown, cred.arn)


async def sign_out(deps: Deps, client: Client, token: str) -> None:
    """End the session behind `token` (if any) and record it."""
    if not token:
        return
    async with deps.store.unit() as uow:
        session = await end(uow, deps.session_ports, token)
        if session is not None:
            loaded = await load_principal(uow, session.principal_key)
            await audit.record(uow, at=deps.clock(), event="ConsoleLogout", result="Success", client=client,
                               account_id=session.account_id,
                               principal=loaded.principal.arn if loaded else session.principal_key)
