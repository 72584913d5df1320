"""A lease that one process at a time holds for a while: so one node of many runs a periodic job."""

from __future__ import annotations

from .client import RedisClient


class RedisLease:
    def __init__(self, client: RedisClient, prefix: str = "vestibule:lease:") -> None:
        self._redis = client
        self._prefix = prefix

    async def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """True when `holder` now holds `name` for `seconds` (nobody else held it)."""
        return bool(await self._redis.set(self._prefix + name, holder, nx=True, px=max(1, int(seconds * 1000))))
