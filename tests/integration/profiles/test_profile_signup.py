"""Personal profile sign-up through the pages: email, name, the mailed code, password, then My details signed
in; every failure (wrong, expired and resent codes, the resend wait and budget, weak and mismatched passwords),
the CAPTCHA once the mail budget of an address is spent, and no enumeration (an address with a profile goes the
same way, and only its mailbox is told)."""

from __future__ import annotations

import re

import httpx
from markupsafe import escape
from sqlalchemy import select

from http_steps import DEFAULT_IP, browser, error_of, make_account, notice_of, use_clock
from profile_steps import (
    PROFILE_COOKIE,
    PROFILE_EMAIL,
    PROFILE_NAME,
    PROFILE_PASSWORD,
    make_profile,
    sign_up_profile,
    start_signup,
    step,
    step_with_captcha,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, RESEND_WAIT
from vestibule.core.throttle import CAPTCHA_AFTER
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent, Profile
from vestibule.web.i18n import Translator

t = Translator("en")
zh = Translator("zh-TW")


def _mails_to(mailbox: DevMailbox, to: str) -> list[str]:
    return [m.body for m in mailbox.messages if m.to == to]


def _codes(mailbox: DevMailbox, to: str) -> list[str]:
    found = (re.search(r"\b(\d{6})\b", body) for body in _mails_to(mailbox, to))
    return [m.group(1) for m in found if m]


async def _profiles(runtime: Runtime) -> list[Profile]:
    async with runtime.deps.store.unit() as uow:
        return list((await uow.db.execute(select(Profile))).scalars().all())


async def _events(runtime: Runtime, name: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        return list((await uow.db.execute(select(AuditEvent).where(AuditEvent.event == name))).scalars().all())


async def _to_code_step(client: httpx.AsyncClient, email: str = PROFILE_EMAIL) -> str:
    flow_url = await start_signup(client, email)
    r = await step(client, flow_url, "name", name=PROFILE_NAME)
    assert r.status_code == 303 and r.headers["location"] == flow_url, r.text
    return flow_url


async def test_sign_up_lands_signed_in_on_my_details(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: DevMailbox) -> None:
    page = await client.get("/profile/signup")
    assert page.status_code == 200 and 'for="email"' in page.text and 'href="/"' in page.text
    assert escape(t("profile.separate_identity")) in page.text
    flow_url = await start_signup(client, "Maker@Example.com")
    name_page = await client.get(flow_url)
    assert 'for="name"' in name_page.text and "maker@example.com" in name_page.text
    assert 'name="captcha"' not in name_page.text  # no risk yet
    assert _mails_to(mailbox, "maker@example.com") == []  # nothing mailed before the name
    r = await step(client, flow_url, "name", name="  Mei   Maker ")
    assert r.status_code == 303
    verify_page = await client.get(flow_url)
    assert t("profile.verify_prompt", email="maker@example.com") in verify_page.text
    (mail,) = [m for m in mailbox.messages if m.to == "maker@example.com"]
    assert mail.subject == "Verify your email address for your Vestibule personal profile"
    r = await step(client, flow_url, "verify", verification_code=last_code(mailbox, "maker@example.com"))
    assert r.status_code == 303
    password_page = await client.get(flow_url)
    assert 'for="password"' in password_page.text and 'for="confirm_password"' in password_page.text
    r = await step(client, flow_url, "password", password=PROFILE_PASSWORD, confirm_password=PROFILE_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=welcome"
    assert any(h.startswith(f"{PROFILE_COOKIE}=") and "HttpOnly" in h for h in r.headers.get_list("set-cookie"))
    home = await client.get(r.headers["location"])
    assert home.status_code == 200 and notice_of(home.text) == t("profile.notice_welcome")
    assert "Mei Maker" in home.text and "maker@example.com" in home.text
    (profile,) = await _profiles(runtime)
    assert (profile.email, profile.name, profile.nickname) == ("maker@example.com", "Mei Maker", None)
    assert re.fullmatch(r"p[a-z2-7]{20}", profile.id) and profile.password_hash.startswith("$argon2id$")
    (created,) = await _events(runtime, "ProfileCreated")
    (login,) = await _events(runtime, "ProfileLogin")
    assert created.principal == login.principal == f"profile/{profile.id}"
    assert (created.account_id, login.account_id, login.result, login.method) == (None, None, "Success", "signup")
    # the flow is spent, and the sign-up pages send a signed-in profile home
    assert (await client.get(flow_url)).status_code >= 400  # (the browser got a new ID at sign-in, too)
    assert (await client.get("/profile/signup")).headers["location"] == "/profile/details"


async def test_wrong_code_then_the_flow_runs_out(client: httpx.AsyncClient, mailbox: DevMailbox,
                                                 runtime: Runtime) -> None:
    flow_url = await _to_code_step(client)
    right = last_code(mailbox, PROFILE_EMAIL)
    wrong = "000000" if right != "000000" else "111111"
    r = await step(client, flow_url, "verify", verification_code=wrong)
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code")
    assert len(await _events(runtime, "ProfileSignUp")) == 1
    for _ in range(3):
        await step(client, flow_url, "verify", verification_code=wrong)
    r = await step(client, flow_url, "verify", verification_code=wrong)  # the fifth: the flow is used up
    r = await step(client, flow_url, "verify", verification_code=right)
    assert r.status_code == 410 and await _profiles(runtime) == []


async def test_expired_code_is_refused_and_a_new_one_works(client: httpx.AsyncClient, runtime: Runtime,
                                                           mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    flow_url = await _to_code_step(client)
    old = last_code(mailbox, PROFILE_EMAIL)
    clock.advance(EMAIL_CODE_LIFETIME + 1)
    r = await step(client, flow_url, "verify", verification_code=old)
    assert r.status_code == 400 and error_of(r.text) == t("profile.code_expired")
    r = await step(client, flow_url, "resend")
    assert r.status_code == 200 and notice_of(r.text) == t("profile.code_resent")
    new = last_code(mailbox, PROFILE_EMAIL)
    r = await step(client, flow_url, "verify", verification_code=new)
    assert r.status_code == 303 and "password" in (await client.get(flow_url)).text


async def test_resend_waits_then_replaces_the_code_a_few_times(client: httpx.AsyncClient, runtime: Runtime,
                                                               mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    flow_url = await _to_code_step(client)
    page = await client.get(flow_url)
    assert t("profile.resend_wait", seconds=RESEND_WAIT) in page.text and 'id="resend-form"' not in page.text
    r = await step(client, flow_url, "resend")  # too soon: refused, nothing mailed
    assert r.status_code == 429 and error_of(r.text) == t("throttle.wait", seconds=RESEND_WAIT)
    assert len(_codes(mailbox, PROFILE_EMAIL)) == 1
    for _ in range(MAX_RESENDS):
        clock.advance(RESEND_WAIT)
        assert 'id="resend-form"' in (await client.get(flow_url)).text
        r = await step(client, flow_url, "resend")
        assert r.status_code == 200 and notice_of(r.text) == t("profile.code_resent")
    codes = _codes(mailbox, PROFILE_EMAIL)
    assert len(codes) == 1 + MAX_RESENDS
    clock.advance(RESEND_WAIT)
    r = await step(client, flow_url, "resend")  # the flow's budget is spent
    assert r.status_code == 429 and len(_codes(mailbox, PROFILE_EMAIL)) == 1 + MAX_RESENDS
    assert len(await _events(runtime, "ProfileSignUpCodeResent")) == MAX_RESENDS
    if codes[0] != codes[-1]:  # the first code stopped working when a new one was mailed
        r = await step(client, flow_url, "verify", verification_code=codes[0])
        assert r.status_code == 400
    r = await step(client, flow_url, "verify", verification_code=codes[-1])
    assert r.status_code == 303


async def test_an_address_with_a_profile_goes_the_same_way(client: httpx.AsyncClient, runtime: Runtime,
                                                           mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    await make_profile(runtime)
    await make_account(runtime, email="owner@example.com")  # a root user's address is not a profile's
    fresh = await _to_code_step(client, "new@example.com")
    async with browser(runtime, captcha) as other:
        taken = await _to_code_step(other, PROFILE_EMAIL)
        taken_page = (await other.get(taken)).text
    fresh_page = (await client.get(fresh)).text
    assert taken_page.replace(PROFILE_EMAIL, "X").replace(taken.split("=")[1], "F") \
        .replace(csrf_of(taken_page), "C") == fresh_page.replace("new@example.com", "X") \
        .replace(fresh.split("=")[1], "F").replace(csrf_of(fresh_page), "C")
    (notice,) = _mails_to(mailbox, PROFILE_EMAIL)
    assert "already has one" in notice and "http://testserver/profile" in notice
    assert not re.search(r"\b\d{6}\b", notice)
    async with browser(runtime, captcha) as other:  # whatever is typed, no code is right
        r = await step(other, taken, "verify", verification_code="123456")
        assert r.status_code in (400, 404)  # (404: another browser's flow)
    # the root user's address signs up like any new one
    owner = await _to_code_step(client, "owner@example.com")
    assert _codes(mailbox, "owner@example.com")
    r = await step(client, owner, "verify", verification_code=last_code(mailbox, "owner@example.com"))
    assert r.status_code == 303


async def test_weak_and_mismatched_passwords_are_refused(client: httpx.AsyncClient, mailbox: DevMailbox,
                                                         runtime: Runtime) -> None:
    flow_url = await _to_code_step(client)
    await step(client, flow_url, "verify", verification_code=last_code(mailbox, PROFILE_EMAIL))
    r = await step(client, flow_url, "password", password=PROFILE_PASSWORD, confirm_password=PROFILE_PASSWORD + "x")
    assert r.status_code == 400 and error_of(r.text) == t("password.mismatch")
    r = await step(client, flow_url, "password", password="alllowercase1!", confirm_password="alllowercase1!")
    assert r.status_code == 400 and t("password.needs_upper") in error_of(r.text)
    r = await step(client, flow_url, "password", password="Sh0rt!", confirm_password="Sh0rt!")
    assert r.status_code == 400 and t("password.too_short") in error_of(r.text)
    assert await _profiles(runtime) == []
    r = await step(client, flow_url, "password", password=PROFILE_PASSWORD, confirm_password=PROFILE_PASSWORD)
    assert r.status_code == 303 and len(await _profiles(runtime)) == 1


async def test_name_is_required(client: httpx.AsyncClient, mailbox: DevMailbox) -> None:
    flow_url = await start_signup(client)
    r = await step(client, flow_url, "name", name="   ")
    assert r.status_code == 400 and error_of(r.text) == t("profile.name_invalid")
    r = await step(client, flow_url, "name", name="x" * 101)
    assert r.status_code == 400 and mailbox.messages == []
    page = await client.get("/profile/signup")
    r = await client.post("/profile/signup", data={"csrf_token": csrf_of(page.text), "email": "not-an-address"})
    assert r.status_code == 400 and error_of(r.text) == t("input.invalid.email")


async def test_a_captcha_once_an_address_had_a_few_mails(runtime: Runtime, mailbox: DevMailbox,
                                                         captcha: CaptchaAnswers) -> None:
    for n in range(CAPTCHA_AFTER):  # each from another address, so only the mailed address's budget counts
        async with browser(runtime, captcha, ip=f"198.51.100.{n + 1}") as other:
            await _to_code_step(other)
    async with browser(runtime, captcha, ip=DEFAULT_IP) as late:
        flow_url = await start_signup(late)
        page = await late.get(flow_url)
        assert 'name="captcha"' in page.text
        r = await step(late, flow_url, "name", name=PROFILE_NAME)  # no answer: refused, nothing mailed
        assert r.status_code == 400 and error_of(r.text) == t("captcha.required")
        assert len(_codes(mailbox, PROFILE_EMAIL)) == CAPTCHA_AFTER
        r = await step_with_captcha(late, captcha, flow_url, "name", name=PROFILE_NAME)
        assert r.status_code == 303 and len(_codes(mailbox, PROFILE_EMAIL)) == CAPTCHA_AFTER + 1
        await step(late, flow_url, "verify", verification_code=last_code(mailbox, PROFILE_EMAIL))
        page = await late.get(flow_url)  # mailed behind a CAPTCHA: the password step asks one too
        assert 'name="captcha"' in page.text
        r = await step(late, flow_url, "password", password=PROFILE_PASSWORD, confirm_password=PROFILE_PASSWORD)
        assert r.status_code == 400 and error_of(r.text) == t("captcha.required")
        r = await step_with_captcha(late, captcha, flow_url, "password", password=PROFILE_PASSWORD,
                                    confirm_password=PROFILE_PASSWORD)
        assert r.status_code == 303
    async with browser(runtime, captcha, ip="192.0.2.50") as after:  # a profile made: the address's count is clear
        flow_url = await start_signup(after)
        assert 'name="captcha"' not in (await after.get(flow_url)).text


async def test_sign_up_in_traditional_chinese(client: httpx.AsyncClient, mailbox: DevMailbox) -> None:
    page = await client.get("/profile/signup?lang=zh-TW")
    assert zh("profile.signup_title") in page.text and "個人設定檔" in page.text
    flow_url = await start_signup(client)
    await step(client, flow_url, "name", name=PROFILE_NAME)
    (mail,) = [m for m in mailbox.messages if m.to == PROFILE_EMAIL]
    assert mail.subject == "驗證您 Vestibule 個人設定檔的電子郵件地址"
    await sign_up_profile(client, mailbox, email="second@example.com")
