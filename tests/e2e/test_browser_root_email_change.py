"""In Chromium, with mail over real SMTP: the root user changes the root email (the password again, the code
mailed to the new address), sets contact details (a bad phone number shown under its field), signs in with
the new address; the old address's mail carries an undo link that, opened in another browser, puts the old
address back and signs out the root user's sessions."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from e2e.browser_support import Site

OLD = "first-owner@example.com"
NEW = "second-owner@example.com"


@pytest.mark.browser
def test_root_email_change_and_undo_from_the_old_address(site: Site) -> None:
    account = site.create_account(OLD, "Root password 1")
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)
    page.goto("/console/security")
    page.click("#contacts-link")
    page.wait_for_url(f"{site.url}/console/contacts")
    assert page.locator("#current-root-email").inner_text() == OLD
    site.shot(page, "contacts-page")

    page.fill("#email", NEW)
    page.click("#change-email")
    site.confirm_password_if_asked(page, account.password, "change-email")
    page.wait_for_url(re.compile(r"/console/email/verify\?flow="))
    assert NEW in page.locator("#code-sent").inner_text()
    site.shot(page, "code-sent")
    _, code = site.smtp.wait_for(NEW, r"verification code is: (\d{6})")
    page.fill("#verification_code", code)
    page.click("#verify-email")
    page.wait_for_url(re.compile(r"/console/contacts\?notice=email_changed"))
    assert page.locator("#current-root-email").inner_text() == NEW
    site.shot(page, "email-changed")

    # contact details: a bad phone number is shown under its field, then saved
    page.fill("#full_name", "Lin Mei-Hua")
    page.fill("#phone", "call me maybe")
    page.fill("#country", "tw")
    page.fill("#security_name", "Chen Security")
    page.fill("#security_email", "security@example.com")
    page.click("#save-contacts")
    page.wait_for_load_state()
    assert page.locator("#phone-error").is_visible()
    assert page.locator("#phone").get_attribute("aria-invalid") == "true"
    site.shot(page, "contact-error")
    page.fill("#phone", "+886 2 2345 6789")
    page.click("#save-contacts")
    page.wait_for_url(re.compile(r"/console/contacts\?notice=saved"))
    assert page.locator("#country").input_value() == "TW"
    site.shot(page, "contacts-saved")

    # the new address signs in (a new browser: the code goes to the new address)
    moved = replace(account, email=NEW)
    elsewhere = site.new_browser()
    site.sign_in_root_with_mailed_code(elsewhere, moved, "new-address")

    # the old address got the notice with the undo link; its owner opens it in another browser
    mail, link = site.smtp.wait_for(OLD, r"(http://\S+/email/undo\?token=\S+)")
    assert link.startswith(site.url + "/email/undo?token=") and account.formatted_id in mail.body
    assert NEW not in mail.body  # only a hint of the new address
    owner = site.new_browser()
    owner.goto(link)
    owner.wait_for_url(re.compile(r"/email/undo\?flow="))
    assert OLD in owner.locator("#undo-what").inner_text()
    site.shot(owner, "undo-confirm")
    owner.fill("#password", account.password)  # the link alone does not undo: the root password too
    owner.click("#undo-submit")
    owner.wait_for_load_state()
    assert owner.locator("#undo-done").is_visible()
    site.shot(owner, "undo-done")

    # every root session ended; the old address signs in again, the new one no longer does
    elsewhere.goto("/console")
    elsewhere.wait_for_url(re.compile(r"/(\?.*)?$"))
    page.goto("/console")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    site.shot(page, "signed-out")
    site.start_root_sign_in(owner, NEW, account.password, "new-refused")
    assert owner.locator("#error").is_visible()
    again = site.new_browser()
    site.sign_in_root_with_mailed_code(again, account, "old-address")
    assert again.locator("#account-id").inner_text().strip() == account.formatted_id
    owner.goto(link)  # the link worked once
    assert owner.locator("#undo-submit").count() == 0
