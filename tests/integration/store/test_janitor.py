"""The janitor on real rows: what it purges, what it keeps for the retention grace, one node per round."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from integration.store import rows
from vestibule.core.throttle import LONGEST_WINDOW_SECONDS as WINDOW_SECONDS
from vestibule.services.janitor import Janitor, JanitorPorts, PurgeReport, run_once
from vestibule.store.redis import RedisClient, RedisLease
from vestibule.store.repositories import Store

NOW = rows.NOW
DAY = 86400.0


async def _seed(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.flows.add(rows.flow("flow-live"))
        await uow.flows.add(rows.flow("flow-expired-recently", expires_at=NOW - 3600))
        await uow.flows.add(rows.flow("flow-old", expires_at=NOW - 2 * DAY))
        await uow.captchas.put("captcha-live", "s", NOW + 60)
        await uow.captchas.put("captcha-old", "s", NOW - 2 * DAY)
        await uow.temp_credentials.add(rows.temporary_credential("ASIA000000000000LIVE"))
        await uow.temp_credentials.add(rows.temporary_credential("ASIA0000000000000OLD", expires_at=NOW - 2 * DAY))
        await uow.sessions.add(rows.session("session-live"))
        await uow.sessions.add(rows.session("session-revoked-recently", revoked_at=NOW - 60))
        await uow.sessions.add(rows.session("session-revoked-old", revoked_at=NOW - 2 * DAY))
        await uow.sessions.add(rows.session("session-expired-old", created_at=NOW - 3 * DAY,
                                            expires_at=NOW - 2 * DAY))
        await uow.recovery.add(rows.recovery_token("token-live"))
        await uow.recovery.add(rows.recovery_token("token-old", expires_at=NOW - 2 * DAY))
        await uow.throttle.fail("counter-live", NOW - 60, WINDOW_SECONDS)
        await uow.throttle.fail("counter-closed", NOW - WINDOW_SECONDS - 60, WINDOW_SECONDS)
        await uow.access_keys.add(rows.access_key("AKIA0000000000000001"))
        await uow.browsers.remember("root:111122223333", "b" * 64, NOW - 30 * DAY)
        await uow.outbox.add(rows.outbox_mail("mail-pending", created_at=NOW - 3 * DAY))
        await uow.outbox.add(rows.outbox_mail("mail-sent-recently", status="sent", finished_at=NOW - 3600))
        await uow.outbox.add(rows.outbox_mail("mail-sent-old", status="sent", finished_at=NOW - 2 * DAY))
        await uow.outbox.add(rows.outbox_mail("mail-failed-old", status="failed", finished_at=NOW - 2 * DAY))



async def test_purges_what_ended_before_the_grace_and_keeps_the_rest(store: Store) -> None:
    await _seed(store)
    report = await run_once(JanitorPorts(store=store, clock=lambda: NOW))
    assert report == PurgeReport(flows=1, captchas=1, temporary_credentials=1, sessions=2, recovery_tokens=1,
                                 throttle_counters=1, mail=2)
    assert report.total == 9 and not report.skipped
    async with store.unit() as uow:
        assert await uow.flows.get("flow-old") is None
        assert await uow.flows.get("flow-live") is not None
        assert await uow.flows.get("flow-expired-recently") is not None, "expired answers still work for a day"
        assert await uow.captchas.get("captcha-old") is None and await uow.captchas.get("captcha-live") is not None
        assert await uow.temp_credentials.get("ASIA0000000000000OLD") is None
        assert await uow.temp_credentials.get("ASIA000000000000LIVE") is not None
        assert {s for s in ("session-live", "session-revoked-recently", "session-revoked-old", "session-expired-old")
                if await uow.sessions.get(s) is not None} == {"session-live", "session-revoked-recently"}
        assert await uow.recovery.get("token-old") is None and await uow.recovery.get("token-live") is not None
        assert set(await uow.throttle.get_many(["counter-live", "counter-closed"])) == {"counter-live"}
        assert await uow.access_keys.get("AKIA0000000000000001") is not None, "keys never expire"
        assert await uow.browsers.known("root:111122223333", "b" * 64), "known browsers never expire"
        kept = {e.id for e in await uow.outbox.entries(["pending", "sent", "failed"], 10)}
        assert kept == {"mail-pending", "mail-sent-recently"}, "pending mail stays until it is sent or given up"
    assert await run_once(JanitorPorts(store=store, clock=lambda: NOW)) == PurgeReport(), "idempotent"


async def test_retention_is_configurable(store: Store) -> None:
    await _seed(store)
    report = await run_once(JanitorPorts(store=store, clock=lambda: NOW, retention_seconds=0))
    assert (report.flows, report.sessions) == (2, 3)
    async with store.unit() as uow:
        assert await uow.flows.get("flow-expired-recently") is None


async def test_one_node_per_round_with_a_lease(store: Store, redis_client: RedisClient,
                                               unique: Callable[[str], str]) -> None:
    await _seed(store)
    lease = RedisLease(redis_client, prefix=unique("lease") + ":")
    node_a = JanitorPorts(store=store, clock=lambda: NOW, lease=lease, node="a")
    node_b = JanitorPorts(store=store, clock=lambda: NOW, lease=lease, node="b")
    first, second = await asyncio.gather(run_once(node_a, lease_seconds=30), run_once(node_b, lease_seconds=30))
    assert sorted([first.skipped, second.skipped]) == [False, True]
    assert first.total + second.total == 9
    assert (await run_once(node_a, lease_seconds=30)).skipped, "the lease lasts for the round"


async def test_the_timer_purges_and_stops(store: Store) -> None:
    await _seed(store)
    janitor = Janitor(JanitorPorts(store=store, clock=lambda: NOW), interval=0.05)
    janitor.start()
    try:
        for _ in range(200):
            async with store.unit() as uow:
                if await uow.flows.get("flow-old") is None:
                    break
            await asyncio.sleep(0.02)
        async with store.unit() as uow:
            assert await uow.flows.get("flow-old") is None
        assert janitor.running
    finally:
        await janitor.stop()
    assert not janitor.running


async def test_interval_zero_disables_the_timer(store: Store) -> None:
    janitor = Janitor(JanitorPorts(store=store, clock=lambda: NOW), interval=0)
    janitor.start()
    assert not janitor.running
    await janitor.stop()


if os.environ.get("VESTIBULE_TEST_DATABASE_URL", "").startswith("postgresql"):
    # PostgreSQL only (SQLite has one writer at a time, so nothing there can hold a row while the janitor runs)

    async def test_the_janitor_skips_a_counter_a_guess_holds(clean_database: str) -> None:
        """A guess holds its counter rows (locked in key order) while it decides; the janitor's purge must neither
        wait for it nor lock rows in another order (which could deadlock with a guess on two stale keys)."""
        from sqlalchemy import text

        from vestibule.store.database import make_engine, sessionmaker_for

        engine = make_engine(clean_database)
        store = Store(sessionmaker_for(engine))
        try:
            async with store.unit() as uow:
                for key in ("stale-a", "stale-b", "stale-c"):
                    await uow.throttle.fail(key, NOW - 2 * DAY, WINDOW_SECONDS)
            async with engine.connect() as guess:
                held = await guess.begin()
                await guess.execute(text("SELECT key FROM throttle_counters WHERE key = 'stale-b' FOR UPDATE"))
                report = await asyncio.wait_for(run_once(JanitorPorts(store=store, clock=lambda: NOW)), 10)
                assert report.throttle_counters == 2, "the held row is left for the next round, without waiting"
                await held.rollback()
            async with store.unit() as uow:
                assert set(await uow.throttle.get_many(["stale-a", "stale-b", "stale-c"])) == {"stale-b"}
            assert (await run_once(JanitorPorts(store=store, clock=lambda: NOW))).throttle_counters == 1
        finally:
            await store.close()
            await engine.dispose()
