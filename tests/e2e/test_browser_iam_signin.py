"""IAM user sign-in through /{alias}/console with a forced password change."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_iam_user_signs_in_through_alias_url_and_must_change_password(site: Site) -> None:
    account = site.create_account("admin@example.com", "Root password 1", alias="acme-e2e")
    site.create_iam_user(account, "alice", "First password 1", reset_required=True)

    page = site.new_browser()
    page.goto("/acme-e2e/console")
    assert page.locator("input[name=account]").input_value() == "acme-e2e"
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "First password 1")
    site.solve_captcha_if_shown(page)
    site.shot(page, "iam-signin")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    assert page.locator("input[name=new_password]").count() == 1, page.content()
    site.shot(page, "forced-password-change")

    # Skipping the change does not give a session.
    flow_url = page.url
    page.goto("/console")
    assert site.path_of(page) != "/console"
    page.goto(flow_url)

    page.fill("input[name=new_password]", "Second password 2")
    page.fill("input[name=confirm_password]", "Second password 2")
    page.get_by_role("button", name="Confirm password change").click()
    page.wait_for_url(f"{site.url}/console")
    site.shot(page, "console")
    assert page.locator("#principal-arn").inner_text().strip() == f"arn:aws:iam::{account.account_id}:user/alice"
    assert page.locator("#signed-in-as").inner_text().strip() == "alice"
    assert page.locator("#account-id").inner_text().strip() == account.formatted_id
    assert page.locator("#signin-url").inner_text().strip() == f"{site.url}/acme-e2e/console"
