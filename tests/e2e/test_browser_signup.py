"""Sign-up in a real browser, with the CAPTCHA and the code mailed over real SMTP."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_sign_up_with_captcha_and_mailed_code_lands_on_console(site: Site) -> None:
    page = site.new_browser()
    page.goto("/")
    site.shot(page, "signin-start")
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url(f"{site.url}/signup")
    assert page.locator("#captcha-image").is_visible()
    page.fill("input[name=email]", "Founder@Example.com")
    page.fill("input[name=account_name]", "Founder's sandbox")
    page.fill("input[name=password]", "Correct horse battery 9")
    page.fill("input[name=confirm_password]", "Correct horse battery 9")
    page.fill("input[name=captcha]", site.live.captcha.latest)
    site.shot(page, "signup-form")
    page.get_by_role("button", name="Verify email address").click()
    page.wait_for_url(re.compile(r"/signup/verify\?flow="))
    site.shot(page, "verify-email")

    mail, code = site.smtp.wait_for("founder@example.com", r"verification code is: (\d{6})")
    assert mail.sender == "no-reply@vestibule.test"
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="Verify and create account").click()
    page.wait_for_url(re.compile(r"/console(\?welcome=1)?$"))
    site.shot(page, "console")

    account_id = page.locator("#account-id").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", account_id), account_id
    digits = account_id.replace("-", "")
    assert page.locator("#principal-arn").inner_text().strip() == f"arn:aws:iam::{digits}:root"
    assert page.locator("#signed-in-as").inner_text().strip() == "Root user"
