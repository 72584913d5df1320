"""`/help/network`: the host names and ports a firewall must allow, and how to check them; never a credential."""

from __future__ import annotations

import dataclasses
import html

import httpx

from support import CHEAP_HASH, CaptchaAnswers, DeliveringTransport
from vestibule.app import create_app
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import build
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.web.console.help_pages import network_needs
from vestibule.web.i18n import Translator

t = Translator("en")


async def _page(settings: Settings, path: str = "/help/network") -> httpx.Response:
    runtime = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    try:
        app = create_app(runtime, captcha_text_source=CaptchaAnswers(), close_runtime=False)
        async with httpx.AsyncClient(transport=DeliveringTransport(app, runtime), base_url="http://testserver") as c:
            return await c.get(path)
    finally:
        await runtime.close()


async def test_the_page_lists_the_origin_and_the_sender_never_the_mail_relay(settings: Settings) -> None:
    """Users never connect to the relay: its host, port and STARTTLS are the operator's (docs), not the page's."""
    configured = dataclasses.replace(settings, public_url="https://signin.example.com/", smtp_host="mail.example.net",
                                     smtp_port=587, smtp_starttls=True, smtp_user="relay-user",
                                     smtp_password="relay-secret-9", mail_from="no-reply@example.com")
    page = await _page(configured)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<tr id="need-origin">' in page.text and "<code>signin.example.com</code>" in page.text
    assert "<code>443</code>" in page.text and "HTTPS" in text
    assert '<tr id="need-mail">' not in page.text and "mail.example.net" not in page.text
    assert "587" not in page.text and "STARTTLS" not in text and "SMTP" not in text
    assert t("help.network_mail_from", address="no-reply@example.com") in text
    assert "curl -fsS https://signin.example.com/healthz" in text
    assert "aws sts get-caller-identity --endpoint-url https://signin.example.com" in text
    assert "openssl" not in text and 'id="mail-command"' not in page.text
    assert t("help.network_blocked", host="signin.example.com", port=443) in text
    # host names and ports only: never the relay's credentials
    assert "relay-user" not in page.text and "relay-secret-9" not in page.text


async def test_without_a_mail_relay_only_the_origin(settings: Settings) -> None:
    page = await _page(dataclasses.replace(settings, public_url="http://vestibule.corp.internal:8080"))
    assert page.status_code == 200
    assert "<code>vestibule.corp.internal</code>" in page.text and "<code>8080</code>" in page.text
    assert '<tr id="need-mail">' not in page.text and 'id="no-mail-relay"' in page.text
    assert "curl -fsS http://vestibule.corp.internal:8080/healthz" in page.text
    zh = await _page(settings, "/help/network?lang=zh-TW")
    assert Translator("zh-TW")("help.network_title") in zh.text


async def test_the_checked_path_answers_and_the_sign_in_page_links_the_help(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.text == "ok", "what the page tells users to expect"
    start = await client.get("/")
    assert 'href="/help/network" id="network-help-link"' in start.text


def test_default_ports_follow_the_scheme(settings: Settings) -> None:
    assert network_needs(dataclasses.replace(settings, public_url="http://a.example")).origin.port == 80
    assert network_needs(dataclasses.replace(settings, public_url="https://a.example")).origin.port == 443
    needs = network_needs(dataclasses.replace(settings, public_url="https://[2001:db8::1]:8443", smtp_host="m",
                                              smtp_port=25, mail_from="no-reply@example.com"))
    assert (needs.origin.host, needs.origin.port, needs.origin.scheme) == ("2001:db8::1", 8443, "https")
    assert needs.mail_from == "no-reply@example.com"
    assert network_needs(dataclasses.replace(settings, smtp_host="")).mail_from == ""
