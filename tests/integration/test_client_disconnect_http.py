"""A client that hangs up in the middle of a form body: no traceback, no "unhandled error" in the log."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from support import LiveServer, csrf_of


def _truncated_post(url: str, path: str, cookie: str) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=5) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nOrigin: {url}\r\nCookie: {cookie}\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\nab").encode())
        time.sleep(0.2)  # the app is now waiting for the other 18 bytes; hang up


@pytest.mark.parametrize("path", ["/recovery", "/111122223333/console", "/"])
def test_a_truncated_form_body_logs_no_traceback(live_server: LiveServer, path: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        page = client.get("/recovery")
        csrf_of(page.text)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    with caplog.at_level(logging.INFO):
        _truncated_post(live_server.url, path, cookie)
        with httpx.Client(base_url=live_server.url) as client:
            assert client.get("/_health").status_code == 200  # the server is still serving
        time.sleep(0.3)
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not noisy, [r.getMessage() for r in noisy]
