"""Virtual MFA device: enrolment from the secret shown on the page, then sign-in with TOTP."""

from __future__ import annotations

import pyotp
import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_add_virtual_mfa_device_from_shown_secret(site: Site) -> None:
    account = site.create_account("careful@example.com", "Root password 1")
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)
    page.goto("/console/security")
    assert page.locator("#no-mfa").is_visible()
    site.add_virtual_mfa(page, "my-phone", account.password)
    assert page.locator("#notice").is_visible()
    rows = page.locator("#mfa-devices tbody tr")
    assert rows.count() == 1
    assert "my-phone" in rows.first.inner_text()
    assert f"arn:aws:iam::{account.account_id}:mfa/" in rows.first.inner_text()
    assert page.locator("#no-mfa").count() == 0


@pytest.mark.browser
def test_root_sign_in_with_totp_after_enrolment(site: Site) -> None:
    account = site.create_account("totp@example.com", "Root password 1")
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)
    secret, last_step = site.add_virtual_mfa(page, "authenticator", account.password)
    site.sign_out(page)
    site.shot(page, "signed-out")
    mails_before = len(site.smtp.messages)

    fresh = site.new_browser()
    site.start_root_sign_in(fresh, account.email, account.password, "totp-signin")
    assert fresh.locator("input[name=mfa_code]").count() == 1, fresh.content()
    site.shot(fresh, "totp-signin-mfa")
    # A code of the step after those used at enrolment: codes are accepted once per step, one step either side.
    fresh.fill("input[name=mfa_code]", pyotp.TOTP(secret).at((last_step + 1) * 30))
    fresh.get_by_role("button", name="Submit").click()
    fresh.wait_for_url(f"{site.url}/console")
    site.shot(fresh, "totp-signin-console")
    assert fresh.locator("#account-id").inner_text().strip() == account.formatted_id
    assert "Yes" in fresh.locator("dl.facts").inner_text()
    assert len(site.smtp.messages) == mails_before, "no mailed code when MFA is used"
