"""`vestibule serve` asks glibc for huge pages for large allocations (argon2id's work area): with one process it
restarts itself once with `GLIBC_TUNABLES`, keeping its PID and arguments; with workers, they inherit it;
`VESTIBULE_HUGE_PAGES=0` leaves the environment alone. Read from the serving processes' /proc environ."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support import CHEAP_HASH, free_port

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tunables are Linux's"),
              pytest.mark.own_sqlite]
TUNABLE = "glibc.malloc.hugetlb=1"


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw if item)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(c) for c in children)
    return found


def _serve(tmp_path: Path, workers: int, huge_pages: str | None) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_") and k != "GLIBC_TUNABLES"}
    env.update(VESTIBULE_DATA_DIR=str(tmp_path / "data"), VESTIBULE_PUBLIC_URL=url, VESTIBULE_LOG_LEVEL="warning",
               VESTIBULE_JANITOR_INTERVAL_SECONDS="0", VESTIBULE_ARGON2_MEMORY_KIB=str(CHEAP_HASH.memory_kib),
               VESTIBULE_ARGON2_TIME_COST=str(CHEAP_HASH.time_cost))
    if huge_pages is not None:
        env["VESTIBULE_HUGE_PAGES"] = huge_pages
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--workers", str(workers)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/", timeout=1.0).status_code == 200:
                return process, url, log
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    _stop(process)
    pytest.fail(f"server did not start:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The server and its workers (its own process group), so no worker outlives a failed test."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass


def test_one_process_restarts_itself_on_huge_pages_keeping_its_pid(tmp_path: Path) -> None:
    process, _url, log = _serve(tmp_path, 1, None)
    try:
        env = _environ(process.pid)  # the PID the launcher started is the one serving
        assert TUNABLE in env.get("GLIBC_TUNABLES", "")
        assert "--port" in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
    finally:
        _stop(process)
    assert "account create" in log.read_text()


def test_workers_inherit_it_and_zero_turns_it_off(tmp_path: Path) -> None:
    process, _url, _log = _serve(tmp_path / "on", 2, "1")
    try:
        workers = _children(process.pid)
        assert len(workers) >= 2
        assert all(TUNABLE in _environ(pid).get("GLIBC_TUNABLES", "") for pid in workers)
    finally:
        _stop(process)
    process, _url, _log = _serve(tmp_path / "off", 1, "0")
    try:
        assert "GLIBC_TUNABLES" not in _environ(process.pid)
    finally:
        _stop(process)
