"""Escalating throttling through the pages: a CAPTCHA after 3 failures, then growing delays
(429, 'Wait N seconds'), and never a permanent lockout."""

from __future__ import annotations

import re

import httpx

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    Clock,
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    sign_in_root,
    sign_out,
    start_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")
WRONG = "wrong password 0"


async def _attempt(client: httpx.AsyncClient, flow_url: str, password: str,
                   captcha: CaptchaAnswers | str | None) -> httpx.Response:
    """Open the password page (which shows a fresh challenge when risky), then post; a CaptchaAnswers
    solves the challenge just shown, a string is typed as it is."""
    page = await client.get(flow_url)
    data = {"csrf_token": csrf_of(page.text), "step": "password", "password": password}
    if isinstance(captcha, CaptchaAnswers):
        data["captcha"] = captcha.latest
    elif captcha is not None:
        data["captcha"] = captcha
    return await client.post(flow_url, data=data)


async def _fail(client: httpx.AsyncClient, flow_url: str, captcha: CaptchaAnswers, times: int) -> None:
    """Wrong passwords, solving the CAPTCHA whenever the page asks for one."""
    for _ in range(times):
        page = await client.get(flow_url)
        data = {"csrf_token": csrf_of(page.text), "step": "password", "password": WRONG}
        if 'name="captcha"' in page.text:
            data["captcha"] = captcha.latest
        r = await client.post(flow_url, data=data)
        assert r.status_code == 200 and error_of(r.text) == t("signin.invalid_credentials"), error_of(r.text)


def _wait_seconds(page: str) -> int:
    match = re.search(r"Wait (\d+) seconds", error_of(page))
    assert match, f"no wait message in {error_of(page)!r}"
    return int(match.group(1))


async def test_captcha_after_three_failures(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers,
                                            mailbox: DevMailbox) -> None:
    await make_account(runtime)
    flow_url = await start_root(client)
    page = await client.get(flow_url)
    assert 'name="captcha"' not in page.text
    await _fail(client, flow_url, captcha, 2)
    assert 'name="captcha"' not in (await client.get(flow_url)).text
    await _fail(client, flow_url, captcha, 1)
    page = await client.get(flow_url)
    assert 'name="captcha"' in page.text and 'src="/captcha/image"' in page.text and "/captcha/audio" in page.text

    before = runtime.deps.hasher.verifications
    r = await _attempt(client, flow_url, ROOT_PASSWORD, None)
    assert r.status_code == 200 and error_of(r.text) == t("captcha.required")
    assert 'name="captcha"' in r.text
    r = await _attempt(client, flow_url, ROOT_PASSWORD, "WRONG1")
    assert r.status_code == 200 and error_of(r.text) == t("captcha.invalid")
    assert runtime.deps.hasher.verifications == before, "no password is checked without a solved CAPTCHA"
    assert (await client.get("/console")).status_code == 303

    image = await client.get("/captcha/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": ROOT_PASSWORD, "captcha": captcha.latest.lower()})
    assert r.status_code == 303 and r.headers["location"] == flow_url
    # a solved CAPTCHA and the right password lead on to the mailed code, then in
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": last_code(mailbox, ROOT_EMAIL)})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_captcha_answer_is_single_use(client: httpx.AsyncClient, runtime: Runtime,
                                            captcha: CaptchaAnswers) -> None:
    await make_account(runtime)
    flow_url = await start_root(client)
    await _fail(client, flow_url, captcha, 3)
    page = await client.get(flow_url)
    answer = captcha.latest
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": WRONG, "captcha": answer})
    assert error_of(r.text) == t("signin.invalid_credentials")
    # the same answer again, without fetching a new challenge
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": ROOT_PASSWORD, "captcha": answer})
    if captcha.latest != answer:  # (a new random challenge could repeat the text, 1 in 29**6)
        assert error_of(r.text) == t("captcha.invalid")
        assert (await client.get("/console")).status_code == 303


