"""`vestibule config check`, `vestibule config` and `vestibule serve` with a `vestibule.toml`, as subprocesses:
every problem one line, exit codes 0 and 2, the environment over the file, and the file reaching the worker
processes of `serve --workers 2` (and the single process that restarts itself for huge pages)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support import CHEAP_HASH, free_port

pytestmark = pytest.mark.own_sqlite  # its servers and commands run on their own SQLite data directory


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(extra)
    return env


def vestibule(*argv: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vestibule.cli", *argv], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=60)


def test_check_lists_every_problem_of_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "vestibule.toml"
    path.write_text('public_url = "id.example.com"\nsmtp_port = 70000\nsmtp_hots = "mail"\n\n[smtp]\nhost = "m"\n')
    path.chmod(0o600)
    done = vestibule("config", "check", "--config", str(path), cwd=tmp_path, VESTIBULE_ARGON2_TIME_COST="lots")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"vestibule: error: {path}:1: public_url must start with http:// or https://",
        f"vestibule: error: {path}:2: smtp_port must be between 1 and 65535, not 70000",
        f"vestibule: error: {path}:3: unknown setting smtp_hots (did you mean smtp_host?)",
        f"vestibule: error: {path}:5: [smtp] is a table, but settings are top-level keys: write smtp_host = ... "
        "before any table",
        "vestibule: error: VESTIBULE_ARGON2_TIME_COST must be a whole number, not 'lots'",
        "configuration is not valid: 5 problems",
    ]
    # any other command stops at start with one line naming the first problem
    done = vestibule("--config", str(path), "migrate", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"vestibule: configuration error: {path}:1: public_url must start with "
                                        "http:// or https:// (and 3 more problems: `vestibule config check` "
                                        "lists them)"]
    assert not (tmp_path / ".vestibule").exists()


def test_check_passes_and_config_prints_the_file_under_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "vestibule.toml"
    path.write_text('public_url = "https://id.example.com"\nsmtp_host = "mail.example.com"\nsmtp_port = 587\n'
                    'smtp_password = "hunter2hunter2"\ntrusted_proxies = ["10.0.0.0/8"]\n')
    path.chmod(0o644)
    done = vestibule("config", "check", cwd=tmp_path, VESTIBULE_CONFIG="vestibule.toml", VESTIBULE_SMTP_HOTS="x")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"configuration is valid: {path} and the environment\n"
    assert done.stderr.splitlines() == [
        f"vestibule: warning: {path} holds smtp_password and others may read it (mode 0644): chmod 600 {path}",
        "vestibule: warning: VESTIBULE_SMTP_HOTS is not a Vestibule setting and is ignored "
        "(did you mean VESTIBULE_SMTP_HOST?)",
    ]
    assert "hunter2" not in done.stderr
    path.chmod(0o600)
    done = vestibule("config", "--config", "vestibule.toml", cwd=tmp_path, VESTIBULE_SMTP_PORT="2525")
    assert done.returncode == 0 and done.stderr == ""
    shown = json.loads(done.stdout)
    assert shown["config_file"] == str(path) and shown["public_url"] == "https://id.example.com"
    assert (shown["smtp_host"], shown["smtp_port"]) == ("mail.example.com", 2525)
    assert shown["smtp_password"] == "********" and shown["trusted_proxies"] == ["10.0.0.0/8"]
    assert "hunter2" not in done.stdout
    empty = vestibule("config", "check", cwd=tmp_path)
    assert empty.returncode == 0 and empty.stdout == "configuration is valid: the environment only, no " \
                                                     "configuration file\n"


def test_a_missing_file_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    done = vestibule("config", cwd=tmp_path, VESTIBULE_CONFIG=str(tmp_path / "nope.toml"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"vestibule: configuration error: {tmp_path / 'nope.toml'}: cannot read the configuration "
                           "file: No such file or directory\n")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw if item)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass


def _closed_after(port: int) -> float:
    """Seconds until the server closes a connection that never sends a request head."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        assert conn.recv(1024) == b""
    return time.monotonic() - started


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_reads_the_file_in_every_process(tmp_path: Path, workers: int) -> None:
    port = free_port()
    etc = tmp_path / "etc"
    etc.mkdir()
    path = etc / "vestibule.toml"
    path.write_text(f'public_url = "http://localhost:{port}"\ndata_dir = "state"\nsignup = false\n'
                    f"log_level = \"warning\"\njanitor_interval_seconds = 0\nhttp_head_timeout_seconds = 1\n"
                    f"argon2_memory_kib = {CHEAP_HASH.memory_kib}\nargon2_time_cost = {CHEAP_HASH.time_cost}\n")
    path.chmod(0o600)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:  # relative --config from another directory; data_dir relative to the file
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--config", "etc/vestibule.toml",
                                    "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                                   cwd=tmp_path, env=_env(), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert f"(public URL http://localhost:{port})" in log.read_text()  # the file's, not http://127.0.0.1:port
        assert (etc / "state" / "vestibule.db").exists() and not (tmp_path / ".vestibule").exists()
        serving = _children(process.pid) if workers > 1 else [process.pid]
        assert len(serving) >= workers
        assert all(_environ(pid).get("VESTIBULE_CONFIG") == str(path) for pid in serving)
        for _ in range(8):  # fresh connections, spread over the workers by the kernel
            with httpx.Client() as client:
                assert client.get(f"http://127.0.0.1:{port}/signup").status_code == 404  # signup = false
        assert _closed_after(port) < 5  # the file's 1 s head timeout, not the default 20 s
    finally:
        _stop(process)
