"""Console sessions and known browsers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from ..models import KnownBrowser, Session
from .base import Repository, rowcount


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

    async def remember(self, principal_key: str, browser_hash: str, at: float) -> None:
        row = await self.db.get(KnownBrowser, (principal_key, browser_hash))
        if row is None:
            await self._add(KnownBrowser(principal_key=principal_key, browser_hash=browser_hash, first_seen_at=at,
                                         last_seen_at=at))
        else:
            row.last_seen_at = at
            await self.db.flush()
