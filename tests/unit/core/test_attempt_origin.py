"""Where an attempt came from, as a mail tells it: a normal IP address and a browser from a fixed vocabulary,
never the client's own user-agent text."""

from __future__ import annotations

import pytest

from vestibule.core.attempt_origin import describe

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")
EDGE = CHROME_WINDOWS + " Edg/131.0.0.0"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/18.1 Safari/605.1.15")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.1 Mobile/15E148 Safari/604.1")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Mobile Safari/537.36")


@pytest.mark.parametrize(("agent", "label"), [
    (CHROME_WINDOWS, "Chrome / Windows"),
    (EDGE, "Edge / Windows"),
    (FIREFOX_LINUX, "Firefox / Linux"),
    (SAFARI_MAC, "Safari / macOS"),
    (SAFARI_IPHONE, "Safari / iOS"),
    (CHROME_ANDROID, "Chrome / Android"),
    ("curl/8.5.0", "curl"),
    ("Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux", "an SDK or the command line"),
    ("", ""),
    ("Totally legit", ""),
])
def test_browser_names_come_from_a_fixed_list(agent: str, label: str) -> None:
    assert describe("203.0.113.7", agent).browser_label == label


def test_the_user_agent_text_itself_never_reaches_the_mail() -> None:
    crafted = "Chrome/1 Windows -- your account is locked, call +1 555 0100 or visit https://evil.example/"
    origin = describe("203.0.113.7", crafted)
    values = origin.mail_values(0)
    assert values["browser"] == "Chrome / Windows"
    assert not any("evil" in v or "555" in v for v in values.values())


@pytest.mark.parametrize(("ip", "shown"), [
    ("203.0.113.7", "203.0.113.7"),
    (" 198.51.100.2 ", "198.51.100.2"),
    ("2001:0db8:0000::0001", "2001:db8::1"),
    ("::ffff:192.0.2.5", "192.0.2.5"),
    ("", ""),
    ("testclient", ""),
    ("1.2.3.4\nBcc: x@example.com", ""),
])
def test_addresses_are_normal_ip_addresses_or_nothing(ip: str, shown: str) -> None:
    assert describe(ip, "").address == shown


def test_mail_values() -> None:
    assert describe("203.0.113.7", FIREFOX_LINUX).mail_values(1_780_000_000) == {
        "client_address": "203.0.113.7", "browser": "Firefox / Linux", "attempted_at": "2026-05-28 20:26 UTC"}
