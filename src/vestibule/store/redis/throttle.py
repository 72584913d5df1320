"""Throttle counters shared by every node: a hash per key (failures, last time), expiring with the window."""

from __future__ import annotations

from collections.abc import Sequence

from ...core.throttle import WINDOW_SECONDS, ThrottleState
from .client import RedisClient, connect


class RedisThrottle:
    def __init__(self, url: str = "", prefix: str = "vestibule:throttle:", *,
                 client: RedisClient | None = None) -> None:
        self._owned = client is None
        self._redis = client if client is not None else connect(url)
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
        if self._owned:
            await self._redis.aclose()
