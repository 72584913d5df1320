"""Console sessions and known browsers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, false, or_, select, update

from ..models import CliLogin, KnownBrowser, Session
from .base import Repository, rowcount


@dataclass(frozen=True)
class SessionFilter:
    """What ListSessions selects: one principal's sessions (`principal_key`) or the whole account's (root and
    IAM users); with a public ID only (rows older than migration 0022 have no ARN)."""

    account_id: str
    principal_key: str | None = None
    active: bool | None = None  # True: live now; False: revoked or ended
    client_id: str | None = None  # login sessions of that client only
    issued_after: float | None = None
    issued_before: float | None = None


class Sessions(Repository):
    async def add(self, session: Session) -> None:
        await self._add(session)

    async def get(self, id_hash: str) -> Session | None:
        return await self.db.get(Session, id_hash)

    async def touch(self, id_hash: str, at: float) -> None:
        await self.db.execute(update(Session).where(Session.id_hash == id_hash).values(last_seen_at=at))

    async def mark_reauthenticated(self, id_hash: str, at: float, browser_hash: str) -> None:
        """The session's password was confirmed again at `at`, in the browser `browser_hash` (live sessions only)."""
        await self.db.execute(
            update(Session).where(Session.id_hash == id_hash, Session.revoked_at.is_(None))
            .values(reauthenticated_at=at, reauthenticated_browser=browser_hash)
        )

    async def revoke(self, id_hash: str, at: float) -> None:
        await self.db.execute(
            update(Session).where(Session.id_hash == id_hash, Session.revoked_at.is_(None)).values(revoked_at=at)
        )

    async def revoke_all(self, principal_key: str, at: float, keep: str | None = None) -> int:
        stmt = update(Session).where(Session.principal_key == principal_key, Session.revoked_at.is_(None))
        if keep:
            stmt = stmt.where(Session.id_hash != keep)
        result = await self.db.execute(stmt.values(revoked_at=at))
        return rowcount(result)

    async def end_all(self, principal_key: str, at: float, keep: str | None = None,
                      kind: str | None = None) -> list[str]:
        """Revokes the principal's live sessions (of `kind` only when given, all but `keep`); their ID hashes."""
        stmt = update(Session).where(Session.principal_key == principal_key, Session.revoked_at.is_(None))
        if keep:
            stmt = stmt.where(Session.id_hash != keep)
        if kind:
            stmt = stmt.where(Session.kind == kind)
        result = await self.db.execute(stmt.values(revoked_at=at).returning(Session.id_hash)
                                       .execution_options(synchronize_session=False))
        return [str(h) for h in result.scalars().all()]

    async def all_for(self, principal_key: str) -> Sequence[Session]:
        """Every stored session of the principal (live, ended, expired until purged), oldest first."""
        stmt = select(Session).where(Session.principal_key == principal_key).order_by(Session.created_at)
        return (await self.db.execute(stmt)).scalars().all()

    async def delete_all_for(self, principal_key: str) -> int:
        """Forget every session row of the principal (a deleted personal profile: revoke them first)."""
        return rowcount(await self.db.execute(delete(Session).where(Session.principal_key == principal_key)))

    async def revoke_one(self, id_hash: str, at: float) -> bool:
        """Revokes one live session; True when this call revoked it."""
        stmt = update(Session).where(Session.id_hash == id_hash, Session.revoked_at.is_(None)).values(revoked_at=at)
        return rowcount(await self.db.execute(stmt)) == 1

    async def by_public_id(self, public_id: str) -> tuple[Session, CliLogin | None] | None:
        stmt = (select(Session, CliLogin).outerjoin(CliLogin, CliLogin.session_hash == Session.id_hash)
                .where(Session.public_id == public_id))
        row = (await self.db.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def page(self, where: SessionFilter, now: float, limit: int,
                   after: tuple[float, str] | None = None) -> list[tuple[Session, CliLogin | None]]:
        """Newest first, keyset on (created_at, public_id): at most `limit` rows after `after`."""
        stmt = (select(Session, CliLogin).outerjoin(CliLogin, CliLogin.session_hash == Session.id_hash)
                .where(Session.account_id == where.account_id, Session.public_id.is_not(None)))
        if where.principal_key is not None:
            stmt = stmt.where(Session.principal_key == where.principal_key)
        else:
            stmt = stmt.where(or_(Session.principal_key.startswith("root:"), Session.principal_key.startswith("user:")))
        live = and_(Session.revoked_at.is_(None), Session.expires_at > now,
                    Session.last_seen_at + Session.idle_seconds > now)
        if where.active is True:
            stmt = stmt.where(live)
        elif where.active is False:
            stmt = stmt.where(~live)
        if where.client_id is not None:
            stmt = stmt.where(CliLogin.client_id == where.client_id) if where.client_id else stmt.where(false())
        if where.issued_after is not None:
            stmt = stmt.where(Session.created_at > where.issued_after)
        if where.issued_before is not None:
            stmt = stmt.where(Session.created_at < where.issued_before)
        if after is not None:
            at, public_id = after
            stmt = stmt.where(or_(Session.created_at < at, and_(Session.created_at == at,
                                                                 Session.public_id < public_id)))
        stmt = stmt.order_by(Session.created_at.desc(), Session.public_id.desc()).limit(limit)
        return [(r[0], r[1]) for r in (await self.db.execute(stmt)).all()]

    async def live_for(self, principal_key: str, now: float) -> list[tuple[Session, CliLogin | None]]:
        """The principal's live sessions of both kinds with their login data, newest first."""
        stmt = (select(Session, CliLogin).outerjoin(CliLogin, CliLogin.session_hash == Session.id_hash)
                .where(Session.principal_key == principal_key, Session.revoked_at.is_(None),
                       Session.expires_at > now, Session.last_seen_at + Session.idle_seconds > now)
                .order_by(Session.created_at.desc()))
        return [(r[0], r[1]) for r in (await self.db.execute(stmt)).all()]

    async def active_for(self, principal_key: str, now: float) -> Sequence[Session]:
        stmt = (
            select(Session)
            .where(Session.principal_key == principal_key, Session.revoked_at.is_(None), Session.expires_at > now)
            .order_by(Session.created_at.desc())
        )
        return (await self.db.execute(stmt)).scalars().all()


class Browsers(Repository):
    async def known(self, principal_key: str, browser_hash: str) -> bool:
        return await self.db.get(KnownBrowser, (principal_key, browser_hash)) is not None

    async def forget_all(self, principal_key: str) -> int:
        """Every browser the principal signed in from is unknown again (its next sign-in asks for the code)."""
        return rowcount(await self.db.execute(delete(KnownBrowser).where(KnownBrowser.principal_key == principal_key)))

    async def remember(self, principal_key: str, browser_hash: str, at: float) -> None:
        row = await self.db.get(KnownBrowser, (principal_key, browser_hash))
        if row is None:
            await self._add(KnownBrowser(principal_key=principal_key, browser_hash=browser_hash, first_seen_at=at,
                                         last_seen_at=at))
        else:
            row.last_seen_at = at
            await self.db.flush()
