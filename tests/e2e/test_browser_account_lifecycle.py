"""In Chromium: the root user closes the account (the warning, the password, the code mailed to the root email),
is signed out, and 89 days later (a clock the test moves) signs in again, gets the reopen page and reopens it;
an operator suspends an account and its IAM user, after the right password, sees the suspended page with the
contact, while a wrong password gets the usual answer."""

from __future__ import annotations

import re
import time

import pytest

from e2e.browser_support import Site
from support import on_live_server
from vestibule.services import account_lifecycle

DAY = 86400.0


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.browser
def test_close_and_reopen_within_90_days(site: Site) -> None:
    account = site.create_account("closing@example.com", "Root password 1", alias="closing-co")
    clock = _Clock()
    site.live.runtime.deps.clock = clock
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)

    page.goto("/console/security")
    page.click("#close-account-link")
    page.wait_for_url(re.compile(r"/console/close$"))
    assert page.locator("#close-warning").is_visible()
    assert "90 days" in page.locator("#close-warning").inner_text()
    site.shot(page, "close-warning")
    page.fill("#close-form input[name=password]", account.password)
    page.check("#confirm")
    mails_before = len(site.smtp.messages)
    page.click("#close-submit")
    page.wait_for_load_state()
    assert page.locator("#close-code-form").is_visible()
    site.shot(page, "close-code")
    _, code = site.smtp.wait_for(account.email, r"closing the account [\d-]+ is: (\d{6})", after=mails_before)
    page.fill("#verification_code", code)
    page.click("#close-code-submit")
    page.wait_for_load_state()
    assert page.locator("#account-closed").is_visible()
    site.shot(page, "closed")
    page.goto("/console")
    assert site.path_of(page) == "/"  # signed out

    clock.now += 89 * DAY
    mails_before = len(site.smtp.messages)
    site.start_root_sign_in(page, account.email, account.password, "reopen")
    assert page.locator("input[name=verification_code]").count() == 1  # the mailed code, even on this browser
    _, code = site.smtp.wait_for(account.email, r"verification code is: (\d{6})", after=mails_before)
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert page.locator("#reopen-form").is_visible()
    site.shot(page, "reopen-offer")
    page.click("#reopen-submit")
    page.wait_for_url(f"{site.url}/console")
    assert page.locator("#account-alias").inner_text() == "closing-co"
    site.shot(page, "reopened")


@pytest.mark.browser
def test_suspended_account_page(site: Site) -> None:
    account = site.create_account("suspended@example.com", "Root password 1", alias="paused-co")
    site.create_iam_user(account, "dana", "Dana password 1", reset_required=False)
    on_live_server(site.live, account_lifecycle.suspend(site.live.runtime.deps, account.account_id,
                                                        reason="abuse report 42", contact="help@operator.example"))
    page = site.new_browser()
    page.goto("/paused-co/console")
    page.fill("input[name=username]", "dana")
    page.fill("input[name=password]", "not the password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "suspended" not in page.content().lower()
    assert page.locator("#error").is_visible()
    site.shot(page, "wrong-password")

    page.fill("input[name=username]", "dana")
    page.fill("input[name=password]", "Dana password 1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.locator("#account-suspended").is_visible()
    assert page.locator("#suspended-contact a").inner_text() == "help@operator.example"
    assert "abuse report" not in page.content()
    site.shot(page, "suspended")

    # the root user, in Traditional Chinese: the same page in that language
    page = site.new_browser(locale="zh-TW")
    page.goto("/?root=1")
    page.check("input[name=user_type][value=root]")
    page.fill("input[name=email]", account.email)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.fill("input[name=password]", account.password)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("#account-suspended").inner_text() == "帳戶已停權"
    assert page.locator("#suspended-contact a").inner_text() == "help@operator.example"
    site.shot(page, "suspended-zh-TW")
