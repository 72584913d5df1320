"""The loopback redirect listener of the PKCE flow (RFC 8252 7.3): an HTTP server on 127.0.0.1 with a port the
system picks, that takes one `GET /oauth/callback?code=...&state=...` whose `state` is ours and answers the
browser with a small page. A request with another state is refused and does not end the wait."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH = "/oauth/callback"
REGISTERED_REDIRECT_URI = f"http://127.0.0.1{CALLBACK_PATH}"  # what RegisterClient is given (any port matches)


@dataclass(frozen=True)
class Callback:
    """The authorization server's answer: a code, or an error (`access_denied` when the user chose Deny)."""

    code: str | None
    error: str | None
    error_description: str | None = None


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#16191f}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    listener: LoopbackListener


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "vestibule-sso-login"
    sys_version = ""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != CALLBACK_PATH:
            self._answer(404, "Not found", "This address only takes the sign-in callback.")
            return
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        status, title, text = self.server.listener.offer(query)
        try:
            self._answer(status, title, text)
        finally:  # the terminal goes on (and may exit) only once the browser has its whole page
            self.server.listener.settle()

    def _answer(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=escape(title), text=escape(text)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the terminal is the user's, not a log
        return


class LoopbackListener:
    """`with LoopbackListener(state) as listener:` serves in a thread; `redirect_uri` has the port;
    `wait(timeout)` returns the first callback with our state, or None at the timeout."""

    def __init__(self, state: str, host: str = "127.0.0.1") -> None:
        self._state = state
        self._result: Callback | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.listener = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="sso-loopback", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def offer(self, query: dict[str, str]) -> tuple[int, str, str]:
        """Take a callback's parameters; answers the page to show (status, title, text)."""
        state = query.get("state", "")
        if not hmac.compare_digest(state.encode("utf-8"), self._state.encode("utf-8")):
            return (400, "Sign-in not accepted",
                    "This answer does not belong to the sign-in waiting in your terminal. Start it again there.")
        with self._lock:
            if self._result is not None:
                return 409, "Already done", "This sign-in has already finished. You can close this window."
            code, error = query.get("code") or None, query.get("error") or None
            if code is None and error is None:
                return 400, "Sign-in not accepted", "The answer carries neither a code nor an error."
            self._result = Callback(None if error else code, error, query.get("error_description") or None)
        if error == "access_denied":
            return 200, "Sign-in denied", "You chose Deny. The terminal does not get access. You can close this window."
        if error:
            return 200, "Sign-in failed", f"The sign-in failed ({error}). See your terminal."
        return 200, "Signed in", "You can close this window and return to your terminal."

    def settle(self) -> None:
        """Called once a callback's page has been written: from then on `wait` returns the result."""
        with self._lock:
            if self._result is not None:
                self._done.set()

    def wait(self, timeout: float) -> Callback | None:
        self._done.wait(timeout)
        return self._result
