"""Guessing budgets through the console pages (issue 7 items 3-5): one budget per account however it is
named, counts forgotten after the window on every backend, spraying an account, and one-time codes counted
per principal across flows, slowed and then refused (the right code too) until the refusal has passed."""

from __future__ import annotations

import re

import httpx
import pyotp

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    USER_PASSWORD,
    Clock,
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    post_step,
    root_password,
    start_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.core import totp
from vestibule.core.throttle import CODE_REFUSAL_SECONDS, RULES, WINDOW_SECONDS, Scope, ThrottleKey
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent, MfaDevice
from vestibule.web.i18n import Translator

t = Translator("en")
WRONG = "wrong password 0"
CODES = RULES[Scope.CODES]


def _wait(page: str) -> int:
    match = re.search(r"Wait (\d+) seconds", error_of(page))
    assert match, f"no wait message in {error_of(page)!r}"
    return int(match.group(1))


async def _failures(runtime: Runtime, account_id: str, method: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        return [e for e in await uow.audit.for_account(account_id)
                if e.event == "ConsoleLogin" and e.result == "Failure" and e.method == method]


async def test_alias_and_account_id_share_one_budget(runtime: Runtime, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    async with browser(runtime, captcha, ip="192.0.2.1") as by_alias:
        for _ in range(3):
            r = await iam_password(by_alias, "acme", "alice", WRONG)
            assert error_of(r.text) == t("signin.invalid_credentials")
    async with browser(runtime, captcha, ip="198.51.100.2") as by_id:
        page = await by_id.get(f"/{account_id}/console")
        assert 'name="captcha"' not in page.text, "three failures of one user do not raise the account's risk"
        before = runtime.deps.hasher.verifications
        r = await iam_password(by_id, account_id, "alice", USER_PASSWORD)
        assert r.status_code == 200 and error_of(r.text) == t("captcha.required"), "the alias's failures count"
        assert runtime.deps.hasher.verifications == before
        page = await by_id.get(f"/{account_id}/console")
        r = await by_id.post(f"/{account_id}/console", data={"csrf_token": csrf_of(page.text), "username": "ALICE",
                                                             "password": USER_PASSWORD, "captcha": captcha.latest})
        assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_unknown_accounts_and_aliases_are_throttled_like_known_ones(runtime: Runtime,
                                                                         captcha: CaptchaAnswers) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    answers: dict[str, list[tuple[int, str]]] = {}
    for n, account in enumerate(("acme", "no-such-alias", "999988887777")):
        async with browser(runtime, captcha, ip=f"192.0.2.{10 + n}") as attacker:
            seen = []
            for _ in range(4):
                r = await iam_password(attacker, account, "alice" if account == "acme" else "bob", WRONG)
                seen.append((r.status_code, error_of(r.text)))
            answers[account] = seen
    assert answers["acme"] == answers["no-such-alias"] == answers["999988887777"] == [
        (200, t("signin.invalid_credentials"))] * 3 + [(200, t("captcha.required"))]


async def test_failures_are_forgotten_after_the_window(client: httpx.AsyncClient, runtime: Runtime,
                                                       captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    """On every backend (the database's counters were never forgotten: an owner was asked forever)."""
    clock = use_clock(runtime)
    await make_account(runtime)
    for _ in range(3):
        _flow, r = await root_password(client, password=WRONG)
        assert error_of(r.text) == t("signin.invalid_credentials")
    flow_url, _ = await root_password(client, password=WRONG, captcha="")
    assert 'name="captcha"' in (await client.get(flow_url)).text
    clock.advance(WINDOW_SECONDS + 1)
    flow_url = await start_root(client)  # (the old flow has expired meanwhile)
    page = await client.get(flow_url)
    assert 'name="captcha"' not in page.text, "an hour after the last failure the count is forgotten"
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": ROOT_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == flow_url
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_spraying_an_account_asks_all_its_users_for_a_captcha(runtime: Runtime,
                                                                   captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "carol")
    for n in range(10):  # ten users, one guess each, each from its own address
        async with browser(runtime, captcha, ip=f"203.0.113.{100 + n}") as attacker:
            r = await iam_password(attacker, "acme" if n % 2 else account_id, f"user{n}", WRONG)
            assert error_of(r.text) == t("signin.invalid_credentials")
    async with browser(runtime, captcha, ip="198.51.100.50") as owner:
        page = await owner.get("/acme/console")
        assert 'name="captcha"' in page.text, "the account's risk is raised for every user"
        r = await iam_password(owner, "acme", "carol", USER_PASSWORD)
        assert error_of(r.text) == t("captcha.required")
        page = await owner.get("/acme/console")
        r = await owner.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "carol",
                                                    "password": USER_PASSWORD, "captcha": captcha.latest})
        assert r.status_code == 303


async def test_a_success_clears_the_user_and_takes_back_its_attempt_elsewhere(runtime: Runtime,
                                                                             captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    alice = ThrottleKey(Scope.PRINCIPAL, f"user:{account_id}:alice")
    address, acct = ThrottleKey(Scope.CLIENT, "192.0.2.77"), ThrottleKey(Scope.ACCOUNT, account_id)
    async with browser(runtime, captcha, ip="192.0.2.77") as user:
        for _ in range(2):
            await iam_password(user, "acme", "alice", WRONG)
        states = await runtime.deps.throttle.states([alice, address, acct], runtime.deps.clock())
        assert [s.failures for s in states] == [2, 2, 2]
        r = await iam_password(user, "acme", "alice", USER_PASSWORD)
        assert r.status_code == 303
    states = await runtime.deps.throttle.states([alice, address, acct], runtime.deps.clock())
    assert [s.failures for s in states] == [0, 2, 2], "signing in as oneself does not wash out other failures"


async def _device(runtime: Runtime, account_id: str, user_id: str) -> pyotp.TOTP:
    secret = totp.new_secret()
    serial = f"arn:aws:iam::{account_id}:mfa/phone"
    now = runtime.deps.clock()
    async with runtime.deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=f"user:{user_id}", name="phone",
                                    serial=serial, secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=now, last_used_step=None, created_at=now))
    return pyotp.TOTP(secret)


