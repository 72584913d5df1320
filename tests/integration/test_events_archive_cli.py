"""`vestibule events archive --before DATE --output FILE` against the test database: the events recorded before
the date are written as JSON lines and deleted, a second run finds none, bad usage exits 2."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from vestibule.cli import main
from vestibule.settings import Settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VESTIBULE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VESTIBULE_MASTER_KEY", settings.master_key)
    monkeypatch.setenv("VESTIBULE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VESTIBULE_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("VESTIBULE_ARGON2_TIME_COST", "1")
    monkeypatch.delenv("VESTIBULE_REDIS_URL", raising=False)
    return settings


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_archive_exports_then_deletes(cli_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, "account", "create", "--email", "archive@example.com", "--password",
                          "archive password 1", "--alias", "archived")
    assert code == 0, err
    account = json.loads(out)["AccountId"]
    code, out, err = _run(capsys, "events", "--account", account, "--json")
    assert code == 0 and out, err
    before = [json.loads(line) for line in out.splitlines()]

    output = tmp_path / "old.jsonl"
    code, out, err = _run(capsys, "events", "archive", "--before", "2999-01-01", "--output", str(output))
    assert code == 0, err
    assert json.loads(out) == {"Archived": len(before), "Resumed": 0, "Output": str(output)}
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [{k: v for k, v in line.items() if k not in ("id", "at")} for line in lines] == before
    code, out, _ = _run(capsys, "events", "--account", account, "--json")
    assert (code, out) == (0, ""), "archived events are gone"
    code, out, _ = _run(capsys, "events", "archive", "--before", "2999-01-01", "--output", str(output))
    assert code == 0 and json.loads(out)["Archived"] == 0
    assert len(output.read_text().splitlines()) == len(before)


def test_archive_usage_errors_exit_2(cli_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = str(tmp_path / "x.jsonl")
    assert _run(capsys, "events", "archive", "--before", "yesterday", "--output", out)[0] == 2
    assert _run(capsys, "events", "archive", "--output", out)[0] == 2
    assert _run(capsys, "events", "archive", "--before", "2020-01-01", "--output", out, "--batch", "0")[0] == 2
    code, _, err = _run(capsys, "events")
    assert code == 2 and "--account" in err
