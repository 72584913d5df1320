"""Sign-up's "Send a new code": only after a short wait, a few times a sign-up, the old code then stops
working, the page is the same for a taken address (which gets its notice again), and each resend is audited."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from http_steps import browser, error_of, make_account, notice_of, use_clock
from support import CaptchaAnswers, csrf_of
from vestibule.core.flows.email_codes import MAX_RESENDS, RESEND_WAIT
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent
from vestibule.web.i18n import Translator

t = Translator("en")
PASSWORD = "signup password 1"


async def _sign_up(client: httpx.AsyncClient, captcha: CaptchaAnswers, email: str) -> str:
    page = await client.get("/signup")
    r = await client.post("/signup", data={
        "csrf_token": csrf_of(page.text), "email": email, "account_name": "Team", "password": PASSWORD,
        "confirm_password": PASSWORD, "captcha": captcha.latest})
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    return location


async def _resend(client: httpx.AsyncClient, flow_url: str) -> httpx.Response:
    page = await client.get(flow_url)
    return await client.post(flow_url.replace("/signup/verify?", "/signup/resend?"),
                             data={"csrf_token": csrf_of(page.text)})


async def _verify(client: httpx.AsyncClient, flow_url: str, code: str) -> httpx.Response:
    page = await client.get(flow_url)
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "verification_code": code})


def _codes(mailbox: DevMailbox, to: str) -> list[str]:
    found = (re.search(r"\b(\d{6})\b", m.body) for m in mailbox.messages if m.to == to)
    return [m.group(1) for m in found if m]


async def test_resend_after_the_wait_replaces_the_code(client: httpx.AsyncClient, runtime: Runtime,
                                                       captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    flow_url = await _sign_up(client, captcha, "new@example.com")
    page = await client.get(flow_url)
    assert 'action="/signup/resend?flow=' in page.text and t("otp.resend") in page.text
    assert t("signup.resend_hint", seconds=RESEND_WAIT) in page.text
    # too soon: refused, nothing mailed
    r = await _resend(client, flow_url)
    assert r.status_code == 429 and error_of(r.text) == t("throttle.wait", seconds=RESEND_WAIT)
    clock.advance(RESEND_WAIT - 10)
    r = await _resend(client, flow_url)
    assert r.status_code == 429 and error_of(r.text) == t("throttle.wait", seconds=10)
    assert len(_codes(mailbox, "new@example.com")) == 1
    clock.advance(10)
    r = await _resend(client, flow_url)
    assert r.status_code == 200 and notice_of(r.text) == t("signin.code_resent")
    first, second = _codes(mailbox, "new@example.com")
    # the wait starts again from the new code
    r = await _resend(client, flow_url)
    assert r.status_code == 429
    if first != second:
        r = await _verify(client, flow_url, first)
        assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code"), "the old code stops working"
    r = await _verify(client, flow_url, second)
    assert r.status_code == 303 and r.headers["location"].startswith("/console")
    async with runtime.deps.store.unit() as uow:
        assert await uow.accounts.by_email("new@example.com") is not None
    async with runtime.deps.store.unit() as uow:
        events = (await uow.db.execute(select(AuditEvent.event, AuditEvent.result, AuditEvent.client_ip))).all()
    assert ("SignUpCodeResent", "Success", "203.0.113.7") in [tuple(e) for e in events]


async def test_a_few_resends_per_sign_up(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers,
                                         mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    flow_url = await _sign_up(client, captcha, "many@example.com")
    for _ in range(MAX_RESENDS):
        clock.advance(RESEND_WAIT)
        assert (await _resend(client, flow_url)).status_code == 200
    clock.advance(RESEND_WAIT)
    r = await _resend(client, flow_url)
    assert r.status_code == 429
    assert len(_codes(mailbox, "many@example.com")) == 1 + MAX_RESENDS


async def test_a_taken_address_looks_the_same_and_gets_its_notice_again(
        client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime, email="owner@example.com")
    clock = use_clock(runtime)
    taken_url = await _sign_up(client, captcha, "owner@example.com")
    free_url = await _sign_up(client, captcha, "free@example.com")
    clock.advance(RESEND_WAIT)
    taken = await _resend(client, taken_url)
    free = await _resend(client, free_url)
    assert taken.status_code == free.status_code == 200

    def same(text: str, flow_url: str, email: str) -> str:
        return text.replace(flow_url.split("flow=")[1], "FLOW").replace(email, "EMAIL")
    assert same(taken.text, taken_url, "owner@example.com") == same(free.text, free_url, "free@example.com")
    to_owner = [m for m in mailbox.messages if m.to == "owner@example.com"]
    assert len(to_owner) == 2 and to_owner[0].subject == to_owner[1].subject
    assert _codes(mailbox, "owner@example.com") == [], "a taken address never gets a code"


async def test_the_flow_is_bound_to_its_browser_and_the_form_to_csrf(
        client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    flow_url = await _sign_up(client, captcha, "bound@example.com")
    clock.advance(RESEND_WAIT)
    async with browser(runtime, captcha, ip="198.51.100.9") as other:
        own = await other.get("/signup")  # (its own CSRF token: the flow's page is not its to see)
        r = await other.post(flow_url.replace("/signup/verify?", "/signup/resend?"),
                             data={"csrf_token": csrf_of(own.text)})
        assert r.status_code in (400, 404, 410) and 'name="verification_code"' not in r.text
    r = await client.post(flow_url.replace("/signup/verify?", "/signup/resend?"), data={"csrf_token": "x"})
    assert r.status_code == 403
    assert len(_codes(mailbox, "bound@example.com")) == 1


async def test_the_code_mail_says_where_the_account_id_will_be(client: httpx.AsyncClient, captcha: CaptchaAnswers,
                                                               mailbox: DevMailbox) -> None:
    await _sign_up(client, captcha, "where@example.com")
    mail = next(m for m in mailbox.messages if m.to == "where@example.com")
    assert "12-digit account ID is shown on the console home page" in mail.body
