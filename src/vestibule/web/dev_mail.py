"""The dev mailbox page: mail that would have been sent, when no SMTP server is configured.

It shows live sign-in codes and reset links, so it is served only to the machine itself: the server is
bound to a loopback address, the public URL is a loopback `http://` URL (an https or named public URL means
a proxy or other machines in front), and each request's Host is that URL's host and port (a proxy or a
rebound DNS name in front of a loopback server sends another one).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..services.mail import DevMailbox
from ..settings import Settings
from .rendering import render, web_of

PATH = "/_dev/mail"
_UNDELIVERED = "mail is not delivered, only announced in the log"
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


@dataclass(frozen=True)
class DevMailboxDecision:
    on: bool
    reason: str
    host: str = ""  # the Host header a request must carry, as `host:port`

    def log_line(self, settings: Settings) -> str:
        if self.on:
            return f"dev mailbox on at {settings.public_origin}{PATH} ({self.reason})"
        return f"dev mailbox off: {self.reason}"


def decide(settings: Settings, dev_mailer: bool, loopback_bound: bool) -> DevMailboxDecision:
    """Whether this server serves the dev mailbox at all, and why (said once at start-up); `dev_mailer`: mail
    goes to the in-memory dev mailbox (no SMTP configured)."""
    if not dev_mailer:
        return DevMailboxDecision(False, "mail goes to the SMTP server")
    if not settings.dev_mailbox:
        return DevMailboxDecision(False, f"VESTIBULE_DEV_MAILBOX is off; {_UNDELIVERED}")
    if not loopback_bound:
        return DevMailboxDecision(False, f"the server listens on a non-loopback address; {_UNDELIVERED}")
    host = loopback_http_host(settings.public_url)
    if host is None:
        return DevMailboxDecision(False, f"the public URL {settings.public_origin} is not a loopback http:// URL; "
                                         f"{_UNDELIVERED}")
    return DevMailboxDecision(True, "no SMTP configured, loopback server and public URL; "
                                    f"only for requests with Host {host}", host)


def loopback_http_host(public_url: str) -> str | None:
    """`host:port` of a loopback `http://` URL (127.0.0.0/8, ::1, localhost), else None."""
    try:
        parts = urlsplit(public_url)
        port = parts.port or 80
    except ValueError:
        return None
    name = (parts.hostname or "").lower()
    if parts.scheme != "http" or not name or not _is_loopback(name):
        return None
    return f"{_bracketed(name)}:{port}"


def host_matches(host_header: str, expected: str) -> bool:
    """The request's Host is the public URL's host and port (port 80 may be left out)."""
    host_header = host_header.strip()
    if not _HOST.fullmatch(host_header):
        return False
    try:
        parts = urlsplit(f"http://{host_header}")
        port = parts.port or 80
    except ValueError:
        return False
    name = (parts.hostname or "").lower()
    return bool(name) and f"{_bracketed(name)}:{port}" == expected


def _is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _bracketed(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def routes_for(decision: DevMailboxDecision) -> list[Route]:
    """The page's route when the mailbox is on (otherwise the path is not mounted and answers 404)."""
    if not decision.on:
        return []

    async def dev_mail(request: Request) -> Response:
        mailbox = web_of(request).deps.mailer
        if not isinstance(mailbox, DevMailbox) or not host_matches(request.headers.get("host", ""), decision.host):
            return render(request, "not_found.html", 404)
        return render(request, "dev_mail.html", messages=list(reversed(mailbox.messages)))

    return [Route(PATH, dev_mail, methods=["GET"])]
