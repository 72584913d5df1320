"""`vestibule serve --workers 2`: every scrape of /metrics, whichever worker answers it, adds up the counts of
both workers (prometheus_client's multiprocess mode, in a fresh directory under the data directory that is
removed when the server stops); /readyz answers from every worker. On the pass's database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import CHEAP_HASH, free_port


def _serve(data: Path, workers: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(VESTIBULE_DATA_DIR=str(data), VESTIBULE_PUBLIC_URL=url, VESTIBULE_LOG_LEVEL="warning",
               VESTIBULE_JANITOR_INTERVAL_SECONDS="0", VESTIBULE_ARGON2_MEMORY_KIB=str(CHEAP_HASH.memory_kib),
               VESTIBULE_ARGON2_TIME_COST=str(CHEAP_HASH.time_cost), VESTIBULE_HUGE_PAGES="0")
    # the pass's backends (PostgreSQL and Redis in that pass, SQLite in the data directory otherwise)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(f"VESTIBULE_TEST_{name}"):
            env[f"VESTIBULE_{name}"] = os.environ[f"VESTIBULE_TEST_{name}"]
    log = data.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--workers", str(workers)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1.0).status_code == 200:
                return process, url, log
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    _stop(process)
    pytest.fail(f"server did not become ready:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass


def _counting(directory: Path) -> list[Path]:
    """The workers' counter files that hold a count of the requests sent."""
    return [f for f in directory.glob("counter_*.db") if b"GetCallerIdentity" in f.read_bytes()]


def _answered(url: str) -> float:
    """vestibule_aws_requests_total of sts GetCallerIdentity, all error codes, in one scrape."""
    r = httpx.get(url + "/metrics", timeout=10)
    assert r.status_code == 200, r.text
    total = 0.0
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            if (sample.name == "vestibule_aws_requests_total" and sample.labels.get("service") == "sts"
                    and sample.labels.get("operation") == "GetCallerIdentity"):
                total += sample.value
    return total


def test_a_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process, url, log = _serve(data, workers=2)
    try:
        dirs = list(data.glob("metrics-*"))
        assert len(dirs) == 1, "a fresh directory under the data directory"
        sent = 0
        # unsigned calls on new connections, until two workers have counted some (the kernel spreads accepts;
        # a worker uvicorn replaced, when a loaded machine made it miss a health check, keeps its file and counts)
        while sent < 400 and len(_counting(dirs[0])) < 2:
            r = httpx.post(url + "/", data={"Action": "GetCallerIdentity", "Version": "2011-06-15"}, timeout=10)
            assert r.status_code in {400, 403}, r.text
            sent += 1
        assert len(_counting(dirs[0])) >= 2, f"one worker answered all {sent} requests"
        for _ in range(6):  # new connections: scrapes answered by either worker
            assert _answered(url) == sent
        assert all(httpx.get(url + "/readyz", timeout=5).status_code == 200 for _ in range(6))
    finally:
        _stop(process)
    assert process.returncode is not None
    assert not dirs[0].exists(), f"removed at exit:\n{log.read_text()[-2000:]}"
