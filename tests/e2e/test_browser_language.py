"""The language switch turns the pages to Traditional Chinese and back."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site

ZH_TW = re.compile(r"^zh-(Hant-)?TW$")


@pytest.mark.browser
def test_language_switch_to_traditional_chinese_and_back(site: Site) -> None:
    page = site.new_browser(locale="en-US")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    english_heading = page.locator("h1").inner_text()
    english_button = page.locator("form.card button[type=submit]").inner_text()
    site.shot(page, "english")

    page.get_by_role("link", name="繁體中文").click()
    page.wait_for_load_state()
    lang = page.locator("html").get_attribute("lang") or ""
    assert ZH_TW.match(lang), lang
    assert page.locator("h1").inner_text() != english_heading
    assert page.locator("form.card button[type=submit]").inner_text() != english_button
    site.shot(page, "traditional-chinese")

    # The choice sticks for the next pages.
    page.goto("/signup")
    assert ZH_TW.match(page.locator("html").get_attribute("lang") or "")
    site.shot(page, "signup-traditional-chinese")

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    site.shot(page, "english-again")


@pytest.mark.browser
def test_accept_language_zh_tw_picks_traditional_chinese(site: Site) -> None:
    page = site.new_browser(locale="zh-TW")
    page.goto("/")
    assert ZH_TW.match(page.locator("html").get_attribute("lang") or "")
    site.shot(page, "accept-language-zh-tw")
