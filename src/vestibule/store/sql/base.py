"""What every SQL repository shares: its session, and uniqueness errors mapped to `Conflict`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Base


def rowcount(result: object) -> int:
    """Rows an UPDATE or DELETE touched (the typed Result API does not declare it)."""
    return int(getattr(result, "rowcount", 0) or 0)


class Conflict(Exception):
    """A uniqueness rule was broken by a concurrent or repeated write."""


class Repository:
    """One port's SQL implementation, working inside the unit of work's transaction."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def _add(self, obj: Base) -> None:
        self.db.add(obj)
        await self._flush()

    async def _flush(self) -> None:
        try:
            await self.db.flush()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None