async def test_captcha_after_failures_on_iam_form(client: httpx.AsyncClient, runtime: Runtime,
                                                  captcha: CaptchaAnswers) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    for _ in range(3):
        r = await iam_password(client, "acme", "alice", WRONG)
        assert error_of(r.text) == t("signin.invalid_credentials")
    # the form alone does not know the user (the address and the account have room): the answer asks for it
    r = await iam_password(client, "acme", "alice", "user password 1")
    assert r.status_code == 200 and error_of(r.text) == t("captcha.required") and 'name="captcha"' in r.text
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(r.text), "username": "alice",
                                                 "password": "user password 1", "captcha": captcha.latest})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_delays_after_six_failures_then_attempts_are_allowed_again(
        client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    flow_url = await start_root(client)
    await _fail(client, flow_url, captcha, 6)

    before = runtime.deps.hasher.verifications
    r = await _attempt(client, flow_url, ROOT_PASSWORD, captcha)
    assert r.status_code == 429
    first_wait = _wait_seconds(r.text)
    assert first_wait >= 1
    assert runtime.deps.hasher.verifications == before, "no password is checked while waiting"

    clock.advance(first_wait + 1)
    await _fail(client, flow_url, captcha, 1)  # the 7th failure: a longer delay
    r = await _attempt(client, flow_url, ROOT_PASSWORD, captcha)
    assert r.status_code == 429
    second_wait = _wait_seconds(r.text)
    assert second_wait > first_wait

    clock.advance(second_wait + 1)
    r = await _attempt(client, flow_url, ROOT_PASSWORD, captcha)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": last_code(mailbox, ROOT_EMAIL)})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_attacker_cannot_lock_the_owner_out(runtime: Runtime, captcha: CaptchaAnswers,
                                                  mailbox: DevMailbox) -> None:
    clock: Clock = use_clock(runtime)
    await make_account(runtime)
    async with browser(runtime, captcha, ip="192.0.2.66") as attacker:
        flow_url = await start_root(attacker)
        for _ in range(15):
            page = await attacker.get(flow_url)
            data = {"csrf_token": csrf_of(page.text), "step": "password", "password": WRONG}
            if 'name="captcha"' in page.text:
                data["captcha"] = captcha.latest
            r = await attacker.post(flow_url, data=data)
            if r.status_code == 429:
                clock.advance(_wait_seconds(r.text) + 1)
    async with browser(runtime, captcha, ip="198.51.100.99") as owner:
        flow_url = await start_root(owner)
        page = await owner.get(flow_url)
        assert 'name="captcha"' in page.text, "failures on the account raise risk for every address"
        clock.advance(301)  # the longest delay is 300 s
        page = await owner.get(flow_url)
        r = await owner.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                             "password": ROOT_PASSWORD, "captcha": captcha.latest})
        assert r.status_code == 303 and r.headers["location"] == flow_url
        page = await owner.get(flow_url)
        r = await owner.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                             "verification_code": last_code(mailbox, ROOT_EMAIL)})
        assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_unknown_emails_are_throttled_like_known_ones(client: httpx.AsyncClient, runtime: Runtime,
                                                            captcha: CaptchaAnswers) -> None:
    await make_account(runtime)
    flow_url = await start_root(client, "nobody@example.com")
    await _fail(client, flow_url, captcha, 3)
    page = await client.get(flow_url)
    assert 'name="captcha"' in page.text


async def test_iam_sign_in_waits_after_six_failures(client: httpx.AsyncClient, runtime: Runtime,
                                                    captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    for _ in range(6):
        page = await client.get("/acme/console")
        data = {"csrf_token": csrf_of(page.text), "username": "alice", "password": WRONG}
        if 'name="captcha"' in page.text:
            data["captcha"] = captcha.latest
        r = await client.post("/acme/console", data=data)
        if error_of(r.text) == t("captcha.required"):  # asked once the user's count reaches three
            data.update(csrf_token=csrf_of(r.text), captcha=captcha.latest)
            r = await client.post("/acme/console", data=data)
        assert error_of(r.text) == t("signin.invalid_credentials")
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": "user password 1", "captcha": captcha.latest})
    assert r.status_code == 429
    wait = _wait_seconds(r.text)
    clock.advance(wait + 1)
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": "user password 1", "captcha": captcha.latest})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_raised_risk_asks_a_known_browser_for_the_mailed_code(client: httpx.AsyncClient, runtime: Runtime,
                                                                    captcha: CaptchaAnswers,
                                                                    mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)  # this browser is now known
    await sign_out(client)
    flow_url = await start_root(client)
    await _fail(client, flow_url, captcha, 3)
    sent = len(mailbox.messages)
    r = await _attempt(client, flow_url, ROOT_PASSWORD, captcha)
    assert r.status_code == 303 and r.headers["location"] == flow_url, "not straight to the console"
    assert len(mailbox.messages) == sent + 1
    page = await client.get(flow_url)
    assert 'name="verification_code"' in page.text
    assert (await client.get("/console")).status_code == 303
