"""`vestibule events --account A [--limit N] [--after CURSOR]`: the audit log read a page at a time by (at, id),
oldest first; the next page's cursor on stderr; a forged cursor or another account's is bad usage (exit 2); a
page reads no more rows than it shows (plus one), however long the log."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from sqlalchemy import event

from http_steps import make_account
from vestibule.cli import main
from vestibule.runtime import Runtime
from vestibule.services.audit import new_event
from vestibule.services.context import Client
from vestibule.settings import Settings
from vestibule.store.models import AuditEvent

CLIENT = Client(ip="192.0.2.1", user_agent="test")
OURS = re.compile(r"(e|new|o)-\d{3}")  # the events made here (creating the account records its own too)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VESTIBULE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VESTIBULE_MASTER_KEY", settings.master_key)
    monkeypatch.setenv("VESTIBULE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VESTIBULE_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("VESTIBULE_ARGON2_TIME_COST", "1")
    monkeypatch.delenv("VESTIBULE_REDIS_URL", raising=False)
    return settings


async def _events(runtime: Runtime, account_id: str, times: list[float], tag: str) -> None:
    async with runtime.deps.store.unit() as uow:
        for number, at in enumerate(times):
            await uow.audit.add(new_event(at=at, event="Test", result="Success", client=CLIENT,
                                          account_id=account_id, principal=f"{tag}-{number:03d}"))
        await uow.commit()


async def _page(cli: Cli, account_id: str, *extra: str) -> tuple[list[str], str | None]:
    code, out, err = await asyncio.to_thread(cli, "events", "--account", account_id, "--json", *extra)
    assert code == 0, err
    found = re.search(r"more events: --after (\S+)", err)
    principals = [json.loads(line)["principal"] for line in out.splitlines()]
    return [p for p in principals if OURS.fullmatch(p)], found.group(1) if found else None


async def _walk(cli: Cli, account_id: str, limit: int) -> list[str]:
    seen, cursor = await _page(cli, account_id, "--limit", str(limit))
    while cursor is not None:
        more, cursor = await _page(cli, account_id, "--limit", str(limit), "--after", cursor)
        seen += more
    return seen


async def test_events_page_by_time_and_id(cli_env: Settings, runtime: Runtime,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(capsys)
    account_id = await make_account(runtime, "pages@example.com", alias="pages")
    other = await make_account(runtime, "other@example.com", alias="other")
    times = [1_000.0 + number // 3 for number in range(25)]  # three events a second: the id breaks ties
    await _events(runtime, account_id, times, "e")
    await _events(runtime, other, [5.0, 6.0], "o")
    everything = [f"e-{n:03d}" for n in range(25)]
    assert (await _page(cli, account_id))[0] == everything
    assert await _walk(cli, account_id, 4) == everything

    first, cursor = await _page(cli, account_id, "--limit", "10")
    assert first == everything[:10] and cursor is not None
    await _events(runtime, account_id, [999.0, 1_100.0], "new")  # before the cursor, and after the last event
    rest, next_cursor = await _page(cli, account_id, "--limit", "100", "--after", cursor)
    assert rest == [*everything[10:], "new-001"] and next_cursor is None

    for bad in ("bogus", cursor[:-1], cursor.replace(".", ".A", 1),
                (await _page(cli, other, "--limit", "1"))[1] or ""):
        code, _, err = await asyncio.to_thread(cli, "events", "--account", account_id, "--after", bad)
        assert code == 2 and "--after" in err, err
    for limit in ("0", "1001"):
        code, _, err = await asyncio.to_thread(cli, "events", "--account", account_id, "--limit", limit)
        assert code == 2 and "--limit" in err, err


async def test_an_events_page_reads_no_more_rows_than_it_shows(cli_env: Settings, runtime: Runtime,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(capsys)
    account_id = await make_account(runtime, "deep@example.com", alias="deep")
    await _events(runtime, account_id, [2_000.0 + n for n in range(300)], "e")
    loaded: list[int] = []

    def count(row: AuditEvent, _context: object) -> None:
        loaded.append(row.id)

    event.listen(AuditEvent, "load", count)
    try:
        cursor: str | None = None
        for _ in range(20):
            _, cursor = await _page(cli, account_id, "--limit", "10", *(("--after", cursor) if cursor else ()))
        assert cursor is not None
        loaded.clear()
        deep, _ = await _page(cli, account_id, "--limit", "10", "--after", cursor)
        assert deep == [f"e-{n:03d}" for n in range(200, 210)] and 10 <= len(loaded) <= 11, len(loaded)
    finally:
        event.remove(AuditEvent, "load", count)
