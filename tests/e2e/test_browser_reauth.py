"""In Chromium: a signed-in session is asked for its password again before it may add an MFA device or an access
key; a wrong password is refused with a message; once confirmed, the next credential change in the following
minutes is not asked again."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_credential_changes_ask_for_the_password_again(site: Site) -> None:
    account = site.create_account("careful@example.com", "Root password 1")
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)
    page.goto("/console/security")
    assert page.locator("#reauth-hint").is_visible()

    page.click("#add-mfa")
    page.wait_for_load_state()
    assert page.locator("#reauth-form").is_visible(), "no password prompt before adding a device"
    assert page.locator("#reauth-form input[name=password]").count() == 1
    site.shot(page, "prompt")
    page.fill("#reauth-form input[name=password]", "not the password")
    page.click("#reauth-submit")
    page.wait_for_load_state()
    assert page.locator("#reauth-form").is_visible()
    assert "not correct" in page.locator("#error").inner_text()
    assert "/console/mfa/new?flow=" not in page.url
    site.shot(page, "wrong-password")

    page.fill("#reauth-form input[name=password]", account.password)
    page.click("#reauth-submit")
    page.wait_for_url(re.compile(r"/console/mfa/new\?flow="))
    assert page.locator("#mfa-qr").is_visible()
    site.shot(page, "enrolment")

    # confirmed a moment ago: an access key is created without being asked again
    page.goto("/console/security")
    assert page.locator("#reauth-hint").count() == 0
    page.click("#create-access-key")
    page.wait_for_load_state()
    assert page.locator("#reauth-form").count() == 0
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", page.locator("#new-access-key-id").inner_text().strip())
    site.shot(page, "key-created")
