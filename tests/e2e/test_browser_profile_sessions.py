"""A personal profile in Chromium: signed in from two browsers (two contexts), My details edited, the Security
page lists both signed-in devices with this one marked, and "Delete all active sessions" from the first ends
both: each lands on the sign-in page at its next request (screenshots in the artifacts directory)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site, run_async
from profile_steps import make_profile
from vestibule.runtime import Runtime

EMAIL = "two-browsers@example.com"
PASSWORD = "Quiet-Harbor-42"


def _sign_in(site: Site, page: Page, step: str) -> None:
    page.goto("/profile")
    page.fill("input[name=email]", EMAIL)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/profile/signin\?flow="))
    page.fill("input[name=password]", PASSWORD)
    site.shot(page, f"{step}-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/profile/details(\?.*)?$"))


@pytest.mark.browser
def test_delete_all_active_sessions_signs_out_both_browsers(site: Site) -> None:
    async def work(rt: Runtime) -> str:
        return await make_profile(rt, email=EMAIL, name="Mei Two", password=PASSWORD)

    run_async(site.settings, work)
    first = site.new_browser()
    _sign_in(site, first, "first")
    site.shot(first, "my-details")
    first.click("#edit-profile")
    first.wait_for_url(f"{site.url}/profile/details/edit")
    first.fill("#nickname", "Mei")
    first.click("#save-profile")
    first.wait_for_url(re.compile(r"/profile/details\?notice=saved$"))
    assert first.locator("#notice").inner_text().strip() == "Your profile has been updated."
    assert first.locator("#detail-nickname").inner_text().strip() == "Mei"
    site.shot(first, "details-saved")

    second = site.new_browser()
    _sign_in(site, second, "second")

    first.click("#nav-security")
    first.wait_for_url(f"{site.url}/profile/security")
    sessions = first.locator("#sessions-table tr.session")
    assert sessions.count() == 2
    assert first.locator('#sessions-table tr.session[data-current="1"]').count() == 1
    assert "Headless Chrome" in first.locator(".session-browser").first.inner_text()  # a browser, not a raw agent
    site.shot(first, "security")

    first.click("#delete-all")
    first.wait_for_url(f"{site.url}/profile/security/sessions/delete-all")
    words = first.locator("#delete-all-words").inner_text().strip()
    assert words == "delete all"
    first.fill("#confirm_words", "delete everything")
    first.click("#delete-all-submit")
    first.wait_for_load_state()
    assert first.locator("#error").is_visible()  # the wrong words end nothing
    site.shot(first, "delete-all-wrong-words")
    second.reload()
    assert "/profile/details" in second.url and second.locator("#detail-name").is_visible()
    first.fill("#confirm_words", words)
    site.shot(first, "delete-all-confirm")
    first.click("#delete-all-submit")
    first.wait_for_url(re.compile(r"/profile\?signed_out=1$"))
    site.shot(first, "signed-out")

    for page, step in ((second, "second-after"), (first, "first-after")):
        page.goto("/profile/security")
        page.wait_for_url(f"{site.url}/profile")  # the sign-in page: the session has ended
        assert page.locator("input[name=email]").is_visible()
        site.shot(page, step)
