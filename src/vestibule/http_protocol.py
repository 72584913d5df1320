"""The HTTP/1.1 protocol `vestibule serve` runs: uvicorn's httptools protocol with limits on the request head.

httptools itself bounds neither the request line nor the headers (a 32 MiB header or 2,000 headers were read,
buffered and handed on), and uvicorn's `h11_max_incomplete_event_size` applies to h11 only. This protocol counts
the bytes of each request head as they arrive and the headers as they are parsed, and answers
`431 Request Header Fields Too Large` (and closes the connection) as soon as either is over its limit, so a
connection never holds more than one limit plus one socket read. Bodies are bounded by the app: AWS requests in
`wire/front.py`, forms in `web/security.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

MAX_HEAD_BYTES = 64 * 1024  # request line and headers together
MAX_HEADERS = 100

_MESSAGE = b"Request header fields too large.\n"
_REFUSAL = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_MESSAGE), _MESSAGE))


class HeadTooLarge(Exception):
    """Raised inside a parser callback: the head has more headers than MAX_HEADERS."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_head = False
        self._head_bytes = 0
        self._header_count = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)  # a HeadTooLarge from a callback ends in send_400_response, below
        if self._in_head and not self._refused:
            # counts whole reads, so a head is refused somewhere between the limit and the limit plus one read
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            raise HeadTooLarge()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._header_count > MAX_HEADERS:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _refuse(self) -> None:
        self._refused = True
        self.logger.warning("Request head over the limit (%d bytes, %d headers): answered 431.",
                            MAX_HEAD_BYTES, MAX_HEADERS)
        if not self.transport.is_closing():
            self.transport.write(_REFUSAL)
            self.transport.close()
