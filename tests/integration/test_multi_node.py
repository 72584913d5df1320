"""Two server processes on one database and one Redis: a change made through node A is refused on node B
on the very next request, although B had the old answer cached.

On the PostgreSQL + Redis pass the nodes share that PostgreSQL; on the SQLite pass they share one SQLite
file. Redis is required either way (the invalidations travel over it): in CI a missing Redis fails.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import httpx
import pytest
from botocore.exceptions import ClientError

from http_steps import make_account, make_user, sign_in_iam, sign_out
from support import CHEAP_HASH, free_port, reachable_redis_url
from vestibule.runtime import build
from vestibule.services import access_keys
from vestibule.settings import Settings
from vestibule.store.database import make_engine, migrate

MASTER_KEY = "22" * 32
REGION = "us-east-1"


@dataclass(frozen=True)
class Node:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(frozen=True)
class Cluster:
    a: Node
    b: Node
    settings: Settings
    root_key: tuple[str, str]


def _start_node(name: str, env: dict[str, str], tmp: Path) -> Node:
    port = free_port()
    log = tmp / f"node-{name}.log"
    node_env = {**env, "VESTIBULE_DATA_DIR": str(tmp / f"data-{name}"), "VESTIBULE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=node_env, stdout=out, stderr=subprocess.STDOUT)
    return Node(f"http://127.0.0.1:{port}", process, log)


def _wait_ready(node: Node, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            pytest.fail(f"node exited with {node.process.returncode}:\n{node.log.read_text()[-3000:]}")
        try:
            if httpx.get(node.url + "/_health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"node at {node.url} did not start:\n{node.log.read_text()[-3000:]}")


def _stop(node: Node) -> None:
    node.process.terminate()
    try:
        node.process.wait(20)
    except subprocess.TimeoutExpired:
        node.process.kill()
        node.process.wait(10)


@pytest.fixture
def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    redis_url = asyncio.run(reachable_redis_url())
    if os.environ.get("VESTIBULE_TEST_DATABASE_URL"):
        database_url = request.getfixturevalue("clean_database")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    settings = Settings(data_dir=tmp_path / "setup", database_url=database_url, redis_url=redis_url,
                        master_key=MASTER_KEY, argon2_memory_kib=CHEAP_HASH.memory_kib,
                        argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)

    async def prepare() -> tuple[str, str]:
        engine = make_engine(database_url)
        await migrate(engine)
        await engine.dispose()
        runtime = await build(settings, run_migrations=False)
        try:
            account_id = await make_account(runtime, alias="multi-node")
            await make_user(runtime, "multi-node", "alice")
            async with runtime.deps.store.unit() as uow:
                key = await access_keys.create(runtime.deps, uow, account_id, f"root:{account_id}")
            return key.access_key_id, key.secret_access_key
        finally:
            await runtime.close()

    root_key = asyncio.run(prepare())
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATABASE_URL=database_url, VESTIBULE_REDIS_URL=redis_url, VESTIBULE_MASTER_KEY=MASTER_KEY,
               VESTIBULE_ARGON2_MEMORY_KIB=str(CHEAP_HASH.memory_kib),
               VESTIBULE_ARGON2_TIME_COST=str(CHEAP_HASH.time_cost), VESTIBULE_LOG_LEVEL="warning")
    a = _start_node("a", env, tmp_path)
    b = _start_node("b", env, tmp_path)
    try:
        _wait_ready(a)
        _wait_ready(b)
        yield Cluster(a, b, settings, root_key)
    finally:
        _stop(a)
        _stop(b)


def _client(service: str, node: Node, key: tuple[str, str]) -> Any:
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=10,
                                    read_timeout=20)
    return boto3.session.Session(region_name=REGION).client(
        service, endpoint_url=node.url, region_name=REGION, config=config, aws_access_key_id=key[0],
        aws_secret_access_key=key[1])


def _refused(sts: Any) -> str:
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    return str(caught.value.response["Error"]["Code"])


def test_access_key_changes_through_a_reach_b_on_the_next_request(cluster: Cluster) -> None:
    iam_a = _client("iam", cluster.a, cluster.root_key)
    iam_a.create_user(UserName="bob")
    created = iam_a.create_access_key(UserName="bob")["AccessKey"]
    bob = (created["AccessKeyId"], created["SecretAccessKey"])
    sts_b = _client("sts", cluster.b, bob)
    assert sts_b.get_caller_identity()["Arn"].endswith(":user/bob")  # B now has the key cached
    assert sts_b.get_caller_identity()["Arn"].endswith(":user/bob")

    iam_a.update_access_key(UserName="bob", AccessKeyId=bob[0], Status="Inactive")
    assert _refused(sts_b) == "InvalidClientTokenId"

    iam_a.update_access_key(UserName="bob", AccessKeyId=bob[0], Status="Active")
    assert sts_b.get_caller_identity()["Arn"].endswith(":user/bob"), "reactivation reaches B at once too"

    iam_a.delete_access_key(UserName="bob", AccessKeyId=bob[0])
    assert _refused(sts_b) == "InvalidClientTokenId"


async def test_a_session_ended_on_a_is_refused_on_b(cluster: Cluster) -> None:
    jar = CookieJar()  # one browser: its cookies go to both nodes (same host, another port)
    async with httpx.AsyncClient(base_url=cluster.a.url, follow_redirects=False, cookies=jar) as on_a, \
            httpx.AsyncClient(base_url=cluster.b.url, follow_redirects=False, cookies=jar) as on_b:
        await sign_in_iam(on_a, "multi-node", "alice")
        assert (await on_b.get("/console")).status_code == 200, "one session, valid on every node"
        assert (await on_b.get("/console")).status_code == 200
        r = await sign_out(on_a)
        assert r.status_code == 303
        r = await on_b.get("/console")
        assert r.status_code == 303 and r.headers["location"] == "/"
