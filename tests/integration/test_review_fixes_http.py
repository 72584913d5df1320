"""Hardening found in review: console re-authentication is throttled, resending a code keeps the attempt
count, and a new sign-in ends the session the browser held before."""

from __future__ import annotations

import httpx

from http_steps import error_of, make_account, make_user, post_step, root_password, sign_in_iam, use_clock
from support import CaptchaAnswers, csrf_of
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox


async def test_console_password_guesses_are_throttled(client: httpx.AsyncClient, runtime: Runtime,
                                                      captcha: CaptchaAnswers) -> None:
    """The current password of a password change is checked as sign-in checks passwords: from the third wrong
    one a CAPTCHA, from the sixth a wait (refused before any hashing)."""
    clock = use_clock(runtime)
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)

    async def change(password: str) -> httpx.Response:
        page = await client.get("/console/security")
        answer = {"captcha": captcha.latest} if 'name="captcha"' in page.text else {}
        return await client.post("/console/password", data={"csrf_token": csrf_of(page.text), "password": password,
                                                             "new_password": "another pass 1",
                                                             "confirm_password": "another pass 1", **answer})

    for n in range(6):
        r = await change("guess")
        assert r.status_code == 400, n
        assert ('name="captcha"' in r.text) == (n >= 2), n
    before = runtime.deps.hasher.verifications
    r = await change("user password 1")
    assert r.status_code == 429 and "Wait" in error_of(r.text)
    assert runtime.deps.hasher.verifications == before  # refused before any hashing
    clock.advance(600)
    r = await change("user password 1")
    assert r.status_code == 303


async def test_resending_the_code_keeps_the_attempt_count(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    flow_url, r = await root_password(client)
    assert r.headers["location"] == flow_url
    for _ in range(3):
        r = await post_step(client, flow_url, "email_code", verification_code="000000")
    r = await post_step(client, flow_url, "resend")
    assert r.status_code == 200
    for _ in range(2):
        r = await post_step(client, flow_url, "email_code", verification_code="000000")
    page = await client.get(flow_url)
    assert page.status_code == 410  # five wrong codes in all end the flow, resend or not


async def test_new_sign_in_ends_the_previous_session(client: httpx.AsyncClient, runtime: Runtime,
                                                     captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await make_account(runtime, email="beta@example.com", alias="beta")
    await make_user(runtime, "acme", "alice")
    await make_user(runtime, "beta", "bob")
    await sign_in_iam(client, username="alice")
    old = client.cookies.get("vestibule_session")
    await sign_in_iam(client, account="beta", username="bob")
    assert client.cookies.get("vestibule_session") != old
    from http_steps import browser

    async with browser(runtime, captcha) as other:
        other.cookies.set("vestibule_session", old or "")
        assert (await other.get("/console")).status_code == 303
