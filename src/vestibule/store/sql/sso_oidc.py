"""SSO-OIDC clients, grants and tokens. Every single-use step (a decision, a device code or authorization code
exchanged, a refresh token rotated) is one conditional UPDATE whose row count says whether this caller won."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa
from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from ..models import DirectoryUser, Session, SsoInstance
from ..models.sso_oidc import OidcClient, OidcGrant, OidcToken
from .base import Repository, rowcount
from .hot import new_row

PENDING, ALLOWED, DENIED, USED = "pending", "allowed", "denied", "used"
POLL_TOLERANCE = 1.0  # seconds a poll may come early (clock and network jitter) before it is too fast


class OidcClients(Repository):
    async def add(self, row: OidcClient) -> None:
        await self._add(row)

    async def get(self, client_id: str) -> OidcClient | None:
        return await self.db.get(OidcClient, client_id)

    async def delete_expired(self, before: float) -> int:
        """Clients whose secret expired before `before` (their grants and tokens go with them)."""
        grants = delete(OidcGrant).where(OidcGrant.client_id.in_(
            select(OidcClient.id).where(OidcClient.secret_expires_at < before).scalar_subquery()))
        tokens = delete(OidcToken).where(OidcToken.client_id.in_(
            select(OidcClient.id).where(OidcClient.secret_expires_at < before).scalar_subquery()))
        await self.db.execute(grants)
        await self.db.execute(tokens)
        return rowcount(await self.db.execute(delete(OidcClient).where(OidcClient.secret_expires_at < before)))


class OidcGrants(Repository):
    async def add(self, row: OidcGrant) -> None:
        await self._add(row)

    async def get(self, grant_id: str) -> OidcGrant | None:
        return await self.db.get(OidcGrant, grant_id)

    async def by_user_code(self, user_code: str) -> OidcGrant | None:
        stmt = select(OidcGrant).where(OidcGrant.user_code == user_code)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_device_code(self, device_code_hash: str) -> OidcGrant | None:
        stmt = select(OidcGrant).where(OidcGrant.device_code_hash == device_code_hash)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_code(self, code_hash: str) -> OidcGrant | None:
        stmt = select(OidcGrant).where(OidcGrant.code_hash == code_hash)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def decide(self, grant_id: str, now: float, *, allowed: bool, session_id_hash: str, principal_key: str,
                     code_hash: str | None = None, expires_at: float | None = None) -> bool:
        """Pending -> allowed or denied, once, before it expires. True when this call decided it."""
        values: dict[str, object] = dict(status=ALLOWED if allowed else DENIED, decided_at=now,
                                         session_id_hash=session_id_hash, principal_key=principal_key)
        if code_hash is not None:
            values["code_hash"] = code_hash
        if expires_at is not None:
            values["expires_at"] = expires_at
        stmt = (update(OidcGrant).where(OidcGrant.id == grant_id, OidcGrant.status == PENDING,
                                        OidcGrant.expires_at > now).values(**values))
        return rowcount(await self.db.execute(stmt)) == 1

    async def claim(self, grant_id: str, client_id: str, now: float) -> bool:
        """Allowed -> used, once, by its own client, before it expires. True when this call claimed it."""
        stmt = (update(OidcGrant).where(OidcGrant.id == grant_id, OidcGrant.client_id == client_id,
                                        OidcGrant.status == ALLOWED, OidcGrant.expires_at > now)
                .values(status=USED, used_at=now))
        return rowcount(await self.db.execute(stmt)) == 1

    async def burn(self, grant_id: str, now: float) -> None:
        """A code presented with the wrong verifier or redirect URI: it can never be exchanged."""
        stmt = (update(OidcGrant).where(OidcGrant.id == grant_id, OidcGrant.status.in_((PENDING, ALLOWED)))
                .values(status=USED, used_at=now))
        await self.db.execute(stmt)

    async def poll(self, grant_id: str, now: float) -> bool:
        """A device poll: True when it kept the interval (or is the first); False when it came too fast, in which
        case the interval grows by 5 s (RFC 8628 3.5). The poll's time is kept either way."""
        polite = (update(OidcGrant).where(OidcGrant.id == grant_id, or_(
            OidcGrant.last_polled_at.is_(None),
            OidcGrant.last_polled_at <= now - OidcGrant.interval + POLL_TOLERANCE)).values(last_polled_at=now))
        if rowcount(await self.db.execute(polite)) == 1:
            return True
        slower = (update(OidcGrant).where(OidcGrant.id == grant_id)
                  .values(last_polled_at=now, interval=OidcGrant.interval + 5))
        await self.db.execute(slower)
        return False

    async def delete_expired(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(OidcGrant).where(OidcGrant.expires_at < before)))


