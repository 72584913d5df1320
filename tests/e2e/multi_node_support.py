"""Three `vestibule serve` processes on one fresh PostgreSQL database and one Redis, behind HAProxy started with
deploy/haproxy.cfg (the file docs/deployment.md shows): what tests/e2e/test_multi_node.py drives.

The database is created for the run (`test_multinode_<random>` on the server of VESTIBULE_TEST_DATABASE_URL, or
the local default) and dropped afterwards; Redis is the pass's (VESTIBULE_TEST_REDIS_URL), flushed first as every
module of that pass does (per-address counters outlive a run), else support's fallback database, left as it is.
Either backend missing is a failure with a message saying what to start (this test only runs on that pass)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import boto3
import botocore.config
import httpx
import pytest
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisDown
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from support import CHEAP_HASH, FALLBACK_REDIS_URL, free_port
from vestibule.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
HAPROXY = Path(os.environ.get("VESTIBULE_TEST_HAPROXY", "/usr/sbin/haproxy"))
VESTIBULE = Path(sys.executable).parent / "vestibule"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
MASTER_KEY = "5e" * 32
REGION = "us-east-1"
BACKEND = "vestibule"  # the backend's name in deploy/haproxy.cfg
SERVER_NAMES = ("node1", "node2", "node3")
_RUNNING = 2  # srv_op_state in `show servers state`: SRV_ST_STOPPED 0, STARTING 1, RUNNING 2, STOPPING 3


@dataclass
class Node:
    name: str  # the server's name in haproxy.cfg (and in X-Served-By)
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Cluster:
    balancer: str  # the balancer's URL: every node's public URL
    nodes: dict[str, Node]
    settings: Settings  # of the shared database, for reading it from the test
    haproxy: subprocess.Popen[bytes]
    haproxy_log: Path
    socket_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def server_states(self) -> dict[str, int]:
        """srv_op_state of each server, from the HAProxy runtime API's `show servers state`."""
        answer = haproxy_command(self.socket_path, f"show servers state {BACKEND}")
        states: dict[str, int] = {}
        for line in answer.splitlines():
            if not line or line.startswith("#") or line.strip() == "1":
                continue
            columns = line.split()  # be_id be_name srv_id srv_name srv_addr srv_op_state ...
            states[columns[3]] = int(columns[5])
        return states

    def last_checks(self) -> dict[str, tuple[str, str]]:
        """(check_status, check_code) of each server's last health check, from `show stat` (CSV)."""
        lines = haproxy_command(self.socket_path, "show stat").splitlines()
        header = lines[0].removeprefix("# ").split(",")
        found: dict[str, tuple[str, str]] = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == BACKEND and row.get("svname") in SERVER_NAMES:
                found[row["svname"]] = (row["check_status"], row["check_code"])
        return found

    def running(self) -> set[str]:
        return {name for name, state in self.server_states().items() if state == _RUNNING}

    def logs(self) -> str:
        """The tail of every process's output, for a failure message."""
        parts = [f"--- haproxy ---\n{_tail(self.haproxy_log)}"]
        parts += [f"--- {n.name} ---\n{_tail(n.log)}" for n in self.nodes.values()]
        return "\n".join(parts)


def _tail(path: Path, chars: int = 2500) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no output)"


def haproxy_command(path: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def aws_client(service: str, endpoint: str, key: tuple[str, str]) -> Any:
    """A boto3 client without retries: every answer the test counts is the one the request got."""
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5,
                                    read_timeout=20)
    return boto3.session.Session(region_name=REGION).client(
        service, endpoint_url=endpoint, region_name=REGION, config=config, aws_access_key_id=key[0],
        aws_secret_access_key=key[1])


def served_by(answer: dict[str, Any]) -> str:
    """The node that answered a boto3 call (HAProxy's X-Served-By)."""
    return str(answer["ResponseMetadata"]["HTTPHeaders"].get("x-served-by", ""))


# ---- backends ----------------------------------------------------------------------------------------

def _missing(what: str, url: str, error: BaseException) -> NoReturn:
    pytest.fail(
        f"the multi-node test needs {what} at {url} ({type(error).__name__}: {error}); start it, or leave this "
        f"test out with -m 'not multinode' (tests/run_suite.py runs it in the PostgreSQL + Redis pass only)")


