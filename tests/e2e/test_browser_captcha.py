"""The CAPTCHA in Chromium: with JavaScript the page's worker solves the proof of work (default work, 2**22
hashes) and the form goes through without typing, also when it is sent before the proof is ready; without
JavaScript the image is shown and typing its text passes."""

from __future__ import annotations

import re
import statistics

import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site
from vestibule.web.i18n import Translator

t = Translator("en")
PASSWORD = "Correct horse battery 9"


def _fill_sign_up(page: Page, email: str) -> None:
    page.fill("input[name=email]", email)
    page.fill("input[name=account_name]", "Proof of work")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)


def _state(page: Page) -> str | None:
    return page.locator("fieldset.captcha").get_attribute("data-state")


@pytest.mark.browser
def test_with_javascript_the_proof_of_work_passes_without_typing(site: Site) -> None:
    page = site.new_browser()
    times = []
    for _ in range(5):  # each load is a new challenge; the worker says how long it took
        page.goto("/signup")
        page.wait_for_selector("fieldset.captcha[data-state=done]", timeout=60_000)
        times.append(int(page.locator("fieldset.captcha").get_attribute("data-solve-ms") or "0"))
    print(f"proof of work in Chromium: median {statistics.median(times)} ms of {sorted(times)}")
    assert page.locator("#captcha-pow").inner_text() == t("captcha.pow_done")
    assert page.locator("#captcha-image").is_visible()  # still there, for who prefers it
    site.shot(page, "proof-done")
    _fill_sign_up(page, "worker@example.com")
    assert page.locator("#captcha").input_value() == ""
    page.get_by_role("button", name="Verify email address").click()
    page.wait_for_url(re.compile(r"/signup/verify\?flow="))
    site.shot(page, "verify-email")


@pytest.mark.browser
def test_a_form_sent_before_the_proof_is_ready_waits_for_it(site: Site) -> None:
    page = site.new_browser()
    page.goto("/signup")
    _fill_sign_up(page, "hasty@example.com")
    assert _state(page) == "working"  # 2**22 hashes take far longer than filling four fields
    page.get_by_role("button", name="Verify email address").click()
    page.wait_for_url(re.compile(r"/signup/verify\?flow="), timeout=60_000)
    site.shot(page, "sent-early")


@pytest.mark.browser
def test_raised_risk_at_sign_in_is_passed_by_the_proof(site: Site) -> None:
    account = site.create_account("risky@example.com", "Right password 1")
    page = site.new_browser()
    for _ in range(3):
        site.start_root_sign_in(page, account.email, "Wrong password 0", "wrong")
        assert page.locator("#error").is_visible()
    page.goto("/")
    page.check("input[name=user_type][value=root]")
    page.fill("input[name=email]", account.email)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    assert page.locator("#captcha-image").is_visible()
    page.fill("input[name=password]", account.password)  # and no characters typed
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=verification_code]", timeout=60_000)
    site.shot(page, "past-the-captcha")


@pytest.mark.browser
def test_without_javascript_the_image_is_typed(site: Site) -> None:
    context = site.browser.new_context(base_url=site.url, java_script_enabled=False)
    site.contexts.append(context)
    page = context.new_page()
    page.goto("/signup")
    assert page.locator("#captcha-image").is_visible()
    assert page.locator("#captcha-pow").is_hidden()
    assert _state(page) is None
    _fill_sign_up(page, "no-script@example.com")
    page.fill("#captcha", site.live.captcha.latest)
    site.shot(page, "image-typed")
    page.get_by_role("button", name="Verify email address").click()
    page.wait_for_url(re.compile(r"/signup/verify\?flow="))
