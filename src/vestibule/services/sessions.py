"""Server-side console sessions: created at sign-in, checked on every request, revoked at once."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.tokens import hash_token, new_token
from ..store.models import Session
from ..store.repositories import UnitOfWork
from .context import Client, Deps
from .principals import Principal

TOUCH_EVERY = 60.0


@dataclass(frozen=True)
class NewSession:
    token: str
    expires_at: float


async def start(deps: Deps, uow: UnitOfWork, principal: Principal, client: Client, mfa_used: bool) -> NewSession:
    now = deps.clock()
    token = new_token()
    idle = deps.settings.root_session_idle_seconds if principal.kind == "root" else deps.settings.session_idle_seconds
    expires = now + deps.settings.session_absolute_seconds
    await uow.sessions.add(
        Session(
            id_hash=hash_token(token), account_id=principal.account_id, principal_key=principal.key,
            created_at=now, last_seen_at=now, expires_at=expires, idle_seconds=idle, revoked_at=None,
            mfa_used=mfa_used, csrf_secret=new_token()[:43], client_ip=client.ip[:64], user_agent=client.user_agent[:512],
        )
    )
    return NewSession(token, expires)


def is_alive(session: Session, now: float) -> bool:
    return session.revoked_at is None and now < session.expires_at and now - session.last_seen_at < session.idle_seconds


def ends_at(session: Session) -> float:
    """When the session ends if the user stays active: the absolute limit."""
    return session.expires_at


async def current(deps: Deps, uow: UnitOfWork, token: str | None) -> Session | None:
    if not token:
        return None
    session = await uow.sessions.get(hash_token(token))
    now = deps.clock()
    if session is None or not is_alive(session, now):
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await uow.sessions.touch(session.id_hash, now)
        session.last_seen_at = now
    return session


async def end(deps: Deps, uow: UnitOfWork, token: str) -> Session | None:
    session = await uow.sessions.get(hash_token(token))
    if session is not None:
        await uow.sessions.revoke(session.id_hash, deps.clock())
    return session