async def _create_database(server_url: str, name: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _drop_database(server_url: str, name: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def _prepare_redis(url: str, flush: bool) -> None:
    client = redis.from_url(url)
    try:
        if flush:
            await client.flushdb()
        else:
            await client.ping()
    finally:
        await client.aclose()


@contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards; yields (its URL, Redis URL)."""
    server_url = make_url(os.environ.get("VESTIBULE_TEST_DATABASE_URL") or DEFAULT_DATABASE_URL)
    if not server_url.drivername.startswith("postgresql"):
        pytest.fail(f"the multi-node test needs PostgreSQL; VESTIBULE_TEST_DATABASE_URL is {server_url.drivername}")
    own_redis = os.environ.get("VESTIBULE_TEST_REDIS_URL", "")
    redis_url = own_redis or FALLBACK_REDIS_URL
    name = f"test_multinode_{secrets.token_hex(4)}"
    shown = server_url.render_as_string(hide_password=True)
    try:
        asyncio.run(_create_database(server_url.render_as_string(hide_password=False), name))
    except (OSError, ConnectionError) as exc:
        _missing("PostgreSQL", shown, exc)
    try:
        try:
            asyncio.run(_prepare_redis(redis_url, flush=bool(own_redis)))
        except (OSError, RedisDown) as exc:
            _missing("Redis", redis_url, exc)
        yield server_url.set(database=name).render_as_string(hide_password=False), redis_url
    finally:
        asyncio.run(_drop_database(server_url.render_as_string(hide_password=False), name))


# ---- processes ---------------------------------------------------------------------------------------

def node_environment(database_url: str, redis_url: str, balancer: str, smtp_port: int) -> dict[str, str]:
    """What every node shares: the database, Redis, the master key, the public URL (the balancer's) and the
    balancer as the one trusted proxy; nothing of the test's own environment's VESTIBULE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(
        VESTIBULE_DATABASE_URL=database_url, VESTIBULE_REDIS_URL=redis_url, VESTIBULE_MASTER_KEY=MASTER_KEY,
        VESTIBULE_PUBLIC_URL=balancer, VESTIBULE_TRUSTED_PROXIES="127.0.0.1",
        VESTIBULE_SMTP_HOST="127.0.0.1", VESTIBULE_SMTP_PORT=str(smtp_port), VESTIBULE_MAIL_POLL_SECONDS="1",
        VESTIBULE_ARGON2_MEMORY_KIB=str(CHEAP_HASH.memory_kib), VESTIBULE_ARGON2_TIME_COST=str(CHEAP_HASH.time_cost),
        VESTIBULE_LOG_LEVEL="warning", VESTIBULE_HUGE_PAGES="0",
    )
    return env


def start_node(name: str, env: dict[str, str], tmp: Path) -> Node:
    port = free_port()
    log = tmp / f"{name}.log"
    node_env = {**env, "VESTIBULE_DATA_DIR": str(tmp / f"data-{name}")}
    with log.open("wb") as out:
        process = subprocess.Popen([str(VESTIBULE), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=node_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Node(name, f"http://127.0.0.1:{port}", process, log)


def wait_answering(node: Node, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            pytest.fail(f"{node.name} exited with {node.process.returncode}:\n{_tail(node.log)}")
        try:
            if httpx.get(node.url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{node.name} at {node.url} did not start:\n{_tail(node.log)}")


def start_haproxy(listen_port: int, nodes: dict[str, Node], tmp: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    if not HAPROXY.exists():
        pytest.fail(f"the multi-node test needs HAProxy at {HAPROXY} (`make haproxy` installs Debian's package)")
    socket_path = tmp / "haproxy.sock"
    env = dict(os.environ, VESTIBULE_LISTEN=f"127.0.0.1:{listen_port}", VESTIBULE_HAPROXY_SOCKET=str(socket_path),
               **{f"VESTIBULE_{name.upper()}": node.url.removeprefix("http://") for name, node in nodes.items()})
    log = tmp / "haproxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(HAPROXY), "-db", "-f", str(HAPROXY_CONFIG)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return process, socket_path, log


def eventually(cluster: Cluster, condition: Callable[[], bool], what: str, seconds: float = 10.0) -> float:
    """Poll `condition` until it holds; the monotonic time it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.02)
    pytest.fail(f"{what}: not within {seconds} s\n{cluster.logs()}")


def wait_all_running(cluster: Cluster, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cluster.haproxy.poll() is not None:
            pytest.fail(f"haproxy exited with {cluster.haproxy.returncode}:\n{cluster.logs()}")
        try:
            if cluster.running() == set(SERVER_NAMES):
                return
        except OSError:
            pass  # the socket is not there yet
        time.sleep(0.1)
    pytest.fail(f"haproxy did not see every node up:\n{cluster.logs()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def kill(node: Node) -> None:
    """SIGKILL: no shutdown, no finished requests; what a crashed machine does."""
    os.killpg(node.process.pid, signal.SIGKILL)
    node.process.wait(10)


async def _execute(database_url: str, statement: str) -> Any:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def execute(database_url: str, statement: str) -> Any:
    """One statement in its own transaction, from the test (not through a node); the first column of its first
    row, if it returns rows."""
    return asyncio.run(_execute(database_url, statement))


@contextmanager
def table_locked(database_url: str, table: str) -> Iterator[None]:
    """`table` locked ACCESS EXCLUSIVE by a transaction held open in a thread of its own: every statement that
    reads it waits, as on a database that stopped answering."""
    locked, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                await asyncio.to_thread(release.wait)
                await conn.rollback()
        finally:
            await engine.dispose()

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:  # reported by the test thread below
            failure.append(exc)
            locked.set()

    holder = threading.Thread(target=run, daemon=True)
    holder.start()
    locked.wait(10)
    if failure:
        raise failure[0]
    try:
        yield
    finally:
        release.set()
        holder.join(10)
