"""Failure counters per identifier and per client address, in the database or in Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..core.throttle import WINDOW_SECONDS, ThrottleState
from ..store.redis import RedisThrottle
from ..store.repositories import Store
from ..store.sql import hot

__all__ = ["DatabaseThrottle", "RedisThrottle", "Throttle"]


class Throttle(Protocol):
    async def states(self, keys: Sequence[str]) -> list[ThrottleState]: ...
    async def fail(self, keys: Sequence[str], now: float) -> None: ...
    async def reset(self, keys: Sequence[str]) -> None: ...


class DatabaseThrottle:
    """For a single node on the embedded database (the janitor drops counters whose window has closed)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def states(self, keys: Sequence[str]) -> list[ThrottleState]:
        rows = await self._store.run(hot.throttle_rows, keys)
        return [ThrottleState(*rows[k]) if k in rows else ThrottleState() for k in keys]

    async def fail(self, keys: Sequence[str], now: float) -> None:
        async with self._store.unit() as uow:
            for key in keys:
                await uow.throttle.fail(key, now, WINDOW_SECONDS)

    async def reset(self, keys: Sequence[str]) -> None:
        async with self._store.unit() as uow:
            await uow.throttle.reset(keys)