class OidcTokens(Repository):
    async def add(self, rows: Sequence[OidcToken]) -> None:
        self.db.add_all(rows)
        await self._flush()

    async def by_hash(self, token_hash: str) -> OidcToken | None:
        stmt = select(OidcToken).where(OidcToken.token_hash == token_hash)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def rotate(self, token_id: str, client_id: str, now: float) -> bool:
        """A live, unused refresh token of `client_id` -> used, once. True when this call rotated it."""
        stmt = (update(OidcToken).where(OidcToken.id == token_id, OidcToken.kind == "refresh",
                                        OidcToken.client_id == client_id, OidcToken.used_at.is_(None),
                                        OidcToken.revoked_at.is_(None), OidcToken.expires_at > now)
                .values(used_at=now))
        return rowcount(await self.db.execute(stmt)) == 1

    async def revoke(self, token_id: str, now: float) -> bool:
        stmt = (update(OidcToken).where(OidcToken.id == token_id, OidcToken.revoked_at.is_(None))
                .values(revoked_at=now))
        return rowcount(await self.db.execute(stmt)) == 1

    async def revoke_family(self, family_id: str, now: float) -> int:
        stmt = (update(OidcToken).where(OidcToken.family_id == family_id, OidcToken.revoked_at.is_(None))
                .values(revoked_at=now))
        return rowcount(await self.db.execute(stmt))

    async def revoke_session(self, session_id_hash: str, now: float) -> int:
        stmt = (update(OidcToken).where(OidcToken.session_id_hash == session_id_hash,
                                        OidcToken.revoked_at.is_(None)).values(revoked_at=now))
        return rowcount(await self.db.execute(stmt))

    async def delete_expired(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(OidcToken).where(OidcToken.expires_at < before)))


# ---- the bearer check: a hot unit (`Store.run`, or `UnitOfWork.run` inside a larger change) ---------------

_tokens = cast(sa.Table, OidcToken.__table__)
_sessions = cast(sa.Table, Session.__table__)
_instances = cast(sa.Table, SsoInstance.__table__)
_users = cast(sa.Table, DirectoryUser.__table__)
_PARTS: tuple[tuple[type[object], tuple[sa.Column[object], ...]], ...] = (
    (OidcToken, tuple(_tokens.c)), (Session, tuple(_sessions.c)), (SsoInstance, tuple(_instances.c)),
    (DirectoryUser, tuple(_users.c)))
_LIVE_ACCESS = (
    sa.select(*(c for _, cols in _PARTS for c in cols))
    .select_from(_tokens
                 .join(_sessions, _sessions.c.id_hash == _tokens.c.session_id_hash)
                 .join(_instances, _instances.c.identity_store_id == _tokens.c.identity_store_id)
                 .join(_users, sa.and_(_users.c.id == _tokens.c.user_id,
                                       _users.c.identity_store_id == _tokens.c.identity_store_id)))
    .where(_tokens.c.token_hash == sa.bindparam("token_hash"), _tokens.c.kind == "access",
           _tokens.c.revoked_at.is_(None), _tokens.c.expires_at > sa.bindparam("now"),
           _sessions.c.revoked_at.is_(None), _sessions.c.expires_at > sa.bindparam("now"),
           _sessions.c.principal_key == _tokens.c.principal_key,
           _sessions.c.account_id == _instances.c.owner_account_id, _instances.c.status == "ACTIVE",
           _users.c.status == "ENABLED"))


def live_access(conn: Connection, token_hash: str, now: float
                ) -> tuple[OidcToken, Session, SsoInstance, DirectoryUser] | None:
    """An access token that is live now, with its portal session (not revoked, before its absolute expiry),
    its active instance and its enabled directory user, in one statement; detached rows."""
    row = conn.execute(_LIVE_ACCESS, {"token_hash": token_hash, "now": now}).first()
    if row is None:
        return None
    out: list[object] = []
    at = 0
    for cls, cols in _PARTS:
        out.append(new_row(cls, {c.key: row[at + i] for i, c in enumerate(cols)}))
        at += len(cols)
    return cast(OidcToken, out[0]), cast(Session, out[1]), cast(SsoInstance, out[2]), cast(DirectoryUser, out[3])
