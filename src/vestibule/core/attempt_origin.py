"""Where a sign-in attempt came from, as a mail to the owner may tell it: the client's address and a summary of
its browser, each from a fixed vocabulary.

The user agent is text the client chose: a mail never quotes it (a crafted one could carry a link or a false
instruction into a mail that looks like ours). It is reduced to a known browser and system name, or nothing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), name) for p, name in (
    (r"\bEdg(?:e|A|iOS)?/", "Edge"),
    (r"\b(?:OPR|Opera)/", "Opera"),
    (r"\bSamsungBrowser/", "Samsung Internet"),
    (r"\bVivaldi/", "Vivaldi"),
    (r"\b(?:Firefox|FxiOS)/", "Firefox"),
    (r"\bHeadlessChrome/", "Headless Chrome"),
    (r"\b(?:Chrome|CriOS)/", "Chrome"),
    (r"\bChromium/", "Chromium"),
    (r"\bVersion/[0-9.]+ .*\bSafari/", "Safari"),
    (r"^curl/", "curl"),
    (r"^Wget/", "Wget"),
    (r"^(?:Boto3|Botocore|aws-cli|aws-sdk-[a-z]+)/", "an SDK or the command line"),
    (r"^python-(?:requests|httpx)/|^python-urllib", "a Python program"),
))
_SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), name) for p, name in (
    (r"\b(?:iPhone|iPad|iPod)\b", "iOS"),
    (r"\bAndroid\b", "Android"),
    (r"\bCrOS\b", "ChromeOS"),
    (r"\bWindows\b", "Windows"),
    (r"\bMac OS X\b|\bMacintosh\b", "macOS"),
    (r"\bLinux\b|\bX11\b", "Linux"),
))


@dataclass(frozen=True)
class AttemptOrigin:
    address: str  # the client's IP address in its normal form, or '' when the request had none
    browser: str  # a name from _BROWSERS, or ''
    system: str  # a name from _SYSTEMS, or ''

    @property
    def browser_label(self) -> str:
        """`Chrome / Windows`, `Firefox`, `Linux`, or '' (words a mail in any language can show as they are)."""
        return " / ".join(part for part in (self.browser, self.system) if part)

    def mail_values(self, at: float) -> dict[str, str]:
        """The variables a mail about this attempt shows: `client_address` and `browser` ('' when unknown: the
        template says so in its language) and `attempted_at` (UTC)."""
        return {"client_address": self.address, "browser": self.browser_label,
                "attempted_at": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _first(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str:
    return next((name for pattern, name in patterns if pattern.search(text)), "")


def describe(ip: str, user_agent: str) -> AttemptOrigin:
    """The origin of a request from `ip` (already the real client's, behind trusted proxies) with `user_agent`."""
    try:
        parsed = ipaddress.ip_address(ip.strip())
        mapped = parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else None
        address = str(mapped or parsed)
    except ValueError:
        address = ""
    text = user_agent[:512]
    return AttemptOrigin(address, _first(_BROWSERS, text), _first(_SYSTEMS, text))
