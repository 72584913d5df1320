"""Every signed-in console page shows who is signed in (name, account ID, alias) and a Sign out form."""

from __future__ import annotations

import html
import re

import httpx

from http_steps import ROOT_PASSWORD, make_account, make_user, sign_in_iam, sign_in_root
from support import csrf_of
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox

_BAR = re.compile(r'<section class="identity" id="identity"[^>]*>(.*?)</section>', re.DOTALL)


def top_bar(page: str) -> str:
    match = _BAR.search(page)
    assert match, "no identity bar on the page"
    return match.group(1)


def _text(fragment: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">(.*?)<', fragment)
    return html.unescape(match.group(1)) if match else ""


async def _signed_in_pages(client: httpx.AsyncClient) -> dict[str, str]:
    pages = {path: (await client.get(path)).text for path in ["/console", "/console/security", "/console/confirm"]}
    enrol = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(pages["/console/security"]),
                                                        "password": ROOT_PASSWORD})
    pages["enrolment"] = (await client.get(enrol.headers["location"])).text
    created = await client.post("/console/access-keys/new", data={"csrf_token": csrf_of(pages["/console"])})
    assert created.status_code == 200
    pages["new access key"] = created.text
    return pages


def _assert_sign_out_form(bar: str, page: str) -> None:
    form = re.search(r'<form method="post" action="/signout"[^>]*>(.*?)</form>', bar, re.DOTALL)
    assert form, "the bar has a POST form to /signout"
    assert f'name="csrf_token" value="{csrf_of(page)}"' in form.group(1)
    assert re.search(r'<button type="submit" id="sign-out"[^>]*>Sign out</button>', form.group(1))
    assert form.group(1).count("<button") == 1


async def test_root_user_sees_account_name_id_and_alias(client: httpx.AsyncClient, runtime: Runtime,
                                                        mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)  # alias "acme", account name from the email: "owner"
    await sign_in_root(client, mailbox)
    formatted = f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"
    for name, page in (await _signed_in_pages(client)).items():
        bar = top_bar(page)
        assert _text(bar, "identity-name") == "owner", name
        assert "Root user" in bar, name
        assert _text(bar, "identity-account-id") == formatted, name
        assert _text(bar, "identity-alias") == "acme", name
        _assert_sign_out_form(bar, page)


async def test_iam_user_sees_user_name_and_an_account_without_alias(client: httpx.AsyncClient,
                                                                    runtime: Runtime) -> None:
    account_id = await make_account(runtime, alias=None)
    await make_user(runtime, account_id, "alice")
    await sign_in_iam(client, account_id)
    page = (await client.get("/console/security")).text
    bar = top_bar(page)
    assert _text(bar, "identity-name") == "alice"
    assert "IAM user" in bar
    assert _text(bar, "identity-account-id") == f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"
    assert 'id="identity-alias"' not in bar
    _assert_sign_out_form(bar, page)


async def test_the_bar_signs_out_and_pages_without_a_session_have_none(client: httpx.AsyncClient, runtime: Runtime,
                                                                       mailbox: DevMailbox) -> None:
    await make_account(runtime)
    start = await client.get("/?root=1")
    assert 'id="identity"' not in start.text
    await sign_in_root(client, mailbox)
    page = (await client.get("/console")).text
    r = await client.post("/signout", data={"csrf_token": csrf_of(top_bar(page))})
    assert r.status_code == 303 and r.headers["location"] == "/?signed_out=1"
    after = await client.get("/console")
    assert after.status_code == 303 and after.headers["location"] == "/"
    signed_out = await client.get("/?signed_out=1")
    assert 'id="identity"' not in signed_out.text


async def test_the_bar_speaks_traditional_chinese(client: httpx.AsyncClient, runtime: Runtime,
                                                 mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    bar = top_bar((await client.get("/console?lang=zh-TW")).text)
    assert "登出" in bar and "根使用者" in bar and "帳戶 ID" in bar
