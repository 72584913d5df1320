"""A personal profile's passkey in Chromium, through the DevTools protocol's virtual authenticator (ctap2,
internal transport, resident keys, user verification): the profile is made through the sign-up pages (the code
from the real SMTP server), adds a passkey on Security (the password again, a name, navigator.credentials.create
by web/static/webauthn.js), signs out, and signs in with "Sign in with a passkey" on /profile: no email, no
password. Screenshots of each page. The public URL's host is `localhost`: an RP ID cannot be an IP address."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site
from vestibule.web.i18n import Translator
from webauthn_steps import virtual_authenticator

t = Translator("en")
EMAIL = "passkey.maker@example.com"
PASSWORD = "Quiet-Harbor-42"


@pytest.fixture
def public_host() -> str:
    return "localhost"


@pytest.mark.browser
def test_profile_registers_a_passkey_and_signs_in_with_it(site: Site) -> None:
    page = site.new_browser()
    authenticator = virtual_authenticator(page, transport="internal", resident=True)

    # a profile through the sign-up pages
    page.goto("/profile/signup")
    page.fill("input[name=email]", EMAIL)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/profile/signup/flow\?flow="))
    page.fill("input[name=name]", "Pat Passkey")
    page.get_by_role("button", name="Next").click()
    page.locator("#verification_code").wait_for()
    _, code = site.smtp.wait_for(EMAIL, r"verification code is: (\d{6})")
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="Verify").click()
    page.locator("#confirm_password").wait_for()
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    page.get_by_role("button", name="Create personal profile").click()
    page.wait_for_url(re.compile(r"/profile/details\?notice=welcome$"))
    site.shot(page, "my-details")

    # Security: Add a passkey (the password again, a name, the authenticator)
    page.click("#nav-security")
    page.wait_for_url(f"{site.url}/profile/security")
    assert page.locator("#no-mfa").count() == 1
    site.shot(page, "security")
    page.click("#add-passkey")
    site.confirm_password_if_asked(page, PASSWORD, "add-passkey")
    assert page.locator("#webauthn-new-title").inner_text() == t("profile_webauthn.add_title_passkey")
    page.fill("#key_name", "Laptop passkey")
    site.shot(page, "add-passkey")
    page.click("#webauthn-register")
    page.wait_for_url(re.compile(r"/profile/security\?notice=key_added$"))
    assert page.locator("#notice").inner_text().strip() == t("profile_webauthn.notice_key_added")
    row = page.locator('tr.mfa-device[data-kind="webauthn"]')
    assert row.count() == 1 and "Laptop passkey" in row.inner_text()
    assert row.locator(".mfa-type").inner_text().strip() == t("profile_webauthn.type_passkey")
    assert t("profile_settings.never_used") in row.inner_text()
    site.shot(page, "passkey-listed")
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"] is True and credential["userName"] == EMAIL

    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/profile\?signed_out=1$"))
    site.shot(page, "signed-out")

    # "Sign in with a passkey": no email, no password
    page.click("#signin-passkey")
    page.wait_for_url(re.compile(r"/profile/passkey\?flow="))
    assert page.locator("input[name=email]").count() == 0 and page.locator("input[name=password]").count() == 0
    site.shot(page, "passkey-signin")
    page.click("#use-passkey")
    page.wait_for_url(re.compile(r"/profile/details\?notice=signed_in$"))
    site.shot(page, "signed-in-with-passkey")
    assert page.locator("#profile-name").inner_text().strip() == "Pat Passkey"
    page.click("#nav-security")
    last_used = page.locator('tr.mfa-device[data-kind="webauthn"] td').nth(3).inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", last_used), last_used
    site.shot(page, "passkey-last-used")
    [credential] = authenticator.credentials()
    assert credential["signCount"] >= 1

    # deleting the profile asks the passkey too (the page's challenge, through webauthn.js)
    page.goto("/profile/privacy/delete")
    assert page.locator("#delete-form").get_attribute("data-webauthn") == "get"
    for box in page.locator("input[name=disclaimer]").all():
        box.check()
    page.fill("#password", PASSWORD)
    site.shot(page, "delete-with-passkey")
    page.click("#delete-submit")
    page.locator("#profile-deleted").wait_for()
    [credential] = authenticator.credentials()
    assert credential["signCount"] >= 2  # the deletion's answer signed once more
