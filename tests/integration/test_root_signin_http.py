"""Root user sign-in through the pages: mailed code for a new browser, known browsers, MFA, replay."""

from __future__ import annotations

import re

import httpx
import pyotp

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    Clock,
    browser,
    error_of,
    make_account,
    post_step,
    root_password,
    sign_in_root,
    sign_out,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")


async def add_totp_device(client: httpx.AsyncClient, clock: Clock, name: str = "phone",
                          password: str = ROOT_PASSWORD) -> str:
    """Add a virtual MFA device from the console (the password confirmed again); returns its secret.
    Moves the clock 30 s."""
    security = await client.get("/console/security")
    assert security.status_code == 200
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text), "password": password})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/mfa/new?flow=")
    enrol_url = r.headers["location"]
    page = await client.get(enrol_url)
    assert page.status_code == 200
    match = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert match, "the secret key is shown"
    secret = match.group(1)
    totp = pyotp.TOTP(secret)
    first = totp.at(clock.now)
    clock.advance(30)
    second = totp.at(clock.now)
    r = await client.post(enrol_url, data={"csrf_token": csrf_of(page.text), "device_name": name,
                                           "mfa_code": first, "mfa_code_2": second})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.added", r.text
    return secret


async def test_new_browser_gets_mailed_code_and_known_browser_skips_it(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    assert (await client.get("/console")).status_code == 303, "no session before the mailed code"
    page = await client.get(flow_url)
    assert 'name="verification_code"' in page.text
    assert len(mailbox.messages) == 1 and mailbox.messages[0].to == ROOT_EMAIL
    assert f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}" in mailbox.messages[0].body
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert (await client.get("/console")).status_code == 200

    assert (await sign_out(client)).status_code == 303
    sent = len(mailbox.messages)
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == "/console", "a known browser skips the code"
    assert len(mailbox.messages) == sent
    assert (await client.get("/console")).status_code == 200

    # The same user from a browser never seen before is asked for a code again.
    async with browser(runtime, CaptchaAnswers()) as other:
        flow_url, r = await root_password(other)
        assert r.headers["location"] == flow_url
        assert len(mailbox.messages) == sent + 1


async def test_mfa_device_replaces_the_mailed_code(client: httpx.AsyncClient, runtime: Runtime,
                                                  mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    secret = await add_totp_device(client, clock)
    await sign_out(client)

    sent = len(mailbox.messages)
    clock.advance(60)
    async with browser(runtime, CaptchaAnswers()) as other:  # a new browser: still MFA, not a mailed code
        flow_url, r = await root_password(other)
        assert r.status_code == 303 and r.headers["location"] == flow_url
        page = await other.get(flow_url)
        assert 'name="mfa_code"' in page.text and 'name="verification_code"' not in page.text
        assert len(mailbox.messages) == sent, "no code is mailed when an MFA device exists"
        good = pyotp.TOTP(secret).at(clock.now)
        r = await post_step(other, flow_url, "mfa", mfa_code=f"{(int(good) + 1) % 1000000:06d}")
        assert r.status_code == 200 and error_of(r.text) == t("signin.invalid_code")
        assert (await other.get("/console")).status_code == 303
        r = await post_step(other, flow_url, "mfa", mfa_code=good)
        assert r.status_code == 303 and r.headers["location"] == "/console"
        home = await other.get("/console")
        assert home.status_code == 200
        assert "Signed in with MFA</dt><dd>Yes" in home.text


async def test_totp_code_is_accepted_once_per_time_step(client: httpx.AsyncClient, runtime: Runtime,
                                                        mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    secret = await add_totp_device(client, clock)
    await sign_out(client)
    clock.advance(60)
    code = pyotp.TOTP(secret).at(clock.now)

    flow_url, _ = await root_password(client)
    r = await post_step(client, flow_url, "mfa", mfa_code=code)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    await sign_out(client)

    clock.advance(5)  # same 30-second step (or the next, still inside the window)
    flow_url, _ = await root_password(client)
    r = await post_step(client, flow_url, "mfa", mfa_code=code)
    assert r.status_code == 200 and error_of(r.text) == t("signin.invalid_code"), "a replayed code is refused"
    assert (await client.get("/console")).status_code == 303

    clock.advance(60)
    r = await post_step(client, flow_url, "mfa", mfa_code=pyotp.TOTP(secret).at(clock.now))
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_five_wrong_email_codes_end_the_flow(client: httpx.AsyncClient, runtime: Runtime,
                                                   mailbox: DevMailbox) -> None:
    await make_account(runtime)
    flow_url, _ = await root_password(client)
    good = last_code(mailbox, ROOT_EMAIL)
    wrong = "000000" if good != "000000" else "111111"
    for attempt in range(4):
        r = await post_step(client, flow_url, "email_code", verification_code=wrong)
        assert r.status_code == 200 and error_of(r.text) == t("signin.invalid_code"), attempt
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": wrong})
    assert r.status_code == 410, "the fifth wrong code ends the flow"
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": good})
    assert r.status_code == 410 and error_of(r.text) == t("flow.expired")
    assert (await client.get("/console")).status_code == 303


async def test_resent_code_replaces_the_old_one(client: httpx.AsyncClient, runtime: Runtime,
                                                mailbox: DevMailbox) -> None:
    await make_account(runtime)
    flow_url, _ = await root_password(client)
    first = last_code(mailbox, ROOT_EMAIL)
    r = await post_step(client, flow_url, "resend")
    assert r.status_code == 200 and len(mailbox.messages) == 2
    second = last_code(mailbox, ROOT_EMAIL)
    if first != second:
        r = await post_step(client, flow_url, "email_code", verification_code=first)
        assert r.status_code == 200 and error_of(r.text) == t("signin.invalid_code")
    r = await post_step(client, flow_url, "email_code", verification_code=second)
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_mailed_code_expires_after_ten_minutes(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    flow_url, _ = await root_password(client)
    clock.advance(10 * 60 + 1)
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code != 303 and error_of(r.text) == t("signin.code_expired")
    assert (await client.get("/console")).status_code == 303


async def test_email_is_compared_case_insensitively(client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox, email="OWNER@Example.COM", password=ROOT_PASSWORD)
