"""/readyz and /metrics over HTTP: the app in process (any client address), a live server for boto3."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import boto3
import httpx
import pyotp
import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from http_steps import (
    ROOT_EMAIL,
    browser,
    iam_password,
    make_account,
    make_user,
    post_step,
    root_password,
    sign_in_iam,
    sign_in_root,
    sign_out,
    use_clock,
)
from integration.test_root_signin_http import add_totp_device
from support import CHEAP_HASH, CaptchaAnswers, LiveServer, free_port, on_live_server
from vestibule.app import create_app
from vestibule.core.outbox import MailStatus
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services import access_keys, accounts
from vestibule.services.context import Deps
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.store.models import OutboxMail

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# what deploy/haproxy.cfg's health check refuses in a 503 body (`http-check expect ! rstring ...`)
BALANCER_TAKES_OUT = re.compile(r'"(database|redis)" *: *"failing"')


@asynccontextmanager
async def answering(runtime: Runtime, ip: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """The app in process, as seen from `ip` (no mail delivered behind the test's back)."""
    app = create_app(runtime, close_runtime=False)
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@asynccontextmanager
async def runtime_for(settings: Settings) -> AsyncIterator[Runtime]:
    rt = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    try:
        yield rt
    finally:
        await rt.close()


def samples(exposition: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(r.text)


# ---- /readyz ----------------------------------------------------------------------------------------------


async def test_ready_when_every_backend_answers(runtime: Runtime, settings: Settings) -> None:
    async with answering(runtime, "198.51.100.9") as client:  # no address or token needed
        r = await client.get("/readyz")
    assert r.status_code == 200
    expected = {"database": "ok", "migrations": "ok", "mail_outbox": "ok"}
    if settings.redis_url:
        expected["redis"] = "ok"
    assert r.json() == {"status": "ready", "checks": expected}
    assert r.headers["cache-control"] == "no-store"
    assert "vestibule_session" not in r.headers.get("set-cookie", "")


async def test_not_ready_when_redis_does_not_answer(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vestibule.health")
    dead = free_port()
    dead_redis = settings.with_overrides(redis_url=f"redis://127.0.0.1:{dead}/3")
    async with runtime_for(dead_redis) as rt, answering(rt) as client:
        started = time.monotonic()
        r = await client.get("/readyz")
        assert time.monotonic() - started < 3
    assert r.status_code == 503
    assert r.json() == {"status": "not ready", "checks": {"database": "ok", "migrations": "ok", "redis": "failing",
                                                          "mail_outbox": "ok"}}
    assert str(dead) not in r.text and "redis://" not in r.text, "nothing about the backend is revealed"
    assert BALANCER_TAKES_OUT.search(r.text)
    said = [rec.getMessage() for rec in caplog.records if rec.name == "vestibule.health"]
    assert said == ["not ready: redis failing (ConnectionError)"], "once, with the reason's type, in the log"


async def test_not_ready_when_the_database_does_not_answer(settings: Settings) -> None:
    url = f"postgresql+asyncpg://vestibule:secret-password@127.0.0.1:{free_port()}/nowhere"
    async with runtime_for(settings.with_overrides(database_url=url, redis_url="")) as rt, answering(rt) as client:
        started = time.monotonic()
        r = await client.get("/readyz")
        assert time.monotonic() - started < 3
    assert r.status_code == 503
    assert r.json() == {"status": "not ready", "checks": {"database": "failing", "migrations": "failing",
                                                          "mail_outbox": "failing"}}
    assert "secret-password" not in r.text and "nowhere" not in r.text
    assert BALANCER_TAKES_OUT.search(r.text), "deploy/haproxy.cfg's check takes such a node out"


async def test_not_ready_while_the_schema_is_behind_the_code(runtime: Runtime,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vestibule.health")
    async with runtime.engine.begin() as conn:
        current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await conn.execute(text("UPDATE alembic_version SET version_num = '0021'"))
    try:
        async with answering(runtime) as client:
            r = await client.get("/readyz")
    finally:
        async with runtime.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    assert r.status_code == 503
    assert r.json()["checks"]["migrations"] == "failing"
    assert r.json()["checks"]["database"] == "ok"
    async with answering(runtime) as client:
        assert (await client.get("/readyz")).status_code == 200, "ready again once migrated"
    assert f"not ready: migrations failing (the schema is at 0021, this release at {current})" in caplog.text


async def _queue_mail(deps: Deps, mail_id: str, due: float) -> None:
    async with deps.store.unit() as uow:
        await uow.outbox.add(OutboxMail(id=mail_id, kind="password_changed", recipient="x@example.com",
                                        subject="s", body_sealed="", status=MailStatus.PENDING, attempts=0,
                                        created_at=due, next_attempt_at=due, expires_at=time.time() + 3600))


async def test_not_ready_while_a_due_mail_waits_too_long(runtime: Runtime, settings: Settings) -> None:
    now = time.time()
    await _queue_mail(runtime.deps, "a" * 32, now - settings.ready_outbox_stuck_seconds + 60)  # due, not yet stuck
    async with answering(runtime) as client:
        assert (await client.get("/readyz")).status_code == 200
        await _queue_mail(runtime.deps, "b" * 32, now - settings.ready_outbox_stuck_seconds - 60)
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"] == {**r.json()["checks"], "mail_outbox": "failing", "database": "ok"}
        assert not BALANCER_TAKES_OUT.search(r.text), "shared-state checks are for alerts, not for routing"
        assert runtime.mail_sender is not None
        await runtime.mail_sender.drain()  # the sender catches up (the mail is sent or given up)
        assert (await client.get("/readyz")).status_code == 200


async def test_readiness_needs_no_session_and_is_not_throttled(runtime: Runtime) -> None:
    async with answering(runtime, "203.0.113.50") as client:
        answers = [(await client.get("/readyz")).status_code for _ in range(40)]
        assert answers == [200] * 40
        assert (await client.head("/readyz")).status_code == 200
        assert (await client.post("/readyz")).status_code in {403, 405}


# ---- /metrics access ---------------------------------------------------------------------------------------


async def test_metrics_only_for_listed_addresses_or_the_token(settings: Settings) -> None:
    token = "metrics-token-0123456789"
    configured = settings.with_overrides(metrics_token=token, metrics_addresses=("127.0.0.1/32", "10.1.0.0/16"))
    async with runtime_for(configured) as rt:
        for ip, headers, status in [
            ("127.0.0.1", {}, 200),
            ("10.1.200.3", {}, 200),
            ("::ffff:10.1.0.7", {}, 200),
            ("::1", {}, 403),  # not listed in this configuration
            ("203.0.113.7", {}, 403),
            ("203.0.113.7", {"authorization": f"Bearer {token}"}, 200),
            ("203.0.113.7", {"authorization": f"bearer {token}"}, 200),
            ("203.0.113.7", {"authorization": f"Bearer {token}x"}, 403),
            ("203.0.113.7", {"authorization": f"Basic {token}"}, 403),
            ("203.0.113.7", {"authorization": "Bearer "}, 403),
            ("203.0.113.7", {"x-forwarded-for": "127.0.0.1"}, 403),  # no trusted proxy: the header is ignored
        ]:
            async with answering(rt, ip) as client:
                r = await client.get("/metrics", headers=headers)
            assert r.status_code == status, (ip, headers, r.status_code)
            if status == 403:
                assert "vestibule_" not in r.text and r.headers["content-type"].startswith("text/plain")


async def test_without_a_token_only_addresses_count(settings: Settings) -> None:
    async with runtime_for(settings.with_overrides(metrics_token="")) as rt:
        async with answering(rt, "203.0.113.7") as client:
            assert (await client.get("/metrics", headers={"authorization": "Bearer "})).status_code == 403
            assert (await client.get("/metrics", headers={"authorization": "Bearer x"})).status_code == 403
        async with answering(rt, "::1") as client:
            assert (await client.get("/metrics")).status_code == 200, "the default list has both loopbacks"


# ---- what the counters say ---------------------------------------------------------------------------------


async def test_sign_ins_move_the_counters(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    async with answering(runtime) as ops:
        before = await scrape(ops)
        _flow, r = await root_password(client, password="wrong password 1")
        assert r.status_code == 200
        await sign_in_root(client, mailbox)  # a new browser: the password, then the mailed code
        after = await scrape(ops)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("vestibule_signin_attempts_total", user_type="root", method="password", result="failure") == 1
    assert moved("vestibule_signin_attempts_total", user_type="root", method="password+email_code",
                 result="success") == 1
    assert moved("vestibule_signin_attempts_total", user_type="root", method="password", result="success") == 0
    assert moved("vestibule_throttle_decisions_total", kind="password", decision="allowed") == 2
    assert moved("vestibule_throttle_decisions_total", kind="code", decision="allowed") == 1
    assert moved("vestibule_mail_sent_total") == 1
    assert value(after, "vestibule_sessions_active", kind="console") == 1
    assert value(after, "vestibule_sessions_active", kind="cli") == 0
    assert value(after, "vestibule_mail_outbox_messages", status="sent") == 1
    assert value(after, "vestibule_mail_outbox_messages", status="pending") == 0
    assert ("vestibule_db_pool_checked_out", ()) in after and ("vestibule_db_pool_size", ()) in after


async def test_wrong_passwords_reach_the_captcha_and_count_as_such(client: httpx.AsyncClient,
                                                                   runtime: Runtime) -> None:
    await make_account(runtime)
    async with answering(runtime) as ops:
        before = await scrape(ops)
        statuses = []
        for _ in range(5):
            _flow, r = await root_password(client, email=ROOT_EMAIL, password="wrong password 1")
            statuses.append(r.status_code)
        after = await scrape(ops)
    captcha = (value(after, "vestibule_throttle_decisions_total", kind="password", decision="captcha")
               - value(before, "vestibule_throttle_decisions_total", kind="password", decision="captcha"))
    failures = (value(after, "vestibule_signin_attempts_total", user_type="root", method="password",
                      result="failure")
                - value(before, "vestibule_signin_attempts_total", user_type="root", method="password",
                        result="failure"))
    assert captcha >= 1, "a CAPTCHA was asked after a few failures"
    assert failures + captcha == 5, statuses


async def test_mfa_failures_and_iam_users_are_counted(client: httpx.AsyncClient, runtime: Runtime,
                                                      mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    secret = await add_totp_device(client, clock)
    await sign_out(client)
    await make_user(runtime, "acme", "alice")
    clock.advance(60)
    async with answering(runtime) as ops:
        before = await scrape(ops)
        async with browser(runtime, CaptchaAnswers()) as other:
            flow_url, r = await root_password(other)
            good = pyotp.TOTP(secret).at(clock.now)
            r = await post_step(other, flow_url, "mfa", mfa_code=f"{(int(good) + 1) % 1000000:06d}")
            assert r.status_code == 200
            r = await post_step(other, flow_url, "mfa", mfa_code=good)
            assert r.status_code == 303 and r.headers["location"] == "/console"
        async with browser(runtime, CaptchaAnswers(), ip="198.51.100.20") as third:
            assert (await iam_password(third, "acme", "alice", "not her password")).status_code == 200
            assert (await iam_password(third, "acme", "mallory", "not a user")).status_code == 200
            await sign_in_iam(third)
        after = await scrape(ops)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("vestibule_mfa_failures_total", event="ConsoleLogin") == 1
    assert moved("vestibule_signin_attempts_total", user_type="root", method="mfa", result="failure") == 1
    assert moved("vestibule_signin_attempts_total", user_type="root", method="password+mfa", result="success") == 1
    assert moved("vestibule_throttle_decisions_total", kind="code", decision="allowed") == 2
    assert moved("vestibule_signin_attempts_total", user_type="iam_user", method="password", result="failure") == 2, \
        "an unknown user counts as a wrong password"
    assert moved("vestibule_signin_attempts_total", user_type="iam_user", method="password", result="success") == 1
    assert value(after, "vestibule_sessions_active", kind="console") == 2, "root and alice; the first one signed out"


async def test_request_budgets_and_bearer_guesses_are_throttle_decisions(runtime: Runtime) -> None:
    async with answering(runtime) as ops, answering(runtime, "198.51.100.30") as other:
        before = await scrape(ops)
        r = await other.post("/client/register", json={"clientName": "metrics-test", "clientType": "public"})
        assert r.status_code == 200, r.text
        r = await other.get("/scim/v2/Users", headers={"authorization": "Bearer not-a-token"})
        assert r.status_code == 401
        after = await scrape(ops)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("vestibule_throttle_decisions_total", kind="request", decision="allowed") == 1
    assert moved("vestibule_throttle_decisions_total", kind="token", decision="allowed") == 1
    assert moved("vestibule_aws_requests_total", service="sso-oidc", operation="RegisterClient", error_code="none") == 1


async def test_metrics_addresses_are_the_client_behind_a_trusted_proxy(settings: Settings) -> None:
    configured = settings.with_overrides(trusted_proxies=("127.0.0.1/32",), metrics_addresses=("10.9.0.0/16",))
    async with runtime_for(configured) as rt, answering(rt, "127.0.0.1") as proxy:
        assert (await proxy.get("/metrics")).status_code == 403, "the proxy itself is not listed"
        assert (await proxy.get("/metrics", headers={"x-forwarded-for": "10.9.4.4"})).status_code == 200
        assert (await proxy.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})).status_code == 403
        assert (await proxy.get("/metrics", headers={"x-forwarded-for": "10.9.4.4, 203.0.113.9"})).status_code == 403
        assert (await proxy.get("/readyz", headers={"x-forwarded-for": "203.0.113.9"})).status_code == 200
    async with runtime_for(configured) as rt, answering(rt, "203.0.113.9") as untrusted:
        assert (await untrusted.get("/metrics", headers={"x-forwarded-for": "10.9.4.4"})).status_code == 403


# ---- AWS requests through boto3 ----------------------------------------------------------------------------


@pytest.fixture
def aws_live(live_server: LiveServer) -> Iterator[tuple[LiveServer, str, str]]:
    async def make(deps: Deps) -> tuple[str, str]:
        async with deps.store.unit() as uow:
            created = await accounts.create_account(deps, uow, email="aws@example.com", password="root password 1")
            key = await access_keys.create(deps, uow, created.account_id, f"root:{created.account_id}")
        return key.access_key_id, key.secret_access_key

    key_id, secret = on_live_server(live_server, make(live_server.runtime.deps))
    yield live_server, key_id, secret


def test_aws_requests_by_service_operation_and_error_code(aws_live: tuple[LiveServer, str, str]) -> None:
    live, key_id, secret = aws_live
    before = samples(httpx.get(f"{live.url}/metrics").text)
    iam = boto3.client("iam", endpoint_url=live.url, region_name="us-east-1", aws_access_key_id=key_id,
                       aws_secret_access_key=secret)
    iam.create_user(UserName="metrics-alice")
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            iam.get_user(UserName="nobody-here")
        assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    forged = boto3.client("sts", endpoint_url=live.url, region_name="us-east-1", aws_access_key_id=key_id,
                          aws_secret_access_key=secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with pytest.raises(ClientError) as caught:
        forged.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    r = httpx.get(f"{live.url}/metrics")
    assert r.status_code == 200
    after = samples(r.text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("vestibule_aws_requests_total", service="iam", operation="CreateUser", error_code="none") == 1
    assert moved("vestibule_aws_requests_total", service="iam", operation="GetUser", error_code="NoSuchEntity") == 2
    assert moved("vestibule_aws_requests_total", service="sts", operation="GetCallerIdentity",
                 error_code="SignatureDoesNotMatch") == 1
    assert moved("vestibule_aws_request_duration_seconds_count", service="iam", operation="GetUser") == 2
    assert moved("vestibule_aws_request_duration_seconds_bucket", service="iam", operation="GetUser", le="+Inf") == 2
    assert moved("vestibule_aws_request_duration_seconds_sum", service="iam", operation="GetUser") > 0


def test_unknown_operations_do_not_make_new_labels(aws_live: tuple[LiveServer, str, str]) -> None:
    live, key_id, secret = aws_live
    names = [f"Invented{n}Operation" for n in range(3)]
    for name in names:
        with pytest.raises(ClientError):
            _call_unknown(live.url, key_id, secret, name)
    exposition = httpx.get(f"{live.url}/metrics").text
    assert not any(name in exposition for name in names)
    assert 'operation="unknown"' in exposition


def _call_unknown(url: str, key_id: str, secret: str, action: str) -> None:
    """A signed query request for an action no service has (boto3 would refuse to send it)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=url + "/", data=f"Action={action}&Version=2010-05-08",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(key_id, secret), "iam", "us-east-1").add_auth(request)
    r = httpx.post(url + "/", content=request.body, headers=dict(request.headers.items()))
    if r.status_code >= 400:
        raise ClientError({"Error": {"Code": str(r.status_code), "Message": r.text}}, action)
