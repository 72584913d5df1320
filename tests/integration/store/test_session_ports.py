"""Contract: console sessions, known browsers, flows, recovery tokens, CAPTCHA answers."""

from __future__ import annotations

from integration.store import rows
from vestibule.store.repositories import Store

NOW = rows.NOW


async def test_sessions_touch_revoke_and_active(store: Store) -> None:
    async with store.unit() as uow:
        await uow.sessions.add(rows.session("s1", created_at=NOW))
        await uow.sessions.add(rows.session("s2", created_at=NOW + 1))
        await uow.sessions.add(rows.session("s3", created_at=NOW + 2))
        await uow.sessions.add(rows.session("old", created_at=NOW - 7200, expires_at=NOW - 1))
        await uow.sessions.add(rows.session("other", "user:AIDA1"))
    async with store.unit() as uow:
        assert [s.id_hash for s in await uow.sessions.active_for("root:111122223333", NOW)] == ["s3", "s2", "s1"]
        await uow.sessions.touch("s1", NOW + 30)
        await uow.sessions.revoke("s2", NOW + 40)
    async with store.unit() as uow:
        s1, s2 = await uow.sessions.get("s1"), await uow.sessions.get("s2")
        assert s1 is not None and s1.last_seen_at == NOW + 30 and s1.revoked_at is None
        assert s2 is not None and s2.revoked_at == NOW + 40
        await uow.sessions.revoke("s2", NOW + 50)  # the first revocation time stays
    async with store.unit() as uow:
        s2 = await uow.sessions.get("s2")
        assert s2 is not None and s2.revoked_at == NOW + 40
        assert await uow.sessions.revoke_all("root:111122223333", NOW + 60, keep="s3") == 2  # s1 and old
    async with store.unit() as uow:
        assert [s.id_hash for s in await uow.sessions.active_for("root:111122223333", NOW)] == ["s3"]
        assert await uow.sessions.revoke_all("root:111122223333", NOW + 70) == 1
        assert [s.id_hash for s in await uow.sessions.active_for("user:AIDA1", NOW)] == ["other"]


async def test_browsers_become_known_once(store: Store) -> None:
    async with store.unit() as uow:
        assert await uow.browsers.known("root:1", "b1") is False
        await uow.browsers.remember("root:1", "b1", NOW)
    async with store.unit() as uow:
        await uow.browsers.remember("root:1", "b1", NOW + 10)
        assert await uow.browsers.known("root:1", "b1") is True
        assert await uow.browsers.known("root:2", "b1") is False


async def test_flows_keep_their_data(store: Store) -> None:
    async with store.unit() as uow:
        await uow.flows.add(rows.flow("f1", data={"email": "a@example.com", "attempts": 1, "nested": {"k": [1, 2]}}))
    async with store.unit() as uow:
        record = await uow.flows.get("f1")
        assert record is not None and record.data == {"email": "a@example.com", "attempts": 1, "nested": {"k": [1, 2]}}
        assert await uow.flows.replace("f1", 0, state="password", data={**record.data, "attempts": 2},
                                       expires_at=record.expires_at)
        assert not await uow.flows.replace("f1", 0, state="mfa", data={}, expires_at=0.0), "the version moved on"
    async with store.unit() as uow:
        record = await uow.flows.get("f1")
        assert record is not None and record.state == "password" and record.data["attempts"] == 2
        assert record.version == 1
        assert await uow.flows.get("nope") is None


async def test_flows_purge_keeps_a_day_of_expired(store: Store) -> None:
    async with store.unit() as uow:
        await uow.flows.add(rows.flow("recent", expires_at=NOW - 3600))
        await uow.flows.add(rows.flow("ancient", expires_at=NOW - 2 * 86400))
    async with store.unit() as uow:
        await uow.flows.purge_expired(NOW)
    async with store.unit() as uow:
        assert await uow.flows.get("recent") is not None and await uow.flows.get("ancient") is None


async def test_recovery_tokens_consume_once_supersede_and_expire(store: Store) -> None:
    async with store.unit() as uow:
        await uow.recovery.add(rows.recovery_token("t1"))
        await uow.recovery.add(rows.recovery_token("t2"))
        await uow.recovery.add(rows.recovery_token("stale", expires_at=NOW - 1))
    async with store.unit() as uow:
        assert await uow.recovery.consume("t1", NOW) is True
        assert await uow.recovery.consume("t1", NOW) is False
        assert await uow.recovery.consume("stale", NOW) is False
        await uow.recovery.supersede("111122223333", NOW + 1)
    async with store.unit() as uow:
        t1, t2 = await uow.recovery.get("t1"), await uow.recovery.get("t2")
        assert t1 is not None and t1.used_at == NOW
        assert t2 is not None and t2.used_at == NOW + 1
        assert await uow.recovery.consume("t2", NOW + 2) is False


async def test_captchas_replace_and_take_once(store: Store) -> None:
    async with store.unit() as uow:
        await uow.captchas.put("b1", "sealed-1", NOW + 60)
        await uow.captchas.put("b1", "sealed-2", NOW + 120)
    async with store.unit() as uow:
        row = await uow.captchas.get("b1")
        assert row is not None and (row.answer_sealed, row.expires_at) == ("sealed-2", NOW + 120)
    async with store.unit() as uow:
        taken = await uow.captchas.take("b1")
        assert taken is not None and taken.answer_sealed == "sealed-2"
        assert await uow.captchas.take("b1") is None
