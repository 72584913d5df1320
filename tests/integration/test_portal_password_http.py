"""Directory users' portal passwords: a one-time password (changed at first sign-in) and the mailed single-use
link (reset or invitation) whose page sets the password; every reset ends the user's portal sessions."""

from __future__ import annotations

import re

import httpx

from http_steps import error_of, use_clock
from integration.test_portal_signin_http import (
    EMAIL,
    PASSWORD,
    make_portal_user,
    make_store,
    password_step,
    portal_cookie_set,
    sign_in,
    step,
)
from support import CaptchaAnswers, csrf_of, deliver_mail, last_code
from vestibule.core.tokens import hash_token
from vestibule.runtime import Runtime
from vestibule.services.identity_center import portal_users
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")


def link_of(mailbox: DevMailbox, store_id: str) -> str:
    mail = next(m for m in reversed(mailbox.messages) if m.to == EMAIL and "/password?token=" in m.body)
    match = re.search(rf"http://[^/\s]+(/portal/{store_id}/password\?token=[A-Za-z0-9_-]+)", mail.body)
    assert match, mail.body
    assert f"/portal/{store_id}/start" in mail.body and "alice" in mail.body
    return match.group(1)


async def test_one_time_password_signs_in_once_then_must_change(client: httpx.AsyncClient, runtime: Runtime,
                                                                mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    one_time = await portal_users.reset_with_one_time_password(runtime.deps, store_id, "alice")
    assert len(one_time) == 20
    # the reset ended the portal session at once
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303
    _flow, r = await password_step(client, store_id, "alice", PASSWORD)
    assert error_of(r.text) == t("signin.invalid_credentials")
    flow_url, r = await password_step(client, store_id, "alice", one_time)
    assert r.headers["location"] == flow_url and 'name="new_password"' in (await client.get(flow_url)).text
    r = await step(client, flow_url, "new_password", new_password="mine now 123", confirm_password="mine now 123")
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))
    assert r.status_code == 303 and portal_cookie_set(r)


async def test_mailed_link_sets_the_password_once(client: httpx.AsyncClient, runtime: Runtime,
                                                  mailbox: DevMailbox) -> None:
    use_clock(runtime)
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id, password=None)  # invited: no password yet
    _flow, r = await password_step(client, store_id, "alice", "anything at all")
    assert error_of(r.text) == t("signin.invalid_credentials")
    assert await portal_users.reset_by_mail(runtime.deps, store_id, "alice", invitation=True) == EMAIL
    await deliver_mail(runtime)
    link = link_of(mailbox, store_id)
    token = link.split("token=")[1]
    async with runtime.deps.store.unit() as uow:  # only the token's hash is stored
        assert await uow.flows.get(hash_token(token)) is not None
        assert await uow.flows.get(token) is None
    page = await client.get(link)
    assert page.status_code == 200 and 'name="new_password"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    data = {"csrf_token": csrf_of(page.text), "token": token}
    r = await client.post(f"/portal/{store_id}/password", data={**data, "new_password": "first password",
                                                                 "confirm_password": "other one"})
    assert r.status_code == 400 and error_of(r.text) == t("password.mismatch")
    r = await client.post(f"/portal/{store_id}/password", data={**data, "new_password": "short",
                                                                 "confirm_password": "short"})
    assert r.status_code == 400
    r = await client.post(f"/portal/{store_id}/password", data={**data, "new_password": "first password",
                                                                 "confirm_password": "first password"})
    assert r.status_code == 200 and 'id="password-set"' in r.text
    # single use
    again = await client.get(link)
    assert again.status_code == 410 and error_of(again.text) == t("portal.link_dead")
    r = await client.post(f"/portal/{store_id}/password", data={**data, "new_password": "second password",
                                                                 "confirm_password": "second password"})
    assert r.status_code == 410
    flow_url, r = await password_step(client, store_id, "alice", "first password")
    assert r.headers["location"] == flow_url
    # a made-up token, a link of another portal path and a wrong portal
    assert (await client.get(f"/portal/{store_id}/password?token=made-up")).status_code == 410
    assert (await client.get("/portal/d-0000000000/password?token=x")).status_code == 404


async def test_link_expires(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    await portal_users.reset_by_mail(runtime.deps, store_id, "alice")
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303, "a reset ends the portal sessions"
    await deliver_mail(runtime)
    link = link_of(mailbox, store_id)
    clock.advance(24 * 3600 + 1)
    assert (await client.get(link)).status_code == 410


async def _forgot(client: httpx.AsyncClient, captcha: CaptchaAnswers, store_id: str, username: str,
                  answer: str | None = None) -> httpx.Response:
    page = await client.get(f"/portal/{store_id}/forgot")
    assert page.status_code == 200 and 'name="captcha"' in page.text
    return await client.post(f"/portal/{store_id}/forgot", data={
        "csrf_token": csrf_of(page.text), "username": username,
        "captcha": captcha.latest if answer is None else answer})


async def test_forgot_password(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox,
                               captcha: CaptchaAnswers) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")  # another browser
    r = await _forgot(other, captcha, store_id, "alice", answer="WRONG1")
    assert r.status_code == 400 and error_of(r.text) == t("captcha.invalid")
    known = await _forgot(other, captcha, store_id, "alice")
    unknown = await _forgot(other, captcha, store_id, "mallory")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text and 'id="forgot-sent"' in known.text
    await deliver_mail(runtime)
    link = link_of(mailbox, store_id)
    page = await other.get(link)
    r = await other.post(f"/portal/{store_id}/password", data={
        "csrf_token": csrf_of(page.text), "token": link.split("token=")[1], "new_password": "recovered pw 1",
        "confirm_password": "recovered pw 1"})
    assert r.status_code == 200 and 'id="password-set"' in r.text
    # every portal session of the user ended
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303
    flow_url, r = await password_step(other, store_id, "alice", "recovered pw 1")
    assert r.headers["location"] == flow_url
