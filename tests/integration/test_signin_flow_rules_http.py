"""Sign-in flows are stored state machines: expired, foreign, out-of-order or unknown flows are refused
with a clear message."""

from __future__ import annotations

import httpx

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    browser,
    error_of,
    make_account,
    make_user,
    post_step,
    root_password,
    start_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")


async def test_expired_flow_is_refused_with_410(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    flow_url = await start_root(client)
    page = await client.get(flow_url)
    assert page.status_code == 200
    clock.advance(15 * 60 + 1)
    r = await client.get(flow_url)
    assert r.status_code == 410 and error_of(r.text) == t("flow.expired")
    before = runtime.deps.hasher.verifications
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": ROOT_PASSWORD})
    assert r.status_code == 410 and error_of(r.text) == t("flow.expired")
    assert runtime.deps.hasher.verifications == before, "an expired flow checks no password"
    assert (await client.get("/console")).status_code == 303


async def test_expired_flow_at_the_code_step(client: httpx.AsyncClient, runtime: Runtime,
                                             mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    flow_url, _ = await root_password(client)
    page = await client.get(flow_url)
    clock.advance(16 * 60)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": last_code(mailbox, ROOT_EMAIL)})
    assert r.status_code == 410 and error_of(r.text) == t("flow.expired")
    assert (await client.get("/console")).status_code == 303


async def test_flow_from_another_browser_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    await make_account(runtime)
    flow_url, r = await root_password(client)
    assert r.headers["location"] == flow_url
    code = last_code(mailbox, ROOT_EMAIL)
    async with browser(runtime, CaptchaAnswers()) as other:
        r = await other.get(flow_url)
        assert r.status_code in {400, 403} and error_of(r.text) == t("flow.wrong_browser")
        page = await other.get("/")
        r = await other.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                             "verification_code": code})
        assert r.status_code in {400, 403} and error_of(r.text) == t("flow.wrong_browser")
        assert not any("vestibule_session=" in h for h in r.headers.get_list("set-cookie"))
        assert (await other.get("/console")).status_code == 303
    # the owner can still finish
    r = await post_step(client, flow_url, "email_code", verification_code=code)
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_password_step_from_another_browser_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    flow_url = await start_root(client)
    async with browser(runtime, CaptchaAnswers()) as other:
        page = await other.get("/")
        before = runtime.deps.hasher.verifications
        r = await other.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                             "password": ROOT_PASSWORD})
        assert r.status_code in {400, 403} and error_of(r.text) == t("flow.wrong_browser")
        assert runtime.deps.hasher.verifications == before


async def test_steps_out_of_order_are_refused(client: httpx.AsyncClient, runtime: Runtime,
                                              mailbox: DevMailbox) -> None:
    await make_account(runtime)
    flow_url = await start_root(client)
    # the code or MFA step before the password
    for step, fields in (("email_code", {"verification_code": "123456"}), ("mfa", {"mfa_code": "123456"}),
                         ("new_password", {"new_password": "x" * 12, "confirm_password": "x" * 12}),
                         ("resend", {})):
        r = await post_step(client, flow_url, step, **fields)
        assert r.status_code == 400 and error_of(r.text) == t("flow.out_of_order"), step
    assert len(mailbox.messages) == 0
    r = await post_step(client, flow_url, "password", password=ROOT_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    # the password again once it was accepted
    before = runtime.deps.hasher.verifications
    r = await post_step(client, flow_url, "password", password=ROOT_PASSWORD)
    assert r.status_code == 400 and error_of(r.text) == t("flow.out_of_order")
    assert runtime.deps.hasher.verifications == before
    r = await post_step(client, flow_url, "mfa", mfa_code="123456")
    assert r.status_code == 400 and error_of(r.text) == t("flow.out_of_order")
    r = await post_step(client, flow_url, "bogus")
    assert r.status_code == 400
    assert (await client.get("/console")).status_code == 303
    # a finished flow cannot be used again
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code == 303
    page = await client.get("/console")
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": last_code(mailbox, ROOT_EMAIL)})
    assert r.status_code in {400, 410}


async def test_root_principal_cannot_use_the_new_password_step(client: httpx.AsyncClient, runtime: Runtime,
                                                               mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    flow_url, _ = await root_password(client)
    r = await post_step(client, flow_url, "new_password", new_password="brand new pw 1",
                        confirm_password="brand new pw 1")
    assert r.status_code == 400
    assert (await client.get("/console")).status_code == 303


async def test_unknown_flow_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/signin?flow=doesnotexist")
    assert r.status_code == 404 and error_of(r.text) == t("flow.not_found")
    r = await client.get("/signin")
    assert r.status_code == 404
    r = await client.get("/signin?flow=" + "a" * 500)
    assert r.status_code == 404
