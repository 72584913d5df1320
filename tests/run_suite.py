"""Run the suite's two passes (everything on SQLite; the database and Redis tests again on PostgreSQL + Redis)
side by side, one process each, so both cores work. Each pass writes its own log and artifacts directory; the
script prints both logs' summaries and the whole log of a pass that failed, and exits non-zero if either did.

    python tests/run_suite.py [--serial] [pytest args for both passes]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DATABASE_PASS_PATHS = ("tests/integration", "tests/e2e", "tests/fuzz")


@dataclass
class Pass:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0


def without(marker: str, extra: list[str]) -> list[str]:
    """A pass's arguments without the tests marked `marker`: `-m "not <marker>"`, joined to a marker expression
    given on the command line. The SQLite pass leaves out `multinode` (PostgreSQL + Redis behind HAProxy), the
    PostgreSQL pass `own_sqlite` (tests that run on a SQLite data directory of their own in either pass)."""
    kept, chosen = [], ""
    args = iter(extra)
    for arg in args:
        if arg == "-m":
            chosen = next(args, "")
        elif arg.startswith("-m"):
            chosen = arg[2:]
        else:
            kept.append(arg)
    return [*kept, "-m", f"({chosen}) and not {marker}" if chosen else f"not {marker}"]


def passes(extra: list[str]) -> list[Pass]:
    base = {k: v for k, v in os.environ.items() if k not in ("VESTIBULE_TEST_DATABASE_URL", "VESTIBULE_TEST_REDIS_URL")}
    # The SQLite pass still runs the Redis port tests (on their fallback URL): on a database of their own, since
    # the other pass flushes its database between modules.
    sqlite_env = dict(base, VESTIBULE_TEST_ARTIFACTS=str(ARTIFACTS / "sqlite"),
                      VESTIBULE_TEST_FALLBACK_REDIS_URL=os.environ.get("VESTIBULE_TEST_FALLBACK_REDIS_URL",
                                                                       "redis://127.0.0.1:6379/14"))
    pg_env = dict(
        base,
        VESTIBULE_TEST_ARTIFACTS=str(ARTIFACTS / "postgresql"),
        VESTIBULE_TEST_DATABASE_URL=os.environ.get(
            "VESTIBULE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
        VESTIBULE_TEST_REDIS_URL=os.environ.get("VESTIBULE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )

    def pytest(name: str) -> list[str]:
        # each pass's per-test times (test-artifacts/<pass>.xml) and its slowest tests at the end of its log, so a
        # suite that grows slow says where
        return [sys.executable, "-m", "pytest", "-q", f"--junitxml={ARTIFACTS / (name + '.xml')}", "--durations=30"]

    return [
        Pass("sqlite", pytest("sqlite") + without("multinode", extra), sqlite_env, ARTIFACTS / "sqlite.log"),
        # One cache writer is enough; the second pass does not touch .pytest_cache.
        Pass("postgresql", [*pytest("postgresql"), "-p", "no:cacheprovider", *DATABASE_PASS_PATHS,
                            *without("own_sqlite", extra)], pg_env, ARTIFACTS / "postgresql.log"),
    ]


def start(p: Pass) -> None:
    p.log.parent.mkdir(parents=True, exist_ok=True)
    print(f"[{p.name}] {' '.join(p.args[1:])}  (log: {p.log.relative_to(ROOT)})", flush=True)
    p.started = time.monotonic()
    with p.log.open("wb") as out:
        p.process = subprocess.Popen(p.args, cwd=ROOT, env=p.env, stdout=out, stderr=subprocess.STDOUT)


def finish(p: Pass) -> int:
    assert p.process is not None
    rc = p.process.wait()
    p.seconds = time.monotonic() - p.started
    return rc


def summary(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()
    return lines[-1] if lines else "(no output)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serial", action="store_true", help="run the passes one after the other")
    known, extra = parser.parse_known_args()
    todo = passes(extra)
    results: dict[str, int] = {}
    if known.serial:
        for p in todo:
            start(p)
            results[p.name] = finish(p)
    else:
        for p in todo:
            start(p)
        for p in todo:
            results[p.name] = finish(p)
    failed = [p for p in todo if results[p.name] != 0]
    for p in failed:
        print(f"\n===== {p.name} pass log =====", flush=True)
        sys.stdout.write(p.log.read_text(errors="replace"))
    print()
    for p in todo:
        print(f"[{p.name}] rc={results[p.name]} in {p.seconds:.0f} s: {summary(p.log)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
