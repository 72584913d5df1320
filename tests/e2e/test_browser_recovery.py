"""Forgotten root password: CAPTCHA, a link mailed over SMTP, a new password, then sign-in with it."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_forgotten_root_password_reset_by_mailed_link(site: Site) -> None:
    account = site.create_account("forgetful@example.com", "Old password 1")
    page = site.new_browser()
    page.goto("/")
    site.shot(page, "signin-start")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url(f"{site.url}/recovery")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=captcha]", site.live.captcha.latest)
    site.shot(page, "recovery-form")
    page.get_by_role("button", name="Send reset link").click()
    page.wait_for_load_state()
    assert page.locator("#recovery-sent").is_visible()
    site.shot(page, "recovery-sent")

    mail, link = site.smtp.wait_for(account.email, r"(http://\S+/recovery/reset\?token=\S+)")
    assert link.startswith(site.url + "/recovery/reset?token=")
    assert account.formatted_id in mail.body
    page.goto(link)
    site.shot(page, "reset-form")
    page.fill("input[name=new_password]", "Brand new password 2")
    page.fill("input[name=confirm_password]", "Brand new password 2")
    page.get_by_role("button", name="Reset password").click()
    page.wait_for_load_state()
    assert page.locator("#recovery-done").is_visible()
    site.shot(page, "reset-done")

    # The link works once.
    page.goto(link)
    assert page.locator("input[name=new_password]").count() == 0
    site.shot(page, "link-reused")

    # The old password no longer works; the new one does.
    site.start_root_sign_in(page, account.email, "Old password 1", "old-password")
    assert page.locator("#error").is_visible()
    site.shot(page, "old-password-refused")
    account.password = "Brand new password 2"
    site.sign_in_root_with_mailed_code(page, account, "new-password")
    assert page.locator("#account-id").inner_text().strip() == account.formatted_id
    assert re.search(r"password", " ".join(m.subject.lower() for m in site.smtp.messages))
