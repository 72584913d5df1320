"""Contract: the audit log, the database throttle counters, and the throttle port on both of its backends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from integration.store import rows
from vestibule.core.throttle import CAPTCHA_AFTER, DELAY_AFTER, WINDOW_SECONDS, Scope, ThrottleKey
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
    alice, ip = ThrottleKey(Scope.PRINCIPAL, key("user:acme:alice")), ThrottleKey(Scope.CLIENT, key("198.51.100.4"))
    unknown = ThrottleKey(Scope.CLIENT, key("unknown"))
    assert await node_a.reserve([alice, ip], 1000.0, captcha_solved=False) is None
    assert await node_a.reserve([alice], 1001.0, captcha_solved=False) is None
    states = await node_b.states([alice, ip, unknown], 1002.0)
    assert [s.failures for s in states] == [2, 1, 0]
    assert states[0].last_failure_at == 1001.0 and states[2].last_failure_at is None
    assert [s.failures for s in await node_b.states([alice, ip], 1001.0 + WINDOW_SECONDS + 1)] == [0, 0], \
        "counts are forgotten a window after the last failure"
    assert await node_b.reserve([alice, ip], 1003.0, captcha_solved=False) is None  # the third failure
    refused = await node_a.reserve([alice, ip], 1004.0, captcha_solved=False)
    assert refused is not None and refused.captcha_required and refused.retry_after == 0
    assert [s.failures for s in await node_a.states([alice, ip], 1004.0)] == [3, 2], "a refusal counts nothing"
    assert await node_a.reserve([alice, ip], 1004.0, captcha_solved=True) is None
    await node_b.settle([alice], [ip])  # the fourth was right: alice is cleared, the address takes it back
    assert [s.failures for s in await node_a.states([alice, ip], 1005.0)] == [0, 2]
    await node_a.settle([], [ip, ip])
    await node_a.settle([], [ip])
    assert [s.failures for s in await node_a.states([alice, ip], 1005.0)] == [0, 0]
    await node_a.settle([], [])


async def _concurrent_reservations(node_a: Throttle, node_b: Throttle, key: Callable[[str], str]) -> None:
    """60 reservations at once on one principal, half through each node: exactly the three before the CAPTCHA
    are admitted, and the count says so; solved CAPTCHAs then admit until the delay starts."""
    bob, ip = ThrottleKey(Scope.PRINCIPAL, key("user:acme:bob")), ThrottleKey(Scope.CLIENT, key("192.0.2.9"))
    answers = await asyncio.gather(*(node.reserve([bob, ip], 2000.0, captcha_solved=False)
                                     for node in (node_a, node_b) * 30))
    assert sum(a is None for a in answers) == CAPTCHA_AFTER
    assert all(a.captcha_required for a in answers if a is not None)
    answers = await asyncio.gather(*(node.reserve([ip, bob], 2000.0, captcha_solved=True)
                                     for node in (node_a, node_b) * 30))
    assert sum(a is None for a in answers) == DELAY_AFTER - CAPTCHA_AFTER
    assert [s.failures for s in await node_b.states([bob, ip], 2000.0)] == [DELAY_AFTER, DELAY_AFTER]


async def test_database_throttle_contract(store: Store, unique: Callable[[str], str]) -> None:
    await _throttle_contract(DatabaseThrottle(store), DatabaseThrottle(store), unique)


async def test_database_throttle_reservations_are_atomic(store: Store, unique: Callable[[str], str]) -> None:
    await _concurrent_reservations(DatabaseThrottle(store), DatabaseThrottle(store), unique)


async def test_redis_throttle_contract(redis_client: RedisClient, unique: Callable[[str], str]) -> None:
    await _throttle_contract(RedisThrottle(client=redis_client), RedisThrottle(client=redis_client), unique)
    alice = ThrottleKey(Scope.PRINCIPAL, unique("user:acme:alice"))
    assert await RedisThrottle(client=redis_client).reserve([alice], 3000.0, captcha_solved=False) is None
    ttl = await redis_client.ttl("vestibule:throttle:" + alice.name)
    assert 0 < ttl <= WINDOW_SECONDS, "Redis counters expire with the window"


async def test_redis_throttle_reservations_are_atomic(redis_client: RedisClient, unique: Callable[[str], str]) -> None:
    await _concurrent_reservations(RedisThrottle(client=redis_client), RedisThrottle(client=redis_client), unique)
