"""Three `vestibule serve` nodes on one PostgreSQL and one Redis behind HAProxy, started with deploy/haproxy.cfg as
docs/deployment.md shows it: a root user signs in through the balancer with its requests landing on every node;
signing out on one node ends the session on the others at once; wrong passwords counted on one node bring the
CAPTCHA on the others; an access key deactivated through one node is refused by the others on the next request;
a node killed with SIGKILL in the middle of a load of CreateUser calls loses no acknowledged write, and the
balancer's health check takes it out (its runtime API says so, and no answer names it again).

Runs in the PostgreSQL + Redis pass only (marker `multinode`, left out of the SQLite pass by tests/run_suite.py).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from botocore.exceptions import BotoCoreError, ClientError

from e2e.browser_support import CollectingHandler, SmtpSink, run_async
from e2e.multi_node_support import (
    HAPROXY_CONFIG,
    MASTER_KEY,
    SERVER_NAMES,
    Cluster,
    aws_client,
    eventually,
    execute,
    fresh_database,
    kill,
    node_environment,
    served_by,
    start_haproxy,
    start_node,
    stop,
    table_locked,
    wait_all_running,
    wait_answering,
)
from http_steps import console_csrf, error_of, post_step, start_root
from support import CHEAP_HASH, free_port
from vestibule.runtime import Runtime, build
from vestibule.services import access_keys, accounts, audit
from vestibule.settings import Settings
from vestibule.store.database import make_engine, migrate
from vestibule.web.i18n import Translator

pytestmark = pytest.mark.multinode

ROOT_EMAIL = "owner@example.com"
THROTTLED_EMAIL = "guessed@example.com"
PASSWORD = "Multi node pass phrase 1"
CLIENT_ADDRESS = "127.0.0.2"  # the test's "browser" connects to the balancer from here
SPOOFED = "198.51.100.9"  # what that browser claims to be, in headers the balancer must not pass on as its word


@dataclass(frozen=True)
class World:
    account_id: str
    root_key: tuple[str, str]  # the root user's access key
    cluster: Cluster
    sink: SmtpSink


async def _prepare(settings: Settings) -> tuple[str, tuple[str, str]]:
    engine = make_engine(settings.database_url)
    await migrate(engine)
    await engine.dispose()
    runtime = await build(settings, run_migrations=False)
    try:
        async with runtime.deps.store.unit() as uow:
            made = await accounts.create_account(runtime.deps, uow, email=ROOT_EMAIL, password=PASSWORD,
                                                 alias="multi-node")
        async with runtime.deps.store.unit() as uow:
            await accounts.create_account(runtime.deps, uow, email=THROTTLED_EMAIL, password=PASSWORD, alias=None)
        async with runtime.deps.store.unit() as uow:
            key = await access_keys.create(runtime.deps, uow, made.account_id, f"root:{made.account_id}")
        return made.account_id, (key.access_key_id, key.secret_access_key)
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("multinode")
    handler = CollectingHandler()
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with fresh_database() as (database_url, redis_url):
            settings = Settings(data_dir=tmp / "setup", database_url=database_url, redis_url=redis_url,
                                master_key=MASTER_KEY, argon2_memory_kib=CHEAP_HASH.memory_kib,
                                argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)
            account_id, root_key = asyncio.run(_prepare(settings))
            balancer_port = free_port()
            balancer = f"http://127.0.0.1:{balancer_port}"
            env = node_environment(database_url, redis_url, balancer, smtp_port)
            nodes = {name: start_node(name, env, tmp) for name in SERVER_NAMES}
            try:
                for node in nodes.values():
                    wait_answering(node)
                haproxy, socket_path, haproxy_log = start_haproxy(balancer_port, nodes, tmp)
                try:
                    cluster = Cluster(balancer, nodes, settings, haproxy, haproxy_log, socket_path)
                    wait_all_running(cluster)
                    yield World(account_id, root_key, cluster, SmtpSink(controller, handler, smtp_port))
                finally:
                    stop(haproxy)
            finally:
                for node in nodes.values():
                    stop(node.process)
    finally:
        controller.stop()


class _Answers:
    """Which node answered each response of a client (HAProxy's X-Served-By)."""

    def __init__(self) -> None:
        self.nodes: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        self.nodes.append(response.headers.get("x-served-by", ""))


def _browser(base_url: str, jar: CookieJar, answers: _Answers | None = None,
             local_address: str | None = None) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=local_address) if local_address else None
    return httpx.AsyncClient(base_url=base_url, cookies=jar, follow_redirects=False, transport=transport,
                             event_hooks={"response": [answers]} if answers else None)


