"""Contract: the audit log, the database throttle counters, and the throttle port on both of its backends."""

from __future__ import annotations

from collections.abc import Callable

from integration.store import rows
from vestibule.core.throttle import WINDOW_SECONDS
from vestibule.services.throttling import DatabaseThrottle, RedisThrottle, Throttle
from vestibule.store.models import AuditEvent
from vestibule.store.redis import RedisClient
from vestibule.store.repositories import Store

NOW = rows.NOW


async def test_audit_events_per_account_in_time_order(store: Store) -> None:
    async with store.unit() as uow:
        for at, event in ((NOW + 2, "b"), (NOW + 1, "a"), (NOW + 2, "c")):
            await uow.audit.add(AuditEvent(at=at, account_id="111122223333", event=event, result="success",
                                           detail={"why": event}))
        await uow.audit.add(AuditEvent(at=NOW, account_id=None, event="unknown", result="failure"))
    async with store.unit() as uow:
        events = await uow.audit.for_account("111122223333")
        assert [(e.event, e.detail) for e in events] == [("a", {"why": "a"}), ("b", {"why": "b"}), ("c", {"why": "c"})]
        assert [e.event for e in await uow.audit.for_account("111122223333", limit=1)] == ["a"]
        assert await uow.audit.count() == 4


async def test_database_counters_restart_after_the_window(store: Store) -> None:
    async with store.unit() as uow:
        await uow.throttle.fail("k", NOW, WINDOW_SECONDS)
        await uow.throttle.fail("k", NOW + 1, WINDOW_SECONDS)
    async with store.unit() as uow:
        assert (await uow.throttle.get_many(["k", "none"]))["k"].failures == 2
        await uow.throttle.fail("k", NOW + 1 + WINDOW_SECONDS + 1, WINDOW_SECONDS)
    async with store.unit() as uow:
        counters = await uow.throttle.get_many(["k"])
        assert counters["k"].failures == 1 and counters["k"].last_failure_at == NOW + 2 + WINDOW_SECONDS
        await uow.throttle.reset(["k"])
    async with store.unit() as uow:
        assert await uow.throttle.get_many(["k"]) == {}


async def _throttle_contract(node_a: Throttle, node_b: Throttle, key: Callable[[str], str]) -> None:
    alice, ip = key("iam:acme:alice"), key("ip:198.51.100.4")
    await node_a.fail([alice, ip], 1000.0)
    await node_a.fail([alice], 1001.0)
    states = await node_b.states([alice, ip, key("ip:unknown")])
    assert [s.failures for s in states] == [2, 1, 0]
    assert states[0].last_failure_at == 1001.0 and states[2].last_failure_at is None
    await node_b.reset([alice])
    assert [s.failures for s in await node_a.states([alice, ip])] == [0, 1]
    await node_a.reset([])


async def test_database_throttle_contract(store: Store, unique: Callable[[str], str]) -> None:
    await _throttle_contract(DatabaseThrottle(store), DatabaseThrottle(store), unique)


async def test_redis_throttle_contract(redis_client: RedisClient, unique: Callable[[str], str]) -> None:
    await _throttle_contract(RedisThrottle(client=redis_client), RedisThrottle(client=redis_client), unique)
    ttl = await redis_client.ttl("vestibule:throttle:" + unique("ip:198.51.100.4"))
    assert 0 < ttl <= WINDOW_SECONDS, "Redis counters expire with the window"
