"""A day of guessing, measured through the pages: a patient attacker (many addresses, every guess made the
moment the throttle admits it, moving the server's clock instead of waiting) against one IAM user, one
account and one MFA device. The guesses checked, counted in the audit log, are the daily budgets that
docs/security.md gives, and `core.throttle.guesses_per_day` computes from the constants."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pyotp

from http_steps import USER_PASSWORD, Clock, error_of, make_account, make_user, use_clock
from support import CaptchaAnswers, csrf_of
from vestibule.app import create_app
from vestibule.core import totp
from vestibule.core.throttle import RULES, WINDOW_SECONDS, Scope, guesses_per_day
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.store.models import MfaDevice
from vestibule.web.i18n import Translator

t = Translator("en")
DAY = 86400
WRONG = "wrong password 0"


class Attacker:
    """Browsers from many addresses against one app; each guess from the next address."""

    def __init__(self, runtime: Runtime, captcha: CaptchaAnswers, clients: list[httpx.AsyncClient]) -> None:
        self.runtime, self.captcha, self.clients, self.turn = runtime, captcha, clients, 0

    def next(self) -> httpx.AsyncClient:
        self.turn += 1
        return self.clients[self.turn % len(self.clients)]


@asynccontextmanager
async def attacker(runtime: Runtime, captcha: CaptchaAnswers, addresses: int = 200) -> AsyncIterator[Attacker]:
    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.{n // 250}.{n % 250 + 1}",
                                                                                 50000)),
                                 base_url="http://testserver", follow_redirects=False) for n in range(addresses)]
    try:
        yield Attacker(runtime, captcha, clients)
    finally:
        for c in clients:
            await c.aclose()


def _wait(page: str) -> int | None:
    match = re.search(r"Wait (\d+) seconds", error_of(page))
    return int(match.group(1)) if match else None


async def _password_day(who: Attacker, clock: Clock, usernames: list[str], solve: bool) -> int:
    """Guesses checked in a day; the i-th guess against usernames[i % len]."""
    start, checked, last_failure = clock.now, 0, clock.now
    while clock.now < start + DAY:
        browser = who.next()
        page = await browser.get("/acme/console")
        data = {"csrf_token": csrf_of(page.text), "username": usernames[checked % len(usernames)], "password": WRONG}
        r = await browser.post("/acme/console", data=data)
        if solve and error_of(r.text) == t("captcha.required"):  # the answer page shows a fresh challenge
            r = await browser.post("/acme/console", data={**data, "csrf_token": csrf_of(r.text),
                                                          "captcha": who.captcha.latest})
        error = error_of(r.text)
        if error == t("signin.invalid_credentials"):
            checked += 1
            last_failure = clock.now
        elif (wait := _wait(r.text)) is not None:
            clock.advance(wait)
        else:
            assert error == t("captcha.required") and not solve, error
            clock.advance(last_failure + WINDOW_SECONDS + 1 - clock.now)  # until the count is forgotten
    return checked


async def _checked(runtime: Runtime, account_id: str, method: str) -> int:
    async with runtime.deps.store.unit() as uow:
        return sum(1 for e in await uow.audit.for_account(account_id, limit=100_000)
                   if e.event == "ConsoleLogin" and e.result == "Failure" and e.method == method)


async def test_a_day_of_password_guesses_against_one_user(runtime: Runtime, captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    async with attacker(runtime, captcha) as who:
        without = await _password_day(who, clock, ["alice"], solve=False)
        clock.advance(DAY)
        with_captcha = await _password_day(who, clock, ["alice"], solve=True)
    expected = (guesses_per_day([RULES[Scope.PRINCIPAL]], captcha_solved=False),
                guesses_per_day([RULES[Scope.PRINCIPAL]], captcha_solved=True))
    assert (without, with_captcha) == expected == (72, 300)
    assert await _checked(runtime, account_id, "password") == 372


async def test_a_day_of_spraying_one_account_without_captchas(runtime: Runtime, captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    async with attacker(runtime, captcha) as who:
        checked = await _password_day(who, clock, [f"user{n}" for n in range(500)], solve=False)
    assert checked == guesses_per_day([RULES[Scope.ACCOUNT]], captcha_solved=False) == 240
    assert await _checked(runtime, account_id, "password") == 240


async def test_a_day_of_mfa_guesses_against_one_device(runtime: Runtime, captcha: CaptchaAnswers) -> None:
    """The attacker knows the password; every five wrong codes end a flow and it signs in again."""
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    secret = totp.new_secret()
    serial = f"arn:aws:iam::{account_id}:mfa/phone"
    async with runtime.deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=f"user:{user_id}", name="phone",
                                    serial=serial, secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=clock.now, last_used_step=None, created_at=clock.now))
    code = pyotp.TOTP(secret)
    start, checked, flow_url = clock.now, 0, ""
    async with attacker(runtime, captcha, addresses=1) as who:
        browser = who.next()
        while clock.now < start + DAY:
            if not flow_url:
                page = await browser.get("/acme/console")
                r = await browser.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                              "password": USER_PASSWORD})
                assert r.status_code == 303, error_of(r.text)
                flow_url = r.headers["location"]
            page = await browser.get(flow_url)
            if page.status_code == 410:
                flow_url = ""
                continue
            valid = {code.at(clock.now + k * 30) for k in (-1, 0, 1)}
            guess = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
            r = await browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "mfa", "mfa_code": guess})
            if r.status_code == 429:
                wait = _wait(r.text)
                assert wait is not None
                clock.advance(wait)
                flow_url = ""  # (a long wait outlives the flow)
            else:
                assert r.status_code in (200, 410), r.status_code
                checked += 1
    assert checked == guesses_per_day([RULES[Scope.CODES], RULES[Scope.DEVICE]], captcha_solved=False) == 33
    assert await _checked(runtime, account_id, "mfa") == 33
