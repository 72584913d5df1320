"""The HTTP/1.1 protocol `vestibule serve` runs: uvicorn's httptools protocol with limits on the request head.

httptools itself bounds neither the request line nor the headers (a 32 MiB header or 2,000 headers were read,
buffered and handed on), and uvicorn's `h11_max_incomplete_event_size` applies to h11 only. This protocol counts
the bytes of each request head as they arrive and its headers once they are parsed, and answers
`431 Request Header Fields Too Large` (and closes the connection) as soon as either is over its limit, so a
connection never holds more than one limit plus one socket read. Bodies are bounded by the app: AWS requests in
`wire/front.py`, forms in `web/security.py`.

Slow clients are bounded in time too (uvicorn has no such limit; its keep-alive timeout covers only idle
connections between requests): a connection that has not finished a request head within
`VESTIBULE_HTTP_HEAD_TIMEOUT_SECONDS` (default 20) of opening or of starting the head, or a request body within
`VESTIBULE_HTTP_BODY_TIMEOUT_SECONDS` (default 60) of its head, is closed. One sweep per process and second looks
at every connection, so the request path only notes a time when a head completes.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

MAX_HEAD_BYTES = 64 * 1024  # request line and headers together
MAX_HEADERS = 100


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds (got {raw!r})") from None
    if not 0.5 <= value <= 3600:
        raise SystemExit(f"{name} must be between 0.5 and 3600 seconds (got {raw!r})")
    return value


HEAD_TIMEOUT = _seconds("VESTIBULE_HTTP_HEAD_TIMEOUT_SECONDS", 20.0)
BODY_TIMEOUT = _seconds("VESTIBULE_HTTP_BODY_TIMEOUT_SECONDS", 60.0)
_SWEEP_EVERY = min(1.0, HEAD_TIMEOUT / 2, BODY_TIMEOUT / 2)
_swept: weakref.WeakSet[ServerState] = weakref.WeakSet()  # servers whose connections are swept

_MESSAGE = b"Request header fields too large.\n"
_REFUSAL = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_MESSAGE), _MESSAGE))


class HeadTooLarge(Exception):
    """Raised inside a parser callback: the head has more headers than MAX_HEADERS."""


class DuplicateHost(Exception):
    """Raised inside a parser callback: the head has more than one Host header (answered 400)."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Two checks on the request path, kept cheap (a signed GetCallerIdentity is benchmarked): one comparison per
    socket read and one per request head."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_bytes = 0
        self._too_many_headers = False
        self._since = 0.0  # loop time the connection opened, its head began, or its head completed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._since = self.loop.time()
        state = self.server_state
        if state not in _swept:  # one sweep per server (per process)
            _swept.add(state)
            self.loop.call_later(_SWEEP_EVERY, _sweep, self.loop, state)

    def overdue(self, now: float) -> bool:
        """Whether this connection has spent too long on a request head or body."""
        scope = self.scope
        if scope is None or "method" not in scope:  # no request yet, or a head in progress
            return now - self._since > HEAD_TIMEOUT
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_complete:  # a body in progress
            return now - self._since > BODY_TIMEOUT
        return False

    def data_received(self, data: bytes) -> None:
        HttpToolsProtocol.data_received(self, data)
        scope = self.scope
        if scope is not None and "method" not in scope:  # a head has begun and is not complete yet
            if not self._head_bytes:
                self._since = self.loop.time()
            # whole reads are counted, so a head is refused between the limit and the limit plus one read
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()
        else:
            self._head_bytes = 0

    def on_headers_complete(self) -> None:
        headers = self.headers
        if len(headers) > MAX_HEADERS:
            self._too_many_headers = True
            raise HeadTooLarge()  # the parser reports it as an error: send_400_response, below
        if [name for name, _ in headers].count(b"host") > 1:
            # RFC 9112 3.2: more than one Host is a 400; otherwise the first would win here and a proxy might
            # route by another (the dev mailbox and redirects trust the Host the app sees)
            raise DuplicateHost()
        self._since = self.loop.time()
        HttpToolsProtocol.on_headers_complete(self)

    def send_400_response(self, msg: str) -> None:
        if self._too_many_headers:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _refuse(self) -> None:
        if not self.transport.is_closing():
            self.logger.warning("Request head over the limit (%d bytes, %d headers): answered 431.",
                                MAX_HEAD_BYTES, MAX_HEADERS)
            self.transport.write(_REFUSAL)
            self.transport.close()


def _sweep(loop: asyncio.AbstractEventLoop, state: ServerState) -> None:
    """Close every connection of this process that is overdue on a head or a body; again in a moment."""
    now = loop.time()
    for connection in list(state.connections):
        if isinstance(connection, BoundedHttpToolsProtocol) and connection.overdue(now):
            transport = connection.transport
            if not transport.is_closing():
                connection.logger.info("Closed a connection that was too slow to send its request.")
                transport.close()
    loop.call_later(_SWEEP_EVERY, _sweep, loop, state)