async def test_sign_in_lands_on_every_node_and_sign_out_on_one_ends_it_on_all(world: World) -> None:
    cluster, jar, answers = world.cluster, CookieJar(), _Answers()
    spoofing = {"X-Forwarded-For": SPOOFED, "Forwarded": f"for={SPOOFED}"}
    async with _browser(cluster.balancer, jar, answers, CLIENT_ADDRESS) as browser:
        browser.headers.update(spoofing)
        flow_url = await start_root(browser, ROOT_EMAIL)
        mails = len(world.sink.messages)
        r = await post_step(browser, flow_url, "password", password=PASSWORD)
        assert r.status_code == 303 and r.headers["location"] == flow_url, "a new browser: the mailed code"
        code = world.sink.code_for(ROOT_EMAIL, after=mails)
        r = await post_step(browser, flow_url, "email_code", verification_code=code)
        assert r.status_code == 303 and r.headers["location"] == "/console", r.text
        assert set(answers.nodes) == set(SERVER_NAMES), f"the sign-in's requests landed on {answers.nodes}"

        answers.nodes.clear()
        for _ in SERVER_NAMES:
            assert (await browser.get("/console")).status_code == 200
        assert sorted(answers.nodes) == sorted(SERVER_NAMES), "one session, valid on every node"

    direct = {name: _browser(node.url, jar) for name, node in cluster.nodes.items()}
    try:
        for client in direct.values():
            assert (await client.get("/console")).status_code == 200
        r = await direct["node1"].post("/signout", data={"csrf_token": await console_csrf(direct["node1"])})
        assert r.status_code == 303
        for name in ("node2", "node3"):  # at once: no wait between the sign-out and these
            r = await direct[name].get("/console")
            assert r.status_code == 303 and r.headers["location"] == "/", f"{name} still takes the session"
    finally:
        for client in direct.values():
            await client.aclose()
    answers.nodes.clear()
    async with _browser(cluster.balancer, jar, answers, CLIENT_ADDRESS) as browser:
        for _ in SERVER_NAMES:
            assert (await browser.get("/console")).status_code == 303
    assert sorted(answers.nodes) == sorted(SERVER_NAMES)

    async def sign_ins(rt: Runtime) -> list[dict[str, Any]]:
        async with rt.deps.store.unit() as uow:
            rows = await uow.audit.for_account(world.account_id, 100)
        return [audit.as_dict(row) for row in rows if row.event == "ConsoleLogin"]

    (event,) = run_async(cluster.settings, sign_ins)
    assert event["result"] == "Success"
    assert event["client_ip"] == CLIENT_ADDRESS, "the client's address, through the trusted balancer"


def _captcha_asked(page: str) -> bool:
    return 'name="captcha"' in page


async def test_a_throttle_counted_on_one_node_applies_on_the_others(world: World) -> None:
    cluster = world.cluster

    async def password_page(node: str) -> tuple[httpx.AsyncClient, str, str]:
        client = _browser(cluster.nodes[node].url, CookieJar())
        flow_url = await start_root(client, THROTTLED_EMAIL)
        return client, flow_url, (await client.get(flow_url)).text

    opened = []
    try:
        guesser, flow_url, page = await password_page("node1")
        opened.append(guesser)
        assert not _captcha_asked(page)
        other, _, page = await password_page("node2")
        opened.append(other)
        assert not _captcha_asked(page), "no CAPTCHA before the wrong passwords"
        for attempt in range(3):
            r = await post_step(guesser, flow_url, "password", password=f"wrong guess {attempt}")
            assert r.status_code == 200 and error_of(r.text), r.text
        for node in ("node2", "node3"):
            client, node_flow, page = await password_page(node)
            opened.append(client)
            assert _captcha_asked(page), f"{node} does not know the failures counted on node1"
            r = await post_step(client, node_flow, "password", password=PASSWORD)
            assert r.status_code == 200 and error_of(r.text) == Translator("en")("captcha.required"), r.text
    finally:
        for client in opened:
            await client.aclose()


def _refused(sts: Any) -> str:
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    return str(caught.value.response["Error"]["Code"])


def test_an_access_key_deactivated_through_one_node_is_refused_by_the_others(world: World) -> None:
    cluster = world.cluster
    iam = aws_client("iam", cluster.balancer, world.root_key)
    iam.create_user(UserName="bob")
    created = iam.create_access_key(UserName="bob")["AccessKey"]
    bob = (created["AccessKeyId"], created["SecretAccessKey"])
    sts = {name: aws_client("sts", node.url, bob) for name, node in cluster.nodes.items()}
    for client in sts.values():  # every node has the key cached now
        assert client.get_caller_identity()["Arn"].endswith(":user/bob")

    answer = aws_client("iam", cluster.nodes["node1"].url, world.root_key).update_access_key(
        UserName="bob", AccessKeyId=bob[0], Status="Inactive")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    for name in ("node2", "node3"):
        assert _refused(sts[name]) == "InvalidClientTokenId", name
    through_balancer = aws_client("sts", cluster.balancer, bob)
    for _ in SERVER_NAMES:
        assert _refused(through_balancer) == "InvalidClientTokenId"


