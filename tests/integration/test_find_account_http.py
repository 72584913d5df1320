"""Finding the account: `/?account=` fills in the IAM user's sign-in, the console's sign-in URL with its
copy button, and where the account ID is found on the sign-in pages."""

from __future__ import annotations

import re

import httpx
import pytest

from http_steps import make_account, make_user, sign_in_iam, sign_in_root, sign_out
from support import csrf_of
from vestibule.core import identifiers
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")
_ACCOUNT_INPUT = re.compile(r'<input id="account" name="account" type="text"[^>]*value="([^"]*)"')


def _filled(page: str) -> str:
    found = _ACCOUNT_INPUT.search(page)
    assert found, page
    return found.group(1)


def _iam_checked(page: str) -> bool:
    return 'value="iam" checked' in page


@pytest.mark.parametrize(("given", "filled"), [
    ("111122223333", "111122223333"),
    ("1111-2222-3333", "111122223333"),
    (" 1111 2222 3333 ", "111122223333"),
    ("ACME", "acme"),
    ("my-company", "my-company"),
])
async def test_account_parameter_fills_in_the_iam_sign_in(client: httpx.AsyncClient, given: str,
                                                          filled: str) -> None:
    page = await client.get("/", params={"account": given})
    assert page.status_code == 200
    assert _iam_checked(page.text) and _filled(page.text) == filled
    # the filled-in form goes on to that account's sign-in page, as a typed one does
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "iam", "account": filled})
    assert r.status_code == 303 and r.headers["location"] == f"/{filled}/console"


@pytest.mark.parametrize("given", [
    "", "ab", "-acme", "acme-", "Ac me", "<script>alert(1)</script>", '"><b>x', "a" * 64, "1" * 81,
    "11112222333", "acme/../x", "ac%20me", "ácme",
])
async def test_a_bad_account_parameter_is_just_not_filled_in(client: httpx.AsyncClient, given: str) -> None:
    page = await client.get("/", params={"account": given})
    assert page.status_code == 200
    assert not _iam_checked(page.text) and _filled(page.text) == ""
    assert "<script>alert" not in page.text and "<b>x" not in page.text


async def test_the_parameter_is_not_a_lookup(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """A known and an unknown alias get the same page: the link tells nobody whether the account exists."""
    await make_account(runtime)
    known = await client.get("/?account=acme")
    unknown = await client.get("/?account=nosuchalias")
    assert known.status_code == unknown.status_code == 200
    assert _filled(known.text) == "acme" and _filled(unknown.text) == "nosuchalias"
    assert known.text.replace("acme", "X") == unknown.text.replace("nosuchalias", "X")


async def test_the_parameter_wins_over_a_remembered_account(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                  "password": "user password 1", "remember": "on"})
    assert r.status_code == 303
    await sign_out(client)
    remembered = await client.get("/")
    assert 'action="/acme/console"' in remembered.text, "the remembered account's form"
    linked = await client.get("/?account=other-company")
    assert _iam_checked(linked.text) and _filled(linked.text) == "other-company"
    assert 'action="/"' in linked.text
    # a bad parameter leaves the remembered account's form as it was
    bad = await client.get("/?account=x")
    assert 'action="/acme/console"' in bad.text


async def test_console_shows_the_iam_sign_in_url_with_a_copy_button(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = await make_account(runtime)
    monkeypatch.setattr(identifiers, "new_account_id", lambda: "111122223333")
    await make_account(runtime, email="other@example.com", alias=None)
    await make_user(runtime, "acme", "alice")
    # the root user, who hands the URL out, sees it too
    await sign_in_root(client, mailbox)
    home = await client.get("/console")
    assert 'id="signin-url">http://testserver/acme/console<' in home.text
    button = re.search(r'<button type="button" class="copy" id="copy-signin-url"[^>]*>', home.text)
    assert button and 'data-copy="signin-url"' in button.group(0)
    assert button.group(0).endswith(" hidden>"), "without JavaScript there is no dead button: the text is selectable"
    assert '<script src="/static/copy.js" defer></script>' in home.text
    assert "<script>" not in home.text, "no inline script (the CSP allows only 'self')"
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert "unsafe-inline" not in home.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    hint = t("find.signin_url_hint", link=f"http://testserver/?account={acme}")
    assert f'<p class="hint" id="signin-url-hint">{hint}</p>' in home.text
    script = await client.get("/static/copy.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "navigator.clipboard" in script.text and 'execCommand("copy")' in script.text
    await sign_out(client)
    await sign_in_iam(client)
    home = await client.get("/console")
    assert 'id="signin-url">http://testserver/acme/console<' in home.text
    await sign_out(client)
    # an account without an alias: its ID
    await sign_in_root(client, mailbox, email="other@example.com")
    home = await client.get("/console")
    assert 'id="signin-url">http://testserver/111122223333/console<' in home.text


async def test_sign_in_pages_say_where_the_account_id_is(client: httpx.AsyncClient) -> None:
    for path in ("/", "/acme/console", "/recovery"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert t("help.find_account_id") in page.text, path
        assert "12-digit number on the console home page" in page.text, path
    zh = await client.get("/acme/console?lang=zh-TW")
    assert Translator("zh-TW")("help.find_account_id") in zh.text
