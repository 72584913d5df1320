"""The suite's second run must really be on PostgreSQL and Redis (CI runs `make test`, which sets both)."""

from __future__ import annotations

import os

from support import reachable_redis_url
from vestibule.core.throttle import Scope, ThrottleKey
from vestibule.runtime import Runtime
from vestibule.services.throttling import DatabaseThrottle, RedisThrottle

PG = os.environ.get("VESTIBULE_TEST_DATABASE_URL", "")
REDIS = os.environ.get("VESTIBULE_TEST_REDIS_URL", "")


def test_backend_matches_environment(runtime: Runtime) -> None:
    url = runtime.deps.settings.effective_database_url
    if PG:
        assert url.startswith("postgresql+asyncpg://") and runtime.engine.dialect.name == "postgresql"
    else:
        assert runtime.engine.dialect.name == "sqlite"
    expected = RedisThrottle if REDIS else DatabaseThrottle
    assert isinstance(runtime.deps.throttle, expected)
    assert runtime.bus.crosses_processes is bool(REDIS), "invalidations travel over Redis when it is configured"


async def test_failures_are_counted_in_redis_across_nodes() -> None:
    import redis.asyncio as redis

    # The SQLite pass's own database (its fallback URL): never the one the PostgreSQL + Redis pass beside it
    # uses, whose counters a flush here would wipe in the middle of its tests.
    url = await reachable_redis_url()
    probe = redis.from_url(url)
    try:
        await probe.flushdb()
    finally:
        await probe.aclose()
    node_a, node_b = RedisThrottle(url), RedisThrottle(url)
    try:
        alice, ip = ThrottleKey(Scope.PRINCIPAL, "user:acme:alice"), ThrottleKey(Scope.CLIENT, "198.51.100.4")
        assert await node_a.reserve([alice, ip], 1000.0, captcha_solved=False) is None
        assert await node_a.reserve([alice], 1001.0, captcha_solved=False) is None
        states = await node_b.states([alice, ip, ThrottleKey(Scope.CLIENT, "unknown")], 1002.0)
        assert [s.failures for s in states] == [2, 1, 0]
        assert states[0].last_failure_at == 1001.0
        await node_b.settle([alice], ())
        assert (await node_a.states([alice], 1002.0))[0].failures == 0
    finally:
        await node_a.close()
        await node_b.close()
