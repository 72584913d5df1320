"""Mail language in a real browser over real SMTP: a browser whose language is Traditional Chinese signs up
and gets the code in Chinese; later an English browser asks for a reset link for that address, and the link
still comes in the root user's Chinese (a page anyone can use never changes it)."""

from __future__ import annotations

import re

import pytest

from e2e.browser_support import Site

PASSWORD = "Correct horse battery 9"


@pytest.mark.browser
def test_a_chinese_sign_up_gets_chinese_mail_and_keeps_it(site: Site) -> None:
    page = site.new_browser(locale="zh-TW")
    page.goto("/signup")
    page.fill("input[name=email]", "lin@example.com")
    page.fill("input[name=account_name]", "林的帳戶")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    page.fill("input[name=captcha]", site.live.captcha.latest)
    page.get_by_role("button", name="驗證電子郵件地址").click()
    page.wait_for_url(re.compile(r"/signup/verify\?flow="))
    mail, code = site.smtp.wait_for("lin@example.com", r"您的驗證碼是：(\d{6})")
    assert mail.subject == "驗證您在 Vestibule 的電子郵件地址"
    site.shot(page, "signup-verify-zh-tw")
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="驗證並建立帳戶").click()
    page.wait_for_url(re.compile(r"/console(\?welcome=1)?$"))

    before = len(site.smtp.messages)
    english = site.new_browser(locale="en-US")
    english.goto("/recovery")
    english.fill("input[name=email]", "lin@example.com")
    english.fill("input[name=captcha]", site.live.captcha.latest)
    english.get_by_role("button", name="Send reset link").click()
    english.wait_for_load_state()
    link_mail, link = site.smtp.wait_for("lin@example.com", r"(http://\S+/recovery/reset\?token=\S+)", after=before)
    assert link_mail.subject == "重設您的 Vestibule 根使用者密碼" and "一小時內" in link_mail.body
    assert link.startswith(site.url)
