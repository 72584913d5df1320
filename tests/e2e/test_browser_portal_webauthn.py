"""An access portal user's security key in Chromium, through the DevTools protocol's virtual authenticator (ctap2,
usb, no resident key): invitation -> password -> mailed code -> the instance requires a device -> "Add security
key" on MFA devices (a name, the browser's navigator.credentials.create by web/static/webauthn.js) -> listed with
its type -> sign out -> password, then the key as the MFA step -> the portal. Screenshots of each page. The public
URL's host is `localhost`: a WebAuthn relying party ID cannot be an IP address."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site, run_async
from e2e.test_browser_portal import PASSWORD, _password_and_next, _set_password_from_link, _world
from vestibule.runtime import Runtime
from vestibule.services.identity_center import portal_users
from vestibule.web.i18n import Translator
from webauthn_steps import virtual_authenticator

t = Translator("en")


@pytest.fixture
def public_host() -> str:
    return "localhost"


@pytest.mark.browser
def test_portal_user_adds_a_security_key_and_signs_in_with_it(site: Site) -> None:
    world = _world(site, "ada")
    mails = len(site.smtp.messages)

    async def invite(rt: Runtime) -> None:
        await portal_users.reset_by_mail(rt.deps, world.store, world.user, invitation=True)

    run_async(site.settings, invite)
    page = site.new_browser()
    authenticator = virtual_authenticator(page)
    _set_password_from_link(site, page, world, mails, "invitation")
    mails = len(site.smtp.messages)
    _password_and_next(site, page, world, PASSWORD, "first")
    _, code = site.smtp.wait_for(world.email, r"verification code is: (\d{6})", after=mails)
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/mfa\?required=1"))
    site.shot(page, "mfa-required")

    page.click("#add-security-key")
    page.wait_for_selector("#webauthn-new-title")
    assert page.locator("#webauthn-new-title").inner_text() == t("webauthn.add_title_security_key")
    page.fill("#key_name", "Blue USB key")
    site.shot(page, "add-key")
    page.click("#webauthn-register")
    page.wait_for_url(re.compile(r"/mfa\?notice=webauthn_added"))
    row = page.locator("tr.webauthn-credential").first
    assert "Blue USB key" in row.inner_text() and t("webauthn.type_security_key") in row.inner_text()
    assert row.locator(".mfa-last-used").inner_text().strip() == t("mfa_devices.never_used")
    site.shot(page, "key-listed")
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"] is False
    page.goto(f"/portal/{world.store}/")
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/start\?signed_out=1"))

    # password, then the key as the MFA step (no mailed code)
    _password_and_next(site, page, world, PASSWORD, "key-signin")
    page.wait_for_selector("#use-webauthn")
    assert page.locator("#totp-form").count() == 0
    site.shot(page, "mfa-step")
    page.click("#use-webauthn")
    page.wait_for_url(f"{site.url}/portal/{world.store}/")
    assert page.locator(f'[data-account="{world.account_id}"]').count() == 1
    site.shot(page, "signed-in")
    page.goto(f"/portal/{world.store}/mfa")
    last_used = page.locator("tr.webauthn-credential .mfa-last-used").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", last_used), last_used
    [credential] = authenticator.credentials()
    assert credential["signCount"] >= 1
