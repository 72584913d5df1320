"""A personal profile in a real browser: sign-up with the code mailed over real SMTP, My details, sign out, and
sign in again (screenshots of each page in the artifacts directory)."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site

EMAIL = "Builder@Example.com"
PASSWORD = "Quiet-Harbor-42"


@pytest.mark.browser
def test_profile_sign_up_sign_out_and_sign_in_again(site: Site) -> None:
    page = site.new_browser()
    page.goto("/profile")
    site.shot(page, "profile-signin-start")
    assert page.locator("#account-signin-link").get_attribute("href") == "/"  # the account sign-in is elsewhere
    page.get_by_role("link", name="Create a personal profile").click()
    page.wait_for_url(f"{site.url}/profile/signup")
    page.fill("input[name=email]", EMAIL)
    site.shot(page, "signup-email")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/profile/signup/flow\?flow="))
    page.fill("input[name=name]", "Mei Builder")
    site.shot(page, "signup-name")
    page.get_by_role("button", name="Next").click()
    page.locator("#verification_code").wait_for()
    site.shot(page, "signup-verify")

    mail, code = site.smtp.wait_for("builder@example.com", r"verification code is: (\d{6})")
    assert mail.sender == "no-reply@vestibule.test"
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="Verify").click()
    page.locator("#confirm_password").wait_for()
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    site.shot(page, "signup-password")
    page.get_by_role("button", name="Create personal profile").click()
    page.wait_for_url(re.compile(r"/profile/details\?notice=welcome$"))
    site.shot(page, "my-details")
    assert page.locator("#notice").inner_text().strip() == "Your personal profile is ready. You are signed in."
    assert page.locator("#detail-name").inner_text().strip() == "Mei Builder"
    assert page.locator("#detail-email").inner_text().strip() == "builder@example.com"
    assert page.locator("#nav-details").get_attribute("aria-current") == "page"

    page.locator("#sign-out").click()
    page.wait_for_url(re.compile(r"/profile\?signed_out=1$"))
    site.shot(page, "signed-out")
    page.goto("/profile/details")
    page.wait_for_url(f"{site.url}/profile")  # signed out for real: back to the sign-in

    page.fill("input[name=email]", "builder@example.com")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/profile/signin\?flow="))
    page.fill("input[name=password]", PASSWORD)
    site.shot(page, "signin-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/profile/details\?notice=signed_in$"))
    site.shot(page, "signed-in-again")
    assert page.locator("#profile-name").inner_text().strip() == "Mei Builder"
    assert not [c for c in page.context.cookies() if c["name"] == "vestibule_session"]  # no console session
