"""MFA devices on Security credentials in Chromium: an IAM user adds a device, signs in with it (the device's
"last used" appears), renames it, resyncs it with two consecutive codes from pyotp, and is warned before removing
the last one."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site
from vestibule.web.i18n import Translator

t = Translator("en")
PASSWORD = "Alice password 1"


@pytest.mark.browser
def test_rename_resync_last_used_and_the_last_device_warning(site: Site) -> None:
    account = site.create_account("devices@example.com", "Root password 1", alias="devices-e2e")
    site.create_iam_user(account, "alice", PASSWORD, reset_required=False)
    page = site.new_browser()
    _sign_in(site, page, None, "signin")
    secret, last_step = site.add_virtual_mfa(page, "alice-phone", PASSWORD)
    row = page.locator("#mfa-devices tbody tr").first
    assert row.locator(".mfa-last-used").inner_text().strip() == t("mfa_devices.never_used")
    assert page.locator("#mfa-replace-hint").is_visible()
    site.sign_out(page)

    # signing in with the device sets its last use
    totp = pyotp.TOTP(secret)
    page = site.new_browser()
    _sign_in(site, page, totp.at((last_step + 1) * 30), "mfa-signin")
    page.click("#security-link")
    row = page.locator("#mfa-devices tbody tr").first
    last_used = row.locator(".mfa-last-used").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", last_used), last_used
    site.shot(page, "last-used")

    # rename: the device's page, the password typed in the form itself
    row.locator(".mfa-device-name").click()
    page.wait_for_url(re.compile(r"/console/mfa/device\?serial="))
    assert page.locator("#device-last-used").inner_text().strip() == last_used
    serial = page.locator("#device-serial").inner_text().strip()
    page.fill("#device_label", "Alice's phone (work)")
    page.fill("#rename-password", PASSWORD)
    site.shot(page, "rename")
    page.click("#rename-submit")
    page.wait_for_url(re.compile(r"/console/security\?notice=mfa\.renamed"))
    row = page.locator("#mfa-devices tbody tr").first
    assert row.locator(".mfa-device-name").inner_text().strip() == "Alice's phone (work)"
    assert serial in row.inner_text(), "the identifier stays"
    site.shot(page, "renamed")

    # resync: two consecutive codes; the password was confirmed a moment ago, so it is not asked
    row.locator(".mfa-device-name").click()
    page.wait_for_url(re.compile(r"/console/mfa/device\?serial="))
    assert page.locator("#resync-password").count() == 0
    page.fill("#mfa_code", "123456")
    page.fill("#mfa_code_2", "654321")
    page.click("#resync-submit")
    page.wait_for_load_state()
    assert page.locator("#error").inner_text().strip() == t("mfa_devices.resync_failed")
    site.shot(page, "resync-refused")
    now = time.time()
    page.fill("#mfa_code", totp.at(now - 30))
    page.fill("#mfa_code_2", totp.at(now))
    page.click("#resync-submit")
    page.wait_for_url(re.compile(r"/console/security\?notice=mfa\.resynced"))
    assert page.locator("#notice").inner_text().strip() == t("notice.mfa.resynced")
    site.shot(page, "resynced")

    # removing the last device: a warning first, then removed on confirmation
    page.click("#remove-mfa-1")
    page.wait_for_load_state()
    warning = page.locator("#last-device-warning")
    assert warning.is_visible()
    assert t("mfa_devices.last_iam") in warning.inner_text()
    assert "Alice's phone (work)" in warning.inner_text()
    site.shot(page, "last-device-warning")
    page.click("#keep-device")
    page.wait_for_url(f"{site.url}/console/security")
    assert page.locator("#mfa-devices tbody tr").count() == 1, "keeping it removes nothing"
    page.click("#remove-mfa-1")
    page.wait_for_load_state()
    page.click("#remove-last-confirm")
    page.wait_for_url(re.compile(r"/console/security\?notice=mfa\.removed"))
    assert page.locator("#no-mfa").is_visible()
    site.shot(page, "removed")


def _sign_in(site: Site, page: Page, mfa_code: str | None, step: str) -> None:
    page.goto("/devices-e2e/console")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    site.solve_captcha_if_shown(page)
    page.get_by_role("button", name="Sign in").click()
    if mfa_code is not None:
        page.wait_for_url(re.compile(r"/signin\?flow="))
        site.shot(page, f"{step}-mfa")
        page.fill("input[name=mfa_code]", mfa_code)
        page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"{site.url}/console")
    site.shot(page, f"{step}-console")
