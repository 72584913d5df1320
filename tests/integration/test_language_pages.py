"""Choosing the page language: Accept-Language, ?lang= and the vestibule_lang cookie."""

from __future__ import annotations

import html
import re

import httpx

from support import csrf_of
from vestibule.runtime import Runtime
from vestibule.services import accounts

ZH_HTML = '<html lang="zh-Hant-TW">'
EN_HTML = '<html lang="en">'


def _switch_link(page: str) -> str:
    match = re.search(r'<nav class="lang"[^>]*>\s*<a href="([^"]+)"', page)
    assert match, "page has no language-switch link"
    return html.unescape(match.group(1))


def _lang_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "vestibule_lang":
            return rest.split(";", 1)[0]
    return None


async def _flow_url(client: httpx.AsyncClient, runtime: Runtime) -> str:
    async with runtime.deps.store.unit() as uow:
        await accounts.create_account(runtime.deps, uow, email="owner@example.com", password="root password 1",
                                      alias="acme")
    page = await client.get("/")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                     "email": "owner@example.com"})
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
    return str(r.headers["location"])


async def test_accept_language_zh_tw_renders_traditional_chinese(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"accept-language": "zh-TW,zh;q=0.9,en;q=0.8"})
    assert r.status_code == 200
    assert ZH_HTML in r.text
    assert "根使用者" in r.text and "IAM 使用者" in r.text and "忘記密碼？" in r.text
    assert "Root user" not in r.text
    assert _switch_link(r.text) == "/?lang=en"
    assert _lang_cookie(r) is None  # Accept-Language alone does not set the cookie


async def test_default_and_unsupported_languages_render_english(client: httpx.AsyncClient) -> None:
    for header in ("", "fr", "zh-CN,zh;q=0.9"):
        r = await client.get("/", headers={"accept-language": header})
        assert r.status_code == 200
        assert EN_HTML in r.text and "Root user" in r.text, header
        assert _switch_link(r.text) == "/?lang=zh-TW"


async def test_lang_parameter_sets_a_cookie_that_later_requests_follow(client: httpx.AsyncClient) -> None:
    r = await client.get("/?lang=zh-TW")
    assert r.status_code == 200 and ZH_HTML in r.text
    assert _lang_cookie(r) == "zh-TW"
    assert "HttpOnly" not in next(h for h in r.headers.get_list("set-cookie") if h.startswith("vestibule_lang="))

    later = await client.get("/signup")
    assert ZH_HTML in later.text and "建立帳戶" in later.text
    later = await client.get("/recovery")
    assert ZH_HTML in later.text and "密碼復原" in later.text
    # The cookie wins over Accept-Language.
    later = await client.get("/", headers={"accept-language": "en-US"})
    assert ZH_HTML in later.text

    r = await client.get("/?lang=en")
    assert r.status_code == 200 and EN_HTML in r.text
    assert _lang_cookie(r) == "en"
    later = await client.get("/", headers={"accept-language": "zh-TW"})
    assert EN_HTML in later.text and "Root user" in later.text


async def test_unknown_lang_parameter_is_ignored(client: httpx.AsyncClient) -> None:
    r = await client.get("/?lang=xx", headers={"accept-language": "zh-TW"})
    assert ZH_HTML in r.text
    assert _lang_cookie(r) is None


async def test_language_switch_link_keeps_other_query_parameters(client: httpx.AsyncClient,
                                                                 runtime: Runtime) -> None:
    flow_url = await _flow_url(client, runtime)
    flow_id = flow_url.split("flow=", 1)[1]

    page = await client.get(flow_url)
    assert page.status_code == 200 and EN_HTML in page.text
    link = _switch_link(page.text)
    assert link == f"/signin?flow={flow_id}&lang=zh-TW"

    page = await client.get(link)
    assert page.status_code == 200 and ZH_HTML in page.text
    assert "根使用者登入" in page.text and 'name="password"' in page.text
    back = _switch_link(page.text)
    assert back == f"/signin?flow={flow_id}&lang=en"

    page = await client.get(back)
    assert page.status_code == 200 and EN_HTML in page.text and "Root user sign in" in page.text
