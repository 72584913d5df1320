"""'I forgot my federated identity password': the help page says the identity provider's administrator resets it
(federated identities have no Vestibule password), in English and Traditional Chinese, and the sign-in pages
link to it."""

from __future__ import annotations

import html

import httpx
import pytest

from http_steps import make_account
from vestibule.runtime import Runtime
from vestibule.web.i18n import Translator


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_help_page_in_both_languages(client: httpx.AsyncClient, locale: str) -> None:
    t = Translator(locale)
    page = await client.get("/help/federated-password", params={"lang": locale})
    assert page.status_code == 200
    for key in ("federation.help_password_title", "federation.help_password_intro",
                "federation.help_password_reset", "federation.help_password_works_text"):
        assert html.escape(t(key)) in page.text.replace("&#39;", "&#x27;").replace("&#34;", "&quot;"), key
    assert 'href="/recovery"' in page.text


async def test_sign_in_pages_link_to_it(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime, alias="acme")
    pages = ["/", "/acme/console", "/recovery"]
    for path in pages:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert 'href="/help/federated-password" id="federated-password-help"' in page.text, path
