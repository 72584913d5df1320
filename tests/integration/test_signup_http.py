"""Public sign-up end to end: CAPTCHA, mailed code, a 12-digit account, straight to the console;
taken addresses get no code; sign-up can be turned off."""

from __future__ import annotations

import re

import httpx
import pytest

from http_steps import error_of, make_account
from support import CHEAP_HASH, CaptchaAnswers, csrf_of, last_code
from vestibule.app import create_app
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.web.i18n import Translator

t = Translator("en")
PASSWORD = "signup password 1"


async def _sign_up(client: httpx.AsyncClient, captcha: CaptchaAnswers, email: str, name: str = "Team",
                   password: str = PASSWORD, confirm: str | None = None, answer: str | None = None) -> httpx.Response:
    page = await client.get("/signup")
    assert page.status_code == 200 and 'name="captcha"' in page.text
    return await client.post("/signup", data={
        "csrf_token": csrf_of(page.text), "email": email, "account_name": name, "password": password,
        "confirm_password": password if confirm is None else confirm,
        "captcha": captcha.latest if answer is None else answer})


async def _verify(client: httpx.AsyncClient, flow_url: str, code: str) -> httpx.Response:
    page = await client.get(flow_url)
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "verification_code": code})


async def test_sign_up_end_to_end(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers,
                                  mailbox: DevMailbox) -> None:
    r = await _sign_up(client, captcha, "New.Owner@Example.com", "My team")
    assert r.status_code == 303 and r.headers["location"].startswith("/signup/verify?flow=")
    flow_url = r.headers["location"]
    page = await client.get(flow_url)
    assert 'name="verification_code"' in page.text and "new.owner@example.com" in page.text
    code = last_code(mailbox, "new.owner@example.com")
    async with runtime.deps.store.unit() as uow:
        assert await uow.accounts.by_email("new.owner@example.com") is None, "no account before the code"
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    r = await _verify(client, flow_url, wrong)
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code")
    r = await _verify(client, flow_url, code)
    assert r.status_code == 303 and r.headers["location"].startswith("/console")
    home = await client.get("/console")
    assert home.status_code == 200
    account_id = re.search(r'id="account-id">(\d{4})-(\d{4})-(\d{4})<', home.text)
    assert account_id, "the console shows a 12-digit account ID"
    digits = "".join(account_id.groups())
    assert f"arn:aws:iam::{digits}:root" in home.text and "My team" in home.text
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.by_email("new.owner@example.com")
        assert account is not None and account.id == digits
        assert account.root_password_hash != PASSWORD and account.root_password_hash.startswith("$argon2id$")
    # the flow is finished and cannot create a second account
    r = await client.post(flow_url, data={"csrf_token": csrf_of(home.text), "verification_code": code})
    assert r.status_code in {400, 410}
    # the new root user can sign in again (this browser is now known: no code)
    await client.post("/signout", data={"csrf_token": csrf_of(home.text)})
    page = await client.get("/")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                     "email": "new.owner@example.com"})
    flow = r.headers["location"]
    page = await client.get(flow)
    r = await client.post(flow, data={"csrf_token": csrf_of(page.text), "step": "password", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_sign_up_checks(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers,
                              mailbox: DevMailbox) -> None:
    r = await _sign_up(client, captcha, "a@example.com", answer="")
    assert r.status_code != 303 and error_of(r.text) == t("captcha.invalid")
    r = await _sign_up(client, captcha, "a@example.com", answer="XXXXXX")
    assert r.status_code != 303 and error_of(r.text) == t("captcha.invalid")
    r = await _sign_up(client, captcha, "not an email")
    assert r.status_code == 400 and error_of(r.text) == t("input.invalid.email")
    r = await _sign_up(client, captcha, "a@example.com", confirm="different password 1")
    assert r.status_code != 303 and error_of(r.text) == t("password.mismatch")
    r = await _sign_up(client, captcha, "a@example.com", password="short", confirm="short")
    assert r.status_code == 400 and t("password.too_short") in error_of(r.text)
    r = await _sign_up(client, captcha, "a@example.com", name="")
    assert r.status_code == 400
    assert mailbox.messages == []


async def test_sign_up_with_a_used_email_sends_no_code(client: httpx.AsyncClient, runtime: Runtime,
                                                       captcha: CaptchaAnswers, mailbox: DevMailbox,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    await make_account(runtime, email="taken@example.com")
    from vestibule.services import signup

    monkeypatch.setattr(signup, "new_numeric_code", lambda: "424242")
    r = await _sign_up(client, captcha, "TAKEN@example.com")
    assert r.status_code == 303, "the page does not tell that the address is taken"
    flow_url = r.headers["location"]
    assert len(mailbox.messages) == 1 and mailbox.messages[0].to == "taken@example.com"
    assert not re.search(r"\b\d{6}\b", mailbox.messages[0].body), "no code in the mail"
    # even the code the flow was made with does not create a second account
    r = await _verify(client, flow_url, "424242")
    assert r.status_code != 303
    assert (await client.get("/console")).status_code == 303
    async with runtime.deps.store.unit() as uow:
        from sqlalchemy import func, select

        from vestibule.store.models import Account

        count = (await uow.db.execute(select(func.count()).select_from(Account))).scalar_one()
    assert count == 1


async def test_plus_tag_is_a_different_address(client: httpx.AsyncClient, runtime: Runtime,
                                               captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime, email="taken@example.com")
    r = await _sign_up(client, captcha, "taken+team@example.com")
    flow_url = r.headers["location"]
    r = await _verify(client, flow_url, last_code(mailbox, "taken+team@example.com"))
    assert r.status_code == 303


async def test_sign_up_flow_from_another_browser_or_expired(client: httpx.AsyncClient, runtime: Runtime,
                                                            captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    from http_steps import browser, use_clock

    clock = use_clock(runtime)
    r = await _sign_up(client, captcha, "b@example.com")
    flow_url = r.headers["location"]
    code = last_code(mailbox, "b@example.com")
    async with browser(runtime, CaptchaAnswers()) as other:
        r = await other.get(flow_url)
        assert r.status_code == 400 and error_of(r.text) == t("flow.wrong_browser")
        page = await other.get("/")
        r = await other.post(flow_url, data={"csrf_token": csrf_of(page.text), "verification_code": code})
        assert r.status_code == 400
    clock.advance(31 * 60)
    r = await client.get(flow_url)
    assert r.status_code == 410
    page = await client.get("/")
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "verification_code": code})
    assert r.status_code == 410
    async with runtime.deps.store.unit() as uow:
        assert await uow.accounts.by_email("b@example.com") is None


async def test_sign_up_disabled(settings: Settings, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    closed = settings.with_overrides(signup_enabled=False)
    rt = await build(closed, run_migrations=False, mailer=mailbox, hasher=PasswordHasher(CHEAP_HASH))
    try:
        app = create_app(rt, captcha_text_source=captcha, close_runtime=False)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            page = await client.get("/signup")
            assert page.status_code == 404
            assert t("signup.closed") in page.text and 'name="email"' not in page.text
            home = await client.get("/")
            r = await client.post("/signup", data={
                "csrf_token": csrf_of(home.text), "email": "c@example.com", "account_name": "c",
                "password": PASSWORD, "confirm_password": PASSWORD, "captcha": "ABCDEF"})
            assert r.status_code == 404
        assert mailbox.messages == []
        async with rt.deps.store.unit() as uow:
            assert await uow.accounts.by_email("c@example.com") is None
    finally:
        await rt.close()
