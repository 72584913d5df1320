"""A root user's security key in Chromium, through the DevTools protocol's virtual authenticator (ctap2, usb, no
resident key, user verification): the key is added on Security credentials (the password again, a name, the
browser's navigator.credentials.create by web/static/webauthn.js), the user signs out, then signs in with the
password and the key as MFA; the key's "last used" appears. Screenshots of each page. The public URL's host is
`localhost`: a WebAuthn relying party ID cannot be an IP address."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site
from vestibule.web.i18n import Translator
from webauthn_steps import virtual_authenticator

t = Translator("en")


@pytest.fixture
def public_host() -> str:
    return "localhost"


@pytest.mark.browser
def test_root_user_adds_a_security_key_and_signs_in_with_it(site: Site) -> None:
    account = site.create_account("keys@example.com", "Root password 1", alias="keys-e2e")
    page = site.new_browser()
    authenticator = virtual_authenticator(page)

    site.sign_in_root_with_mailed_code(page, account, "signin")
    page.click("#security-link")
    page.wait_for_url(f"{site.url}/console/security")
    site.shot(page, "security")
    page.click("#add-security-key")
    site.confirm_password_if_asked(page, account.password, "add-key")
    assert page.locator("#webauthn-new-title").inner_text() == t("webauthn.add_title_security_key")
    page.fill("#key_name", "Blue USB key")
    site.shot(page, "add-key")
    page.click("#webauthn-register")
    page.wait_for_url(re.compile(r"/console/security\?notice=webauthn\.added"))
    row = page.locator("tr.webauthn-credential").first
    assert "Blue USB key" in row.inner_text() and t("webauthn.type_security_key") in row.inner_text()
    assert ":u2f/root/Blue-USB-key-" in row.inner_text()
    assert row.locator(".mfa-last-used").inner_text().strip() == t("mfa_devices.never_used")
    site.shot(page, "key-listed")
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"] is False
    site.sign_out(page)

    # password, then the key as MFA (no mailed code: MFA is the second step)
    site.start_root_sign_in(page, account.email, account.password, "mfa-signin")
    page.wait_for_url(re.compile(r"/signin\?flow="))
    assert page.locator("#use-webauthn").inner_text() == t("webauthn.use_key")
    assert page.locator("#totp-form").count() == 0
    site.shot(page, "mfa-step")
    page.click("#use-webauthn")
    page.wait_for_url(f"{site.url}/console")
    site.shot(page, "signed-in")
    page.click("#security-link")
    last_used = page.locator("tr.webauthn-credential .mfa-last-used").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", last_used), last_used
    site.shot(page, "last-used")
    [credential] = authenticator.credentials()
    assert credential["signCount"] >= 1
