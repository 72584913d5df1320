"""Mail goes through the outbox: queued in the transaction of the link or code it carries, sealed at rest,
sent by the background sender (woken at commit), retried with backoff while the SMTP server is down, given up
after the attempt cap and shown by `vestibule mail queue` without bodies. Real SMTP (aiosmtpd) throughout."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from http_steps import ROOT_EMAIL, make_account
from smtp_sink import SmtpSink
from support import (
    CHEAP_HASH,
    CaptchaAnswers,
    LiveServer,
    csrf_of,
    free_port,
    on_live_server,
    start_live_server,
    stop_live_server,
)
from vestibule.app import create_app
from vestibule.cli import main
from vestibule.core.outbox import MailKind, RetryPolicy, body_context
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build, sender_ports
from vestibule.services import outbox
from vestibule.services.mail import DevMailbox, Mail, SmtpMailer
from vestibule.services.mail_sender import MailSender
from vestibule.settings import Settings
from vestibule.store.models import OutboxMail

SENDER = "no-reply@vestibule.test"
_LINK = re.compile(r"/recovery/reset\?token=([A-Za-z0-9_-]+)")


async def _rows(runtime: Runtime) -> list[OutboxMail]:
    async with runtime.deps.store.unit() as uow:
        return list((await uow.db.execute(select(OutboxMail).order_by(OutboxMail.created_at))).scalars().all())


def _plain_client(runtime: Runtime, captcha: CaptchaAnswers) -> httpx.AsyncClient:
    """In process, without delivering after each request: what the request itself did stays visible."""
    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
                             base_url="http://testserver")


async def _forgot(client: httpx.AsyncClient, captcha: CaptchaAnswers, email: str) -> httpx.Response:
    page = await client.get("/recovery")
    return await client.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": email,
                                                "captcha": captcha.latest})


async def test_forgot_password_runs_the_same_statements_for_known_and_unknown_addresses(
        runtime: Runtime, captcha: CaptchaAnswers) -> None:
    await make_account(runtime)
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append(" ".join(statement.split()))

    async with _plain_client(runtime, captcha) as client:
        answers: dict[str, list[tuple[int, str, list[str]]]] = {"known": [], "unknown": []}
        for _ in range(2):  # the second time the known address also supersedes its first link
            for name, email in (("known", ROOT_EMAIL), ("unknown", "nobody@example.com")):
                page = await client.get("/recovery")
                seen.clear()
                event.listen(Engine, "before_cursor_execute", record)
                try:
                    r = await client.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": email,
                                                             "captcha": captcha.latest})
                finally:
                    event.remove(Engine, "before_cursor_execute", record)
                answers[name].append((r.status_code, r.text, list(seen)))
    for known, unknown in zip(answers["known"], answers["unknown"], strict=True):
        assert known[0] == unknown[0] == 200
        assert known[1] == unknown[1], "the same page"
        assert known[2] == unknown[2], "the same statements, in the same order"
        assert any(s.startswith("INSERT INTO mail_outbox") for s in known[2])
    rows = await _rows(runtime)
    assert [(r.kind, r.status) for r in rows] == [("recovery_link", "pending"), ("recovery_none", "dropped")] * 2
    assert all(r.recipient == "" and r.body_sealed == "" for r in rows if r.status == "dropped"), \
        "nothing about an address without an account is kept but the attempt"


async def test_the_link_is_sealed_at_rest_and_erased_once_sent(runtime: Runtime, captcha: CaptchaAnswers,
                                                               mailbox: DevMailbox) -> None:
    await make_account(runtime)
    async with _plain_client(runtime, captcha) as client:
        assert (await _forgot(client, captcha, ROOT_EMAIL)).status_code == 200
    (row,) = [r for r in await _rows(runtime) if r.status == "pending"]
    assert mailbox.messages == [], "nothing is sent inside the request"
    assert "token" not in row.body_sealed and "recovery" not in row.body_sealed
    body = runtime.deps.box.open(row.body_sealed, body_context(row.id)).decode()
    token = _LINK.search(body)
    assert token is not None and token.group(1) not in row.body_sealed
    assert runtime.mail_sender is not None
    assert (await runtime.mail_sender.drain()).sent == 1
    assert [m.to for m in mailbox.messages] == [ROOT_EMAIL] and token.group(1) in mailbox.messages[0].body
    (row,) = [r for r in await _rows(runtime) if r.kind == "recovery_link"]
    assert (row.status, row.attempts, row.body_sealed) == ("sent", 1, ""), "a sent row keeps no link"


def _until(check: Any, timeout: float = 20.0, what: str = "") -> Any:
    """Polls `check()` until it answers something truthy (the sender works in the server's own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _forgot_live(http: httpx.Client, live: LiveServer, email: str) -> httpx.Response:
    page = http.get("/recovery")
    return http.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": email,
                                        "captcha": live.captcha.latest})


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


