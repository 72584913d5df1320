"""The mailed sign-in codes say which account (or portal and user) and where the attempt came from: the
client's address and a browser name from a fixed list, never the request's own user-agent text."""

from __future__ import annotations

import httpx

from http_steps import ROOT_EMAIL, browser, make_account, root_password
from integration.test_portal_signin_http import EMAIL, PASSWORD, make_portal_user, make_store, password_step
from support import CaptchaAnswers, csrf_of
from vestibule.core.identifiers import format_account_id
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox, Mail

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CRAFTED = "Chrome/1 (Windows) -- account locked, call +1 555 0100 or open https://evil.example/"


def _last_to(mailbox: DevMailbox, to: str) -> Mail:
    mail = next((m for m in reversed(mailbox.messages) if m.to == to), None)
    assert mail is not None, f"no mail to {to}"
    return mail


async def test_root_sign_in_code_names_the_account_and_the_origin(runtime: Runtime, mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.23") as client:
        client.headers["user-agent"] = FIREFOX
        flow_url, r = await root_password(client)
        assert r.status_code == 303 and r.headers["location"] == flow_url
    mail = _last_to(mailbox, ROOT_EMAIL)
    assert f"root user of account {format_account_id(account_id)}" in mail.body
    assert "  Address: 198.51.100.23\n" in mail.body
    assert "  Browser: Firefox / Linux\n" in mail.body
    assert " UTC, from a browser we have not seen before" in mail.body
    assert "Your account ID is shown in this mail" in mail.body


async def test_a_crafted_user_agent_is_not_quoted(runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    async with browser(runtime, CaptchaAnswers()) as client:
        client.headers["user-agent"] = CRAFTED
        await root_password(client)
    mail = _last_to(mailbox, ROOT_EMAIL)
    assert "  Browser: Chrome / Windows\n" in mail.body
    assert "evil.example" not in mail.body and "555" not in mail.body


async def test_the_resent_code_and_the_chinese_mail_say_it_too(client: httpx.AsyncClient, runtime: Runtime,
                                                              mailbox: DevMailbox) -> None:
    await make_account(runtime)
    client.headers["user-agent"] = "curl/8.5.0"
    flow_url, _ = await root_password(client)
    page = await client.get(flow_url + "&lang=zh-TW")
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "resend"})
    assert r.status_code == 200
    mail = _last_to(mailbox, ROOT_EMAIL)
    assert "位址：203.0.113.7" in mail.body and "瀏覽器：curl" in mail.body, mail.body


async def test_portal_code_names_the_portal_user_and_the_origin(runtime: Runtime, mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    async with browser(runtime, CaptchaAnswers(), ip="2001:db8::7") as client:
        client.headers["user-agent"] = FIREFOX
        flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
        assert r.status_code == 303 and r.headers["location"] == flow_url
    mail = _last_to(mailbox, EMAIL)
    assert f"the user alice on the access portal http://testserver/portal/{store_id}/start" in mail.body
    assert "  Address: 2001:db8::7\n" in mail.body and "  Browser: Firefox / Linux\n" in mail.body
