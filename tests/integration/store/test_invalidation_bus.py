"""Contract: the invalidation bus, in one process and across processes over Redis pub/sub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from vestibule.services.invalidation import ACCESS_KEY, SESSION, Invalidation, InvalidationBus
from vestibule.store.redis import RedisChannel, RedisClient, connect


async def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not delivered in time"
        await asyncio.sleep(0.01)


async def test_in_process_delivery_is_immediate_and_per_topic() -> None:
    bus = InvalidationBus()
    keys: list[str] = []
    sessions: list[str] = []
    unsubscribe = bus.subscribe(ACCESS_KEY, keys.append)
    bus.subscribe(SESSION, sessions.append)
    await bus.publish(ACCESS_KEY, "AKIA1")
    assert keys == ["AKIA1"] and sessions == [], "delivered before publish returns, only to its topic"
    unsubscribe()
    await bus.publish(ACCESS_KEY, "AKIA2")
    assert keys == ["AKIA1"]
    assert not bus.crosses_processes


async def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus = InvalidationBus()
    seen: list[str] = []

    def broken(ident: str) -> None:
        raise ValueError(ident)

    bus.subscribe(ACCESS_KEY, broken)
    bus.subscribe(ACCESS_KEY, seen.append)
    await bus.publish(ACCESS_KEY, "AKIA1")
    assert seen == ["AKIA1"]


def test_messages_round_trip_and_garbage_is_refused() -> None:
    message = Invalidation("access-key", "AKIA1", "node-a")
    assert Invalidation.decode(message.encode()) == message
    for raw in (b"not json", b"[]", b'{"t": "access-key", "i": 1, "n": "x"}', b'{"t": "x"}'):
        assert Invalidation.decode(raw) is None


async def test_redis_carries_invalidations_to_other_nodes_once(redis_client: RedisClient,
                                                               unique: Callable[[str], str]) -> None:
    channel = unique("invalidations")
    node_a = InvalidationBus(RedisChannel(redis_client, channel), node="a")
    node_b = InvalidationBus(RedisChannel(redis_client, channel), node="b")
    seen_a: list[str] = []
    seen_b: list[str] = []
    node_a.subscribe(ACCESS_KEY, seen_a.append)
    node_b.subscribe(ACCESS_KEY, seen_b.append)
    await node_a.start()
    await node_b.start()
    try:
        assert node_a.crosses_processes
        await node_a.publish(ACCESS_KEY, "AKIA1")
        assert seen_a == ["AKIA1"], "the publishing node forgets at once"
        await _eventually(lambda: seen_b == ["AKIA1"])
        await node_b.publish(SESSION, "abc")  # nobody listens to this topic
        await node_b.publish(ACCESS_KEY, "AKIA2")
        await _eventually(lambda: seen_a == ["AKIA1", "AKIA2"])
        await asyncio.sleep(0.1)
        assert seen_a == ["AKIA1", "AKIA2"] and seen_b == ["AKIA1", "AKIA2"], "no echo of a node's own message"
        await redis_client.publish(channel, b"garbage")
        await node_a.publish(ACCESS_KEY, "AKIA3")
        await _eventually(lambda: seen_b[-1:] == ["AKIA3"])
    finally:
        await node_a.close()
        await node_b.close()


async def test_a_lost_connection_makes_subscribers_forget_everything(unique: Callable[[str], str]) -> None:
    import redis.asyncio as redis

    from support import reachable_redis_url

    url = await reachable_redis_url()
    name = unique("listener").replace(":", "-")
    listener_client, admin = redis.from_url(url, client_name=name), connect(url)
    channel = unique("invalidations")
    listener = InvalidationBus(RedisChannel(listener_client, channel, retry_seconds=0.05), node="listener")
    gaps: list[str] = []
    seen: list[str] = []
    listener.subscribe(ACCESS_KEY, seen.append, on_gap=lambda: gaps.append("all"))
    await listener.start()
    try:
        ours = [c for c in await admin.client_list() if c.get("name") == name]
        assert ours, "the listener's connection carries our name"
        for info in ours:  # only this test's connections: other runs share the server
            await admin.client_kill_filter(_id=str(info["id"]))
        await _eventually(lambda: gaps == ["all"])
        await InvalidationBus(RedisChannel(admin, channel), node="sender").publish(ACCESS_KEY, "AKIA9")
        await _eventually(lambda: seen == ["AKIA9"])
    finally:
        await listener.close()
        await listener_client.aclose()
        await admin.aclose()


async def test_publishing_while_redis_is_down_still_forgets_locally() -> None:
    down = connect("redis://127.0.0.1:1/0")
    bus = InvalidationBus(RedisChannel(down), node="lonely")
    seen: list[str] = []
    bus.subscribe(ACCESS_KEY, seen.append)
    try:
        await bus.publish(ACCESS_KEY, "AKIA1")
        assert seen == ["AKIA1"]
    finally:
        await down.aclose()