def test_smtp_down_answers_200_and_the_mail_arrives_when_it_is_back(settings: Settings, smtp: SmtpSink) -> None:
    """The SMTP server is down (nothing listens on its port): the request answers the usual page at once, the
    sender retries with backoff, and the link arrives once a real SMTP server listens there again."""
    patient = settings.with_overrides(mail_retry_seconds=0.5, mail_poll_seconds=3600)  # no polling: timers only
    live = start_live_server(patient, SmtpMailer("127.0.0.1", smtp.port, SENDER))
    try:
        on_live_server(live, make_account(live.runtime))
        with httpx.Client(base_url=live.url) as http:
            known = _forgot_live(http, live, ROOT_EMAIL)
            unknown = _forgot_live(http, live, "nobody@example.com")
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text

        def failed_once() -> OutboxMail | None:
            rows = on_live_server(live, _rows(live.runtime))
            return next((r for r in rows if r.kind == "recovery_link" and r.attempts >= 1), None)

        row = _until(failed_once, what="a first failed attempt")
        assert row.status == "pending" and row.last_error == "ConnectionRefusedError"
        smtp.start()
        (mail,) = smtp.wait_for_count(1)
        assert mail.to == (ROOT_EMAIL,) and _LINK.search(mail.body)

        def sent() -> OutboxMail | None:
            rows = on_live_server(live, _rows(live.runtime))
            return next((r for r in rows if r.kind == "recovery_link" and r.status == "sent"), None)

        row = _until(sent, what="the row marked sent")
        assert row.attempts >= 2 and row.body_sealed == ""
        assert len(smtp.messages) == 1, "sent once, and nothing to the address without an account"
    finally:
        stop_live_server(live)


def test_the_sender_is_woken_at_commit(settings: Settings) -> None:
    """Polling once an hour, a mail queued by a request still goes out at once."""
    mailbox = DevMailbox()
    live = start_live_server(settings.with_overrides(mail_poll_seconds=3600), mailbox)
    try:
        on_live_server(live, make_account(live.runtime))
        assert _until(lambda: live.runtime.mail_sender and live.runtime.mail_sender.running, what="the sender")
        time.sleep(0.3)  # let the sender finish its first round and start its hour-long wait
        with httpx.Client(base_url=live.url) as http:
            assert _forgot_live(http, live, ROOT_EMAIL).status_code == 200
        _until(lambda: mailbox.messages, timeout=10, what="the mail")
        assert [m.to for m in mailbox.messages] == [ROOT_EMAIL]
    finally:
        stop_live_server(live)


