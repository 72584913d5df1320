"""Guessing budgets across nodes (issue 7 items 2 and 4): two `vestibule serve` processes share the counters
(in Redis, or in the shared database when there is no Redis), and bursts of guesses split between them get
no more than one node would give.

Backends: the SQLite pass shares one SQLite file (counters in it); the PostgreSQL pass runs twice, with
Redis (counters there) and without (counters in PostgreSQL). What was checked is read from the audit log:
each checked wrong password or code is one failure event, a refused guess none."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import httpx
import pytest
from botocore.exceptions import ClientError

from http_steps import make_account, make_user
from support import CHEAP_HASH, csrf_of, free_port, reachable_redis_url
from vestibule.core import totp
from vestibule.core.throttle import CAPTCHA_AFTER, RULES, Scope
from vestibule.runtime import build
from vestibule.services import access_keys, mfa
from vestibule.settings import Settings
from vestibule.store.database import make_engine, migrate
from vestibule.store.models import AuditEvent, MfaDevice

MASTER_KEY = "33" * 32
REGION = "us-east-1"
PG = os.environ.get("VESTIBULE_TEST_DATABASE_URL", "")
BACKENDS = ["postgresql+redis", "postgresql"] if PG else ["sqlite"]


@dataclass(frozen=True)
class Nodes:
    urls: tuple[str, str]
    settings: Settings
    account_id: str
    key: tuple[str, str]  # bob's access key
    serial: str  # bob's MFA device
    secret: str


def _start(name: str, env: dict[str, str], tmp: Path) -> tuple[str, subprocess.Popen[bytes], Path]:
    port = free_port()
    log = tmp / f"node-{name}.log"
    node_env = {**env, "VESTIBULE_DATA_DIR": str(tmp / f"data-{name}"),
                "VESTIBULE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=node_env, stdout=out, stderr=subprocess.STDOUT)
    return f"http://127.0.0.1:{port}", process, log


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"node exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/_health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"node at {url} did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(params=BACKENDS)
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Nodes]:
    redis_url = asyncio.run(reachable_redis_url()) if request.param.endswith("+redis") else ""
    if request.param.startswith("postgresql"):
        database_url = request.getfixturevalue("clean_database")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    settings = Settings(data_dir=tmp_path / "setup", database_url=database_url, redis_url=redis_url,
                        master_key=MASTER_KEY, argon2_memory_kib=CHEAP_HASH.memory_kib,
                        argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)
    secret = totp.new_secret()

    async def prepare() -> tuple[str, tuple[str, str], str]:
        engine = make_engine(database_url)
        await migrate(engine)
        await engine.dispose()
        runtime = await build(settings, run_migrations=False)
        try:
            account_id = await make_account(runtime, alias="nodes")
            await make_user(runtime, "nodes", "alice")
            bob = await make_user(runtime, "nodes", "bob")
            serial = f"arn:aws:iam::{account_id}:mfa/bob"
            now = time.time()
            async with runtime.deps.store.unit() as uow:
                await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=f"user:{bob}", name="bob",
                                            serial=serial, secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                            enabled_at=now, last_used_step=None, created_at=now))
                key = await access_keys.create(runtime.deps, uow, account_id, f"user:{bob}")
            return account_id, (key.access_key_id, key.secret_access_key), serial
        finally:
            await runtime.close()

    account_id, key, serial = asyncio.run(prepare())
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATABASE_URL=database_url, VESTIBULE_MASTER_KEY=MASTER_KEY,
               VESTIBULE_ARGON2_MEMORY_KIB=str(CHEAP_HASH.memory_kib),
               VESTIBULE_ARGON2_TIME_COST=str(CHEAP_HASH.time_cost), VESTIBULE_LOG_LEVEL="warning")
    if redis_url:
        env["VESTIBULE_REDIS_URL"] = redis_url
    started = [_start(name, env, tmp_path) for name in ("a", "b")]
    try:
        for url, process, log in started:
            _wait_ready(url, process, log)
        yield Nodes((started[0][0], started[1][0]), settings, account_id, key, serial, secret)
    finally:
        for _url, process, _log in started:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _failures(nodes: Nodes, event: str, method: str) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        runtime = await build(nodes.settings, run_migrations=False)
        try:
            async with runtime.deps.store.unit() as uow:
                rows = await uow.audit.for_account(nodes.account_id, limit=10_000)
        finally:
            await runtime.close()
        return [e for e in rows if e.event == event and e.result == "Failure" and e.method == method]

    return asyncio.run(read())


def test_wrong_passwords_split_over_two_nodes_check_at_most_the_budget(nodes: Nodes) -> None:
    """60 wrong passwords at once for one user, half to each node, each from its own address: 3 checked."""

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=nodes.urls[0]) as browser:
            token = csrf_of((await browser.get("/nodes/console")).text)
            clients = [httpx.AsyncClient(base_url=nodes.urls[i % 2], cookies=browser.cookies, timeout=120,
                                         transport=httpx.AsyncHTTPTransport(local_address=f"127.0.0.{10 + i}"))
                       for i in range(60)]
            try:
                return list(await asyncio.gather(*(
                    c.post("/nodes/console", data={"csrf_token": token, "username": "alice",
                                                   "password": f"wrong {i}"}) for i, c in enumerate(clients))))
            finally:
                await asyncio.gather(*(c.aclose() for c in clients))

    responses = asyncio.run(go())
    assert sorted({r.status_code for r in responses}) == [200], [r.status_code for r in responses]
    assert len(_failures(nodes, "ConsoleLogin", "password")) == CAPTCHA_AFTER


def _allowed_within(seconds: float) -> int:
    """Codes the device's rule lets through in a burst lasting `seconds` (5 at once, then one per delay)."""
    rule, admitted, at = RULES[Scope.DEVICE], 0, 0.0
    while True:
        at += rule.delay(admitted) if admitted else 0.0
        if at > seconds:
            return admitted
        admitted += 1


def test_mfa_codes_split_over_two_nodes_check_at_most_the_budget(nodes: Nodes) -> None:
    """40 GetSessionToken calls with wrong codes at once, half to each node: at most what the device's rule
    admits in the time the burst took (5 when it is over within 2 s); the rest answer Throttling."""
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=120)
    session = boto3.session.Session(region_name=REGION)
    clients = [session.client("sts", endpoint_url=nodes.urls[i % 2], region_name=REGION, config=config,
                              aws_access_key_id=nodes.key[0], aws_secret_access_key=nodes.key[1])
               for i in range(40)]
    now = time.time()
    valid = {totp.code_at(nodes.secret, totp.step_of(now) + k) for k in (-1, 0, 1, 2)}
    wrong = [c for c in (f"{n:06d}" for n in range(50)) if c not in valid][:40]

    def one(i: int) -> str:
        try:
            clients[i].get_session_token(SerialNumber=nodes.serial, TokenCode=wrong[i])
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "ok"

    started = time.monotonic()
    with ThreadPoolExecutor(40) as pool:
        codes: list[Any] = list(pool.map(one, range(40)))
    took = time.monotonic() - started
    checked = len(_failures(nodes, "GetSessionToken", "api"))
    assert codes.count("AccessDenied") == checked and codes.count("Throttling") == 40 - checked, codes
    assert 5 <= checked <= _allowed_within(took), (checked, took)
