"""Lost root MFA in Chromium: the recovery codes shown once with the first device, then a sign-in without the
device ("Trouble signing in?", the link mailed over SMTP, a recovery code), the notice mail, and the console's
prompt to register a new device, which is then added."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from e2e.browser_support import Site


@pytest.mark.browser
def test_lost_root_mfa_with_the_mailed_link_and_a_recovery_code(site: Site) -> None:
    account = site.create_account("lost-device@example.com", "Root password 1")
    page = site.new_browser()
    site.sign_in_root_with_mailed_code(page, account)
    site.add_virtual_mfa(page, "old-phone", account.password, "first-device")
    codes = [c.strip() for c in page.locator("#recovery-codes .recovery-code").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", c) for c in codes), codes
    assert page.locator("#codes-once").is_visible() and page.locator("#download-codes").is_visible()
    page.locator("#recovery-codes-section").scroll_into_view_if_needed()
    site.shot(page, "codes-shown-once")
    page.reload()
    assert page.locator("#recovery-codes .recovery-code").count() == 0, "shown once"
    assert "10" in page.locator("#codes-left").inner_text()
    site.shot(page, "codes-left")
    site.sign_out(page)

    # The device is lost: a new browser, the password, then "Trouble signing in?".
    fresh = site.new_browser()
    site.start_root_sign_in(fresh, account.email, account.password, "lost")
    assert fresh.locator("input[name=mfa_code]").count() == 1, fresh.content()
    site.shot(fresh, "lost-mfa-step")
    fresh.click("#trouble-signing-in")
    fresh.wait_for_url(re.compile(r"/signin/recover\?flow="))
    site.shot(fresh, "lost-trouble-page")
    mails_before = len(site.smtp.messages)
    fresh.click("#send-recovery-link")
    fresh.wait_for_url(re.compile(r"/signin/recover/sent\?flow="))
    assert fresh.locator("#recovery-mfa-sent").is_visible()
    site.shot(fresh, "lost-link-sent")
    mail, link = site.smtp.wait_for(account.email, r"(http://\S+/signin/recover/link\?flow=\S+&token=\S+)",
                                    after=mails_before)
    assert link.startswith(site.url + "/signin/recover/link?") and account.formatted_id in mail.body

    # The link opened in another browser is refused.
    other = site.new_browser()
    other.goto(link)
    assert other.locator("input[name=recovery_code]").count() == 0
    assert other.locator("#error").is_visible()
    site.shot(other, "lost-link-other-browser")

    fresh.goto(link)
    assert fresh.locator("input[name=recovery_code]").is_visible()
    site.shot(fresh, "lost-code-form")
    fresh.fill("input[name=recovery_code]", "AAAA-BBBB-CCCC-DDDD")
    fresh.click("#submit-recovery-code")
    fresh.wait_for_load_state()
    assert fresh.locator("#error").is_visible()
    site.shot(fresh, "lost-wrong-code")
    fresh.fill("input[name=recovery_code]", codes[0].lower())  # case does not matter
    notices_before = len(site.smtp.messages)
    fresh.click("#submit-recovery-code")
    fresh.wait_for_url(f"{site.url}/console/mfa/recovered")
    assert fresh.locator("#recovered-banner").is_visible()
    assert "9" in fresh.locator("#codes-left").inner_text()
    assert "old-phone" in fresh.locator("#old-devices").inner_text()
    site.shot(fresh, "lost-new-device-prompt")
    notice, _ = site.smtp.wait_for(account.email, r"(without the MFA\s+device)", after=notices_before)
    assert codes[0] not in notice.body

    # The prompt's button adds the replacement device (the password is asked again), then the lost one goes.
    fresh.click("#register-new-device")
    site.confirm_password_if_asked(fresh, account.password, "lost-new-device")
    fresh.wait_for_url(re.compile(r"/console/mfa/new\?flow="))
    secret = fresh.locator("#mfa-secret").get_attribute("data-secret")
    assert secret
    now = time.time()
    totp = pyotp.TOTP(secret)
    fresh.fill("#device_name", "new-phone")
    fresh.fill("#mfa_code", totp.at(now - 30))
    fresh.fill("#mfa_code_2", totp.at(now))
    fresh.get_by_role("button", name="Add MFA").click()
    fresh.wait_for_url(re.compile(r"/console/security\?notice=mfa\.added"))
    assert fresh.locator("#recovery-codes .recovery-code").count() == 0, "not a first device: no new codes"
    assert "new-phone" in fresh.content()
    site.shot(fresh, "lost-replacement-added")