async def _queue(runtime: Runtime, to: str, body: str = "Your code is: 123456\n") -> str:
    async with runtime.deps.store.unit() as uow:
        return await outbox.enqueue(uow, runtime.deps.outbox, Mail(to, "Your code", body), kind=MailKind.SIGNIN_CODE)


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_backoff_then_given_up_after_the_cap_and_listed_without_the_body(
        runtime: Runtime, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    mail_id = await _queue(runtime, "owner@example.com", "Your code is: 482913\n")
    clock = _Clock()  # the sender's time, moved by the test: the backoff without waiting for it
    dead = SmtpMailer("127.0.0.1", free_port(), SENDER)  # nothing listens there
    sender = MailSender(replace(sender_ports(runtime.deps), mailer=dead, clock=clock,
                                retry=RetryPolicy(max_attempts=3, first_delay=10, max_delay=60)))

    def row() -> OutboxMail:
        return next(r for r in rows if r.id == mail_id)

    assert (await sender.drain()).retrying == 1
    rows = await _rows(runtime)
    assert (row().status, row().attempts, row().last_error) == ("pending", 1, "ConnectionRefusedError")
    assert 9 <= row().next_attempt_at - clock.now <= 11, "first retry after about 10 s"
    assert (await sender.drain()).claimed == 0, "not before it is due"
    clock.now = row().next_attempt_at
    assert (await sender.drain()).retrying == 1
    rows = await _rows(runtime)
    assert 18 <= row().next_attempt_at - clock.now <= 22, "then about 20 s: the delay doubles"
    clock.now = row().next_attempt_at
    with caplog.at_level(logging.ERROR, logger="vestibule.mail"):
        assert (await sender.drain()).failed == 1
    rows = await _rows(runtime)
    assert (row().status, row().attempts, row().body_sealed) == ("failed", 3, "")
    assert any(f"mail {mail_id} (signin_code) to owner@example.com failed for good after 3 attempt(s)" in m
               for m in caplog.messages)
    clock.now += 3600
    assert (await sender.drain()).claimed == 0, "a failed mail is not tried again"

    for name, value in (("VESTIBULE_DATABASE_URL", settings.database_url), ("VESTIBULE_MASTER_KEY",
                        settings.master_key), ("VESTIBULE_DATA_DIR", str(settings.data_dir))):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VESTIBULE_REDIS_URL", raising=False)
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["mail", "queue"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["Counts"] == {"pending": 0, "sent": 0, "failed": 1, "dropped": 0}
    (entry,) = shown["Mail"]
    assert (entry["Id"], entry["Kind"], entry["To"], entry["Status"], entry["Attempts"], entry["LastError"]) == \
        (mail_id, "signin_code", "owner@example.com", "failed", 3, "ConnectionRefusedError")
    assert entry["FinishedAt"].endswith("Z") and entry["NextAttemptAt"] is None
    assert "482913" not in out and "Your code is" not in out, "never a body"
    assert await asyncio.to_thread(main, ["mail", "queue", "--status", "sent"]) == 0
    assert json.loads(capsys.readouterr().out)["Mail"] == []


async def test_a_recipient_refused_for_good_is_not_retried(runtime: Runtime, smtp: SmtpSink) -> None:
    smtp.refused.add("gone@example.com")
    smtp.start()
    sender = MailSender(replace(sender_ports(runtime.deps), mailer=SmtpMailer("127.0.0.1", smtp.port, SENDER)))
    refused = await _queue(runtime, "gone@example.com")
    fine = await _queue(runtime, "owner@example.com")
    done = await sender.drain()
    assert (done.sent, done.failed, done.retrying) == (1, 1, 0)
    by_id = {r.id: r for r in await _rows(runtime)}
    assert (by_id[refused].status, by_id[refused].attempts, by_id[refused].last_error) == \
        ("failed", 1, "SMTPRecipientsRefused 550")
    assert by_id[fine].status == "sent"
    assert [m.to for m in smtp.messages] == [("owner@example.com",)]


async def test_two_nodes_send_each_mail_once(settings: Settings, smtp: SmtpSink) -> None:
    smtp.start()
    nodes = [await build(settings, run_migrations=False, mailer=SmtpMailer("127.0.0.1", smtp.port, SENDER),
                         hasher=PasswordHasher(CHEAP_HASH)) for _ in range(2)]
    try:
        for i in range(12):
            await _queue(nodes[i % 2], f"user{i}@example.com")
        senders = [node.mail_sender for node in nodes]
        assert senders[0] is not None and senders[1] is not None
        rounds = await asyncio.gather(senders[0].drain(), senders[1].drain(), senders[0].drain())
        assert sum(r.sent for r in rounds) == 12
        received = await asyncio.to_thread(smtp.wait_for_count, 12)
        assert sorted(m.to[0] for m in received) == sorted(f"user{i}@example.com" for i in range(12))
        await asyncio.sleep(0.2)
        assert len(smtp.messages) == 12, "no mail twice"
        assert {r.status for r in await _rows(nodes[0])} == {"sent"}
    finally:
        for node in nodes:
            await node.close()


async def test_mail_queued_before_a_restart_goes_out_when_the_sender_starts(settings: Settings,
                                                                             smtp: SmtpSink) -> None:
    """Durable: a node that stops (or dies) with mail queued loses none; the next sender to start sends it."""
    first = await build(settings, run_migrations=False, hasher=PasswordHasher(CHEAP_HASH))
    await _queue(first, "owner@example.com")
    await first.close()
    smtp.start()
    second = await build(settings, run_migrations=False, mailer=SmtpMailer("127.0.0.1", smtp.port, SENDER),
                         hasher=PasswordHasher(CHEAP_HASH))
    try:
        await second.start()
        (mail,) = await asyncio.to_thread(smtp.wait_for_count, 1)
        assert mail.to == ("owner@example.com",)
    finally:
        await second.close()


async def test_every_mailing_flow_answers_normally_with_smtp_down_and_its_code_works_once_sent(
        settings: Settings, smtp: SmtpSink, captcha: CaptchaAnswers) -> None:
    """Sign-up codes, root sign-in codes and reset links all go through the outbox: with the SMTP server down
    each page answers as usual (no 500); once it is up the mail arrives and the code it carries works."""
    rt = await build(settings, run_migrations=False, mailer=SmtpMailer("127.0.0.1", smtp.port, SENDER),
                     hasher=PasswordHasher(CHEAP_HASH))
    try:
        await make_account(rt)
        async with _plain_client(rt, captcha) as client:
            page = await client.get("/signup")
            signup = await client.post("/signup", data={
                "csrf_token": csrf_of(page.text), "email": "new@example.com", "account_name": "New",
                "password": "signup password 1", "confirm_password": "signup password 1", "captcha": captcha.latest})
            assert signup.status_code == 303 and signup.headers["location"].startswith("/signup/verify?flow=")
            page = await client.get("/?root=1")
            start = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                                 "email": ROOT_EMAIL})
            flow_url = start.headers["location"]
            page = await client.get(flow_url)
            password = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                                         "password": "root password 1"})
            assert password.status_code == 303 and password.headers["location"] == flow_url, "asks for the code"
            assert (await _forgot(client, captcha, ROOT_EMAIL)).status_code == 200
            assert rt.mail_sender is not None
            assert (await rt.mail_sender.drain()).retrying == 3, "all three tried and kept for later"
            assert {r.kind for r in await _rows(rt) if r.status == "pending"} == \
                {"signup_code", "signin_code", "recovery_link"}
            smtp.start()
            in_a_minute = MailSender(replace(sender_ports(rt.deps), clock=lambda: time.time() + 60))
            assert (await in_a_minute.drain()).sent == 3, "the retries, once due"
            received = await asyncio.to_thread(smtp.wait_for_count, 3)
            (signup_mail,) = [m.body for m in received if m.to == ("new@example.com",)]
            root_mails = sorted(m.subject for m in received if m.to == (ROOT_EMAIL,))
            assert root_mails == ["Reset your Vestibule root user password", "Your Vestibule sign-in verification code"]
            code = re.search(r"\b(\d{6})\b", signup_mail)
            assert code is not None
            verify_url = signup.headers["location"]
            page = await client.get(verify_url)
            done = await client.post(verify_url, data={"csrf_token": csrf_of(page.text),
                                                       "verification_code": code.group(1)})
            assert done.status_code == 303 and done.headers["location"].startswith("/console")
    finally:
        await rt.close()
