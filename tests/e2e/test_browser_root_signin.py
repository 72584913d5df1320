"""Root user sign-in with the mailed verification code, and sign-out ending the session."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_root_sign_in_from_new_browser_with_mailed_code(site: Site) -> None:
    account = site.create_account("owner@example.com", "Root password 1", alias="owner-corp")
    page = site.new_browser()
    # The start page shows only the field of the chosen user type.
    page.goto("/")
    page.check("#user_type_iam")
    assert page.locator("#account").is_visible() and page.locator("#email").is_hidden()
    site.shot(page, "iam-user-chosen")
    page.check("#user_type_root")
    assert page.locator("#email").is_visible() and page.locator("#account").is_hidden()

    site.sign_in_root_with_mailed_code(page, account)
    assert page.locator("#account-id").inner_text().strip() == account.formatted_id
    assert page.locator("#account-alias").inner_text().strip() == "owner-corp"
    assert page.locator("#principal-arn").inner_text().strip() == f"arn:aws:iam::{account.account_id}:root"
    mail = next(m for m in site.smtp.messages if "owner@example.com" in m.to)
    assert account.formatted_id in mail.body


@pytest.mark.browser
def test_sign_out_ends_the_server_side_session(site: Site) -> None:
    account = site.create_account("leaver@example.com", "Root password 1")
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)
    old_cookies = page.context.cookies()
    assert any(c.get("name") == "vestibule_session" and c.get("value") for c in old_cookies)

    site.sign_out(page)
    assert page.locator("#signed-out").is_visible()
    site.shot(page, "signed-out")
    assert not any(c.get("name") == "vestibule_session" for c in page.context.cookies())

    page.goto("/console")
    assert site.path_of(page) == "/"
    site.shot(page, "console-after-sign-out")

    # Someone who kept a copy of the old cookie gets the sign-in page, not the console.
    other = site.new_browser()
    other.context.add_cookies([{"name": c["name"], "value": c["value"], "url": site.url}
                               for c in old_cookies if "name" in c and "value" in c])
    other.goto("/console")
    assert site.path_of(other) == "/"
    assert other.locator("input[name=user_type]").count() == 2
    site.shot(other, "old-cookie-replayed")
    assert not re.search(account.formatted_id, other.content())
