"""A real SMTP server (aiosmtpd) for the integration tests: started and stopped on one port (so a test can
take it down and bring it back), keeping what it receives, optionally refusing recipients for good."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from support import free_port


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    subject: str
    body: str


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self._sink.refused:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain",))
        self._sink.arrived(Received(tuple(str(r).lower() for r in envelope.rcpt_tos), str(parsed["Subject"] or ""),
                                    part.get_content() if part is not None else ""))
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.refused: set[str] = set()
        self._messages: list[Received] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def arrived(self, mail: Received) -> None:
        with self._changed:
            self._messages.append(mail)
            self._changed.notify_all()

    @property
    def messages(self) -> list[Received]:
        with self._changed:
            return list(self._messages)

    def wait_for_count(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Blocks until `count` messages have arrived (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(self._messages)} of {count} messages arrived in {timeout} s")
                self._changed.wait(remaining)
            return list(self._messages)