def test_the_health_check_takes_nodes_out_for_their_database_not_for_the_shared_checks(world: World) -> None:
    cluster, url = world.cluster, world.cluster.settings.database_url
    revision = execute(url, "SELECT version_num FROM alembic_version")
    execute(url, "UPDATE alembic_version SET version_num = 'not_this_code'")
    try:
        for node in cluster.nodes.values():
            answer = httpx.get(node.url + "/readyz", timeout=5)
            assert answer.status_code == 503, answer.text
            assert answer.json()["checks"] == {"database": "ok", "migrations": "failing", "redis": "ok",
                                               "mail_outbox": "ok"}
        eventually(cluster, lambda: all(code == "503" for _, code in cluster.last_checks().values()),
                   "HAProxy's checks seeing the 503 of every node")
        time.sleep(2.5)  # longer than 2 failed checks 1 s apart (fall 2, inter 1s)
        assert cluster.running() == set(SERVER_NAMES), "a schema check failing on every node takes none out"
        answered = {httpx.get(cluster.balancer + "/healthz").headers["x-served-by"] for _ in SERVER_NAMES}
        assert answered == set(SERVER_NAMES)
    finally:
        execute(url, f"UPDATE alembic_version SET version_num = '{revision}'")

    with table_locked(url, "alembic_version"):  # every node's database check now waits past its 1 s
        eventually(cluster, lambda: not cluster.running(), "the database check taking the nodes out")
        assert httpx.get(cluster.balancer + "/healthz").status_code == 503  # HAProxy's: no node in service
    eventually(cluster, lambda: cluster.running() == set(SERVER_NAMES), "the nodes back once the database answers")


@dataclass(frozen=True)
class _Write:
    name: str
    sent: float
    node: str  # who answered; "" for a write that got no answer or an error


def test_a_node_killed_mid_load_loses_no_acknowledged_write_and_is_taken_out(world: World) -> None:
    cluster, victim = world.cluster, world.cluster.nodes["node2"]
    acknowledged: list[_Write] = []
    failed: list[_Write] = []
    lock, done, numbers = threading.Lock(), threading.Event(), itertools.count()
    give_up = time.monotonic() + 40

    def writer() -> None:
        iam = aws_client("iam", cluster.balancer, world.root_key)
        while not done.is_set() and time.monotonic() < give_up:
            name, sent = f"load-{next(numbers):05d}", time.monotonic()
            try:
                node = served_by(iam.create_user(UserName=name, Path="/load/"))
            except (ClientError, BotoCoreError):
                with lock:
                    failed.append(_Write(name, sent, ""))
                continue
            with lock:
                acknowledged.append(_Write(name, sent, node))

    def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> float:
        try:
            return eventually(cluster, condition, what, seconds)
        except BaseException:
            done.set()  # the writers stop, so the pool's exit does not wait for them
            raise

    def count() -> int:
        with lock:
            return len(acknowledged)

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(writer) for _ in range(4)]
        wait_for(lambda: count() >= 30, "30 acknowledged writes")
        with lock:
            assert victim.name in {w.node for w in acknowledged}, "the victim took writes before it died"
        kill(victim)
        killed_at = time.monotonic()
        taken_out_at = wait_for(lambda: victim.name not in cluster.running(), "the health check taking node2 out",
                                seconds=10)
        after = count()
        wait_for(lambda: count() >= after + 30, "30 more writes after node2 was taken out")
        done.set()
        for future in futures:
            future.result()

    assert taken_out_at - killed_at < 5, "inter 1s fall 2: out within a few seconds"
    later = [w for w in acknowledged if w.sent > taken_out_at]
    assert len(later) >= 30 and {w.node for w in later} == {"node1", "node3"}, later
    assert not [w for w in failed if w.sent > taken_out_at], "once taken out, no request goes to the dead node"
    listed = {user["UserName"] for page in aws_client("iam", cluster.balancer, world.root_key).get_paginator(
        "list_users").paginate(PathPrefix="/load/") for user in page["Users"]}
    lost = {w.name for w in acknowledged} - listed
    assert not lost, f"acknowledged writes lost: {sorted(lost)}"
    assert victim.process.poll() is not None


def test_the_configuration_docs_deployment_shows_is_the_file_the_test_runs() -> None:
    """Every line of the haproxy.cfg listing in docs/deployment.md (its "..." aside) is in deploy/haproxy.cfg, in
    the same order, and every directive of the file's frontend and backend is in the listing."""
    page = (HAPROXY_CONFIG.parents[1] / "docs" / "deployment.md").read_text()
    listing = page.split("is the whole configuration, the file the multi-node test runs:\n\n```\n", 1)[1]
    shown = [line for line in listing.split("```", 1)[0].splitlines() if line.strip() not in ("", "...")]
    directives = [line for line in HAPROXY_CONFIG.read_text().splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    assert [line for line in shown if line not in directives] == [], "shown in the docs, not in the file"
    positions = [directives.index(line) for line in shown]
    assert positions == sorted(positions), "the listing is out of the file's order"
    tail = directives[directives.index("frontend vestibule"):]
    assert [line for line in tail if line not in shown] == [], "in the file's frontend or backend, not in the docs"
