"""One connection pool per process, shared by the counters, the channel and the lease."""

from __future__ import annotations

import redis.asyncio as redis

RedisClient = redis.Redis


def connect(url: str) -> RedisClient:
    return redis.from_url(url)
