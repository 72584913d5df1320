"""Throttle failure counters in the database, read and changed through the unit of work (the sign-in path
uses the hot units `hot.throttle_update` and `hot.throttle_rows`)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ..models import ThrottleCounter
from .base import Repository

_table = ThrottleCounter.__table__


class ThrottleCounters(Repository):
    async def get_many(self, keys: Sequence[str]) -> dict[str, ThrottleCounter]:
        stmt = select(ThrottleCounter).where(ThrottleCounter.key.in_(list(keys)))
        return {row.key: row for row in (await self.db.execute(stmt)).scalars().all()}

    async def fail(self, key: str, at: float, window: float) -> None:
        """One failure more, in one statement (a count whose window had closed restarts at 1)."""
        dialect = sqlite if self.db.get_bind().dialect.name == "sqlite" else postgresql
        new = dialect.insert(ThrottleCounter).values(key=key, failures=1, last_failure_at=at)
        stale = sa.literal(at) - ThrottleCounter.last_failure_at > window
        await self.db.execute(new.on_conflict_do_update(index_elements=[_table.c.key], set_={
            "failures": sa.case((stale, 1), else_=ThrottleCounter.failures + 1),
            "last_failure_at": new.excluded.last_failure_at,
        }))

    async def reset(self, keys: Sequence[str]) -> None:
        await self.db.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(list(keys))))