def _wrong(code: pyotp.TOTP, clock: Clock) -> str:
    valid = {code.at(clock.now + k * 30) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


async def test_mfa_failures_count_across_flows_then_even_the_right_code_waits(client: httpx.AsyncClient,
                                                                             runtime: Runtime) -> None:
    """Five wrong codes end a flow; the principal's count goes on in the next flows: slowed from the fifth,
    refused from the tenth for an hour, the right code included; then it works and clears the count."""
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    code = await _device(runtime, account_id, user_id)

    async def mfa_flow() -> str:
        r = await iam_password(client, "acme", "alice", USER_PASSWORD)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
        return str(r.headers["location"])

    flow_url = await mfa_flow()
    for failures in range(10):
        clock.advance(CODES.delay(failures))  # each guess as early as the throttle admits it
        if failures and failures % 5 == 0:
            flow_url = await mfa_flow()
        r = await post_step(client, flow_url, "mfa", mfa_code=_wrong(code, clock))
        expected = 410 if failures % 5 == 4 else 200  # the fifth failure ends the flow
        assert r.status_code == expected, (failures, r.status_code, error_of(r.text))
    assert len(await _failures(runtime, account_id, "mfa")) == 10

    flow_url = await mfa_flow()
    r = await post_step(client, flow_url, "mfa", mfa_code=code.at(clock.now))
    assert r.status_code == 429, "ten in a row: refused, the right code too"
    assert CODE_REFUSAL_SECONDS - 5 <= _wait(r.text) <= CODE_REFUSAL_SECONDS
    assert (await client.get("/console")).status_code == 303
    assert len(await _failures(runtime, account_id, "mfa")) == 10, "a refusal checks nothing"

    clock.advance(CODE_REFUSAL_SECONDS + 1)
    flow_url = await mfa_flow()
    r = await post_step(client, flow_url, "mfa", mfa_code=code.at(clock.now))
    assert r.status_code == 303 and r.headers["location"] == "/console"
    states = await runtime.deps.throttle.states([ThrottleKey(Scope.CODES, f"user:{user_id}")], clock.now)
    assert states[0].failures == 0, "a right code clears the count"


async def test_mailed_code_failures_count_across_flows(client: httpx.AsyncClient, runtime: Runtime,
                                                       mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    failures = 0
    while failures < 10:
        flow_url, r = await root_password(client)
        assert r.status_code == 303 and r.headers["location"] == flow_url
        good = last_code(mailbox, ROOT_EMAIL)
        for _ in range(5):
            clock.advance(CODES.delay(failures))
            r = await post_step(client, flow_url, "email_code", verification_code=f"{(int(good) + 1) % 10**6:06d}")
            assert r.status_code in (200, 410), (failures, r.status_code, error_of(r.text))
            failures += 1
    assert len(await _failures(runtime, account_id, "email_code")) == 10
    flow_url, _ = await root_password(client)
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code == 429, "ten in a row over two flows: the principal's codes are refused for a while"
