"""When the dev mailbox is served: no SMTP, a loopback-bound server, a loopback http:// public URL, and per
request a Host that is that URL's host and port."""

from __future__ import annotations

import pytest

from vestibule.settings import Settings
from vestibule.web.dev_mail import decide, host_matches, loopback_http_host


@pytest.mark.parametrize(("url", "host"), [
    ("http://127.0.0.1:8080", "127.0.0.1:8080"),
    ("http://127.3.4.5", "127.3.4.5:80"),
    ("http://localhost:9000/", "localhost:9000"),
    ("http://LOCALHOST:9000", "localhost:9000"),
    ("http://[::1]:8080", "[::1]:8080"),
])
def test_loopback_http_public_urls(url: str, host: str) -> None:
    assert loopback_http_host(url) == host


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:8443", "https://localhost", "http://vestibule.example", "http://10.0.0.5:8080",
    "http://0.0.0.0:8080", "http://127.0.0.1.nip.io:8080", "http://localhost.evil.example", "http://[::1", "",
])
def test_other_public_urls_are_not_loopback_http(url: str) -> None:
    assert loopback_http_host(url) is None


@pytest.mark.parametrize(("header", "ok"), [
    ("127.0.0.1:8080", True), ("127.0.0.1:8080 ", True), ("localhost:8080", False), ("127.0.0.1:8081", False),
    ("127.0.0.1", False), ("evil.example", False), ("evil.example:8080", False), ("", False), ("[::1]:8080", False),
    ("127.0.0.1:8080@evil.example", False), ("127.0.0.1:notaport", False), ("127.0.0.1:8080/x", False),
    ("127.0.0.1:8080?", False), ("127.0.0.1:8080#", False),
])
def test_host_header_must_name_the_public_url(header: str, ok: bool) -> None:
    assert host_matches(header, "127.0.0.1:8080") is ok


def test_default_port_may_be_left_out() -> None:
    assert host_matches("localhost", "localhost:80") and host_matches("localhost:80", "localhost:80")
    assert host_matches("[::1]:8080", "[::1]:8080")


def test_decision_and_its_reason() -> None:
    local = Settings(public_url="http://127.0.0.1:8080")
    on = decide(local, True, loopback_bound=True)
    assert on.on and on.host == "127.0.0.1:8080"
    assert on.log_line(local) == ("dev mailbox on at http://127.0.0.1:8080/_dev/mail (no SMTP configured, loopback "
                                  "server and public URL; only for requests with Host 127.0.0.1:8080)")
    https = Settings(public_url="https://127.0.0.1:8443")
    off = decide(https, True, loopback_bound=True)
    assert not off.on and "https://127.0.0.1:8443 is not a loopback http:// URL" in off.log_line(https)
    assert not decide(local, True, loopback_bound=False).on
    assert not decide(local, False, loopback_bound=True).on, "SMTP configured"
    assert not decide(local.with_overrides(dev_mailbox=False), True, loopback_bound=True).on
