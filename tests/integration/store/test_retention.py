"""Audit retention and bounded purges (issue 14): the janitor deletes in batches of its size, at most its number
of batches a round, oldest first; audit events past the retention go (0 keeps them); profiles' trusted browsers
go after the grace; `events archive` writes JSON lines, deletes what it wrote, and resumes from its file. On every
configured backend."""

from __future__ import annotations

import json
from pathlib import Path

from integration.store import rows
from vestibule.services import audit_archive
from vestibule.services.audit import new_event
from vestibule.services.context import Client
from vestibule.services.janitor import JanitorPorts, run_once
from vestibule.store.models import Profile, ProfileTrustedBrowser
from vestibule.store.repositories import Store

NOW = rows.NOW
DAY = 86400.0
CLIENT = Client("203.0.113.9", "test-agent")


async def _events(store: Store, ats: list[float]) -> None:
    async with store.unit() as uow:
        for n, at in enumerate(ats):
            await uow.audit.add(new_event(at=at, event="ConsoleLogin", result="success", client=CLIENT,
                                          account_id="111122223333", principal=f"user/{n}"))


async def _event_times(store: Store) -> list[float]:
    async with store.unit() as uow:
        return sorted(ev.at for ev in await uow.audit.for_account("111122223333", 10000))


async def test_the_janitor_purges_in_bounded_batches_oldest_first(store: Store) -> None:
    async with store.unit() as uow:
        for n in range(10):
            await uow.flows.add(rows.flow(f"flow-{n}", expires_at=NOW - 2 * DAY - n))
        await uow.flows.add(rows.flow("flow-live"))
    ports = JanitorPorts(store=store, clock=lambda: NOW, batch=3, max_batches=2)
    assert (await run_once(ports)).flows == 6, "two batches of three, the rest waits for the next round"
    async with store.unit() as uow:
        left = {n for n in range(10) if await uow.flows.get(f"flow-{n}") is not None}
    assert left == {0, 1, 2, 3}, "the oldest went first"
    assert (await run_once(ports)).flows == 4
    assert (await run_once(ports)).flows == 0
    async with store.unit() as uow:
        assert await uow.flows.get("flow-live") is not None


async def test_audit_events_past_the_retention_are_purged(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    await _events(store, [NOW - 400 * DAY, NOW - 366 * DAY, NOW - 364 * DAY, NOW - 60])
    assert (await run_once(JanitorPorts(store=store, clock=lambda: NOW, audit_retention_seconds=0))).audit_events == 0
    assert len(await _event_times(store)) == 4, "0 keeps events for ever"
    report = await run_once(JanitorPorts(store=store, clock=lambda: NOW, batch=1))
    assert report.audit_events == 2, "the default: 365 days"
    assert await _event_times(store) == [NOW - 364 * DAY, NOW - 60]
    report = await run_once(JanitorPorts(store=store, clock=lambda: NOW, audit_retention_seconds=DAY))
    assert report.audit_events == 1
    assert await _event_times(store) == [NOW - 60]


async def test_profile_trusted_browsers_are_purged_after_the_grace(store: Store) -> None:
    async with store.unit() as uow:
        await uow.profiles.add(Profile(id="p" * 21, email="p@example.com", name="P", password_hash="h",
                                       password_changed_at=NOW, created_at=NOW))
        for name, expires_at in (("old", NOW - 2 * DAY), ("recent", NOW - 60), ("live", NOW + DAY)):
            await uow.profile_trusted_browsers.add(ProfileTrustedBrowser(
                id=name, profile_id="p" * 21, token_hash=f"t-{name}", user_agent_hash="u",
                network="203.0.113.0/24", label="Firefox", created_at=NOW - 3 * DAY, last_used_at=NOW - 3 * DAY,
                expires_at=expires_at))
    assert (await run_once(JanitorPorts(store=store, clock=lambda: NOW))).profile_trusted_browsers == 1
    async with store.unit() as uow:
        assert {name for name in ("old", "recent", "live")
                if await uow.profile_trusted_browsers.by_token(f"t-{name}") is not None} == {"recent", "live"}


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_archive_writes_json_lines_deletes_them_and_resumes(store: Store, tmp_path: Path) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    await _events(store, [NOW - 10 * DAY + n for n in range(7)] + [NOW])
    output = tmp_path / "events.jsonl"
    report = await audit_archive.archive(store, NOW - DAY, output, batch=3)
    assert (report.archived, report.resumed) == (7, 0)
    lines = _lines(output)
    assert [line["at"] for line in lines] == [NOW - 10 * DAY + n for n in range(7)], "oldest first, each once"
    assert {line["event"] for line in lines} == {"ConsoleLogin"}
    assert lines[0]["time"] == "2027-01-05T08:00:00Z" and lines[0]["client_ip"] == "203.0.113.9"
    assert await _event_times(store) == [NOW], "what was written is deleted, the rest kept"
    assert (await audit_archive.archive(store, NOW - DAY, output, batch=3)).archived == 0
    assert len(_lines(output)) == 7

    # A run interrupted after writing a batch, before its deletion committed (and a torn line after it).
    await _events(store, [NOW - 5 * DAY + n for n in range(4)])
    async with store.unit() as uow:
        pending = list(await uow.expired.oldest_events(NOW - DAY, 2))
    with output.open("a") as f:
        for ev in pending:
            f.write(json.dumps({"id": ev.id, "at": ev.at}) + "\n")
        f.write('{"id": 99999, "at"')
    report = await audit_archive.archive(store, NOW - DAY, output, batch=3)
    assert (report.archived, report.resumed) == (2, 2)
    lines = _lines(output)
    assert [line["at"] for line in lines[7:]] == [NOW - 5 * DAY + n for n in range(4)], "no line twice, none torn"
    assert await _event_times(store) == [NOW]
