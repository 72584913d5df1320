"""Finding the account in Chromium: a link with `?account=` fills in the IAM user's sign-in, and the console's
copy button puts the IAM sign-in URL on the clipboard (and is absent without JavaScript)."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_account_link_fills_in_and_the_console_copies_the_sign_in_url(site: Site) -> None:
    account = site.create_account("finder@example.com", "Root password 1", alias="finder-co")
    site.create_iam_user(account, "bob", "Bob password 1", reset_required=False)

    # the root user copies the URL from the console home page
    page = site.new_browser()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    site.sign_in_root_with_mailed_code(page, account, "root")
    url = page.locator("#signin-url").inner_text().strip()
    assert url == f"{site.url}/finder-co/console"
    button = page.get_by_role("button", name="Copy")
    assert button.is_visible()
    button.click()
    page.wait_for_function("document.getElementById('copy-signin-url-status').textContent.length > 0")
    assert page.locator("#copy-signin-url-status").inner_text() == "Copied to the clipboard."
    assert page.evaluate("navigator.clipboard.readText()") == url
    site.shot(page, "console-copied")

    # the copied URL signs an IAM user in on another computer
    other = site.new_browser()
    other.goto(url.removeprefix(site.url))
    assert other.locator("input[name=account]").input_value() == "finder-co"

    # a link to the start page with ?account= fills the IAM user's choice in, and Next goes on to its form
    other.goto(f"/?account={account.formatted_id}")
    assert other.locator("#user_type_iam").is_checked()
    assert other.locator("input#account").is_visible() and not other.locator("input#email").is_visible()
    assert other.locator("input#account").input_value() == account.account_id
    site.shot(other, "start-filled-in")
    other.get_by_role("button", name="Next").click()
    other.wait_for_url(f"{site.url}/{account.account_id}/console")
    other.fill("input[name=username]", "bob")
    other.fill("input[name=password]", "Bob password 1")
    site.solve_captcha_if_shown(other)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url(f"{site.url}/console")
    assert other.locator("#signed-in-as").inner_text().strip() == "bob"

    # a bad value is not filled in: the root user's choice stays, the field is empty
    fresh = site.new_browser()
    fresh.goto("/?account=%3Cb%3Ex")
    assert fresh.locator("#user_type_root").is_checked()
    assert fresh.locator("input#account").input_value() == ""

    # the start page's network help: the origin a firewall must allow and how to check it
    fresh.get_by_role("link", name="Cannot reach a Vestibule page, or codes do not arrive?").click()
    fresh.wait_for_url(f"{site.url}/help/network")
    assert fresh.locator("#need-origin code").first.inner_text() == "127.0.0.1"
    assert fresh.locator("#check-command").inner_text() == f"curl -fsS {site.url}/healthz"
    site.shot(fresh, "network-help")


@pytest.mark.browser
def test_without_clipboard_access_the_url_is_selected_and_copied(site: Site) -> None:
    """Plain-http origins have no `navigator.clipboard`: the button falls back to selecting the text."""
    account = site.create_account("plain@example.com", "Root password 1")
    page = site.new_browser()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    site.sign_in_root_with_mailed_code(page, account, "root")
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    page.reload()
    assert page.evaluate("navigator.clipboard === undefined")
    page.get_by_role("button", name="Copy").click()
    page.wait_for_function("document.getElementById('copy-signin-url-status').textContent.length > 0")
    assert page.evaluate("window.getSelection().toString().trim()") == f"{site.url}/{account.account_id}/console"
    reader = page.context.new_page()
    reader.goto("/console")
    assert reader.evaluate("navigator.clipboard.readText()") == f"{site.url}/{account.account_id}/console"


@pytest.mark.browser
def test_without_javascript_the_url_is_text_and_no_button_shows(site: Site) -> None:
    account = site.create_account("nojs@example.com", "Root password 1", alias="nojs-co")
    context = site.browser.new_context(base_url=site.url, java_script_enabled=False)
    site.contexts.append(context)
    page = context.new_page()
    site.sign_in_root_with_mailed_code(page, account, "root")
    assert page.locator("#signin-url").inner_text().strip() == f"{site.url}/nojs-co/console"
    assert not page.locator("#copy-signin-url").is_visible()
    site.shot(page, "console-without-javascript")
    assert re.search(r"Give this URL to the IAM users", page.content())
