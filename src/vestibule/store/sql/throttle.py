"""Throttle failure counters in the database (single node)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from ..models import ThrottleCounter
from .base import Repository


class ThrottleCounters(Repository):
    async def get_many(self, keys: Sequence[str]) -> dict[str, ThrottleCounter]:
        stmt = select(ThrottleCounter).where(ThrottleCounter.key.in_(list(keys)))
        return {row.key: row for row in (await self.db.execute(stmt)).scalars().all()}

    async def fail(self, key: str, at: float, window: float) -> None:
        row = await self.db.get(ThrottleCounter, key, with_for_update=True)
        if row is None:
            await self._add(ThrottleCounter(key=key, failures=1, last_failure_at=at))
        elif at - row.last_failure_at > window:
            row.failures = 1
            row.last_failure_at = at
        else:
            row.failures += 1
            row.last_failure_at = at
        await self.db.flush()

    async def reset(self, keys: Sequence[str]) -> None:
        await self.db.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(list(keys))))
