"""A session's browser as the Security page names it: known names and a major version, never the agent's text."""

from __future__ import annotations

import pytest

from vestibule.core.browser_names import BrowserName, browser_name


@pytest.mark.parametrize(("agent", "expected"), [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36",
     BrowserName("Chrome", "120", "Linux")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
     BrowserName("Firefox", "121", "Windows")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.2210.61", BrowserName("Edge", "120", "Windows")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
     "Safari/605.1.15", BrowserName("Safari", "17", "macOS")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/119.0 "
     "Mobile/15E148 Safari/604.1", BrowserName("Chrome", "119", "iOS")),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 "
     "Safari/537.36", BrowserName("Headless Chrome", "156", "Linux")),
    ("curl/8.5.0", BrowserName("curl", "", "")),
    ("", BrowserName("", "", "")),
    ("<a href='https://evil.example'>click</a> Chrome/99999999", BrowserName("Chrome", "", "")),
])
def test_known_names_and_a_short_version_only(agent: str, expected: BrowserName) -> None:
    assert browser_name(agent) == expected


def test_known_means_a_browser_or_a_system() -> None:
    assert not browser_name("something else").known
    assert browser_name("Mozilla/5.0 (X11; Linux x86_64)").known
