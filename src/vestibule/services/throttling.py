"""Failure counters per identifier and per client address, in the database or in Redis."""

from __future__ import annotations

from typing import Protocol, Sequence

from ..core.throttle import WINDOW_SECONDS, ThrottleState
from ..store.repositories import Store


class Throttle(Protocol):
    async def states(self, keys: Sequence[str]) -> list[ThrottleState]: ...
    async def fail(self, keys: Sequence[str], now: float) -> None: ...
    async def reset(self, keys: Sequence[str]) -> None: ...


class DatabaseThrottle:
    """For a single node on the embedded database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def states(self, keys: Sequence[str]) -> list[ThrottleState]:
        async with self._store.unit() as uow:
            rows = await uow.throttle.get_many(keys)
        return [ThrottleState(rows[k].failures, rows[k].last_failure_at) if k in rows else ThrottleState() for k in keys]

    async def fail(self, keys: Sequence[str], now: float) -> None:
        async with self._store.unit() as uow:
            for key in keys:
                await uow.throttle.fail(key, now, WINDOW_SECONDS)

    async def reset(self, keys: Sequence[str]) -> None:
        async with self._store.unit() as uow:
            await uow.throttle.reset(keys)


class RedisThrottle:
    """Shared by every node: a hash per key with the failure count and last time, expiring with the window."""

    def __init__(self, url: str, prefix: str = "vestibule:throttle:") -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._prefix = prefix

    async def states(self, keys: Sequence[str]) -> list[ThrottleState]:
        pipe = self._redis.pipeline()
        for key in keys:
            pipe.hmget(self._prefix + key, "n", "t")
        out: list[ThrottleState] = []
        for n, t in await pipe.execute():
            out.append(ThrottleState(int(n), float(t)) if n is not None and t is not None else ThrottleState())
        return out

    async def fail(self, keys: Sequence[str], now: float) -> None:
        pipe = self._redis.pipeline()
        for key in keys:
            name = self._prefix + key
            pipe.hincrby(name, "n", 1)
            pipe.hset(name, "t", repr(now))
            pipe.expire(name, WINDOW_SECONDS)
        await pipe.execute()

    async def reset(self, keys: Sequence[str]) -> None:
        if keys:
            await self._redis.delete(*[self._prefix + k for k in keys])

    async def close(self) -> None:
        await self._redis.aclose()
