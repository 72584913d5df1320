"""A session's browser as a person reads it ("Chrome 120 on Linux"), from its user agent.

Only names from `attempt_origin`'s fixed vocabulary and a major version made of digits reach the page, never the
user agent's own text (which the client chose)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .attempt_origin import describe

# The token whose number is the version of each browser name `attempt_origin` knows (first match wins there).
_VERSIONS: dict[str, re.Pattern[str]] = {name: re.compile(pattern) for name, pattern in {
    "Edge": r"\bEdg(?:e|A|iOS)?/(\d{1,4})(?![0-9])",
    "Opera": r"\b(?:OPR|Opera)/(\d{1,4})(?![0-9])",
    "Samsung Internet": r"\bSamsungBrowser/(\d{1,4})(?![0-9])",
    "Vivaldi": r"\bVivaldi/(\d{1,4})(?![0-9])",
    "Firefox": r"\b(?:Firefox|FxiOS)/(\d{1,4})(?![0-9])",
    "Headless Chrome": r"\bHeadlessChrome/(\d{1,4})(?![0-9])",
    "Chrome": r"\b(?:Chrome|CriOS)/(\d{1,4})(?![0-9])",
    "Chromium": r"\bChromium/(\d{1,4})(?![0-9])",
    "Safari": r"\bVersion/(\d{1,4})(?![0-9])",
}.items()}


@dataclass(frozen=True)
class BrowserName:
    browser: str  # a name from the fixed vocabulary, or '' (unknown)
    version: str  # its major version (digits), or ''
    system: str  # an operating system from the fixed vocabulary, or ''

    @property
    def known(self) -> bool:
        return bool(self.browser or self.system)


def browser_name(user_agent: str) -> BrowserName:
    """What `user_agent` says about the browser, reduced to known names and a number."""
    origin = describe("", user_agent)
    pattern = _VERSIONS.get(origin.browser)
    found = pattern.search(user_agent[:512]) if pattern is not None else None
    return BrowserName(origin.browser, found.group(1) if found else "", origin.system)
