"""Outgoing mail transports: real SMTP when configured, else a dev mailbox on loopback servers.

Use cases never send: they queue mail in the outbox (`outbox.enqueue`) inside their transaction, and the
sender (`mail_sender.py`) hands it to one of these transports.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

log = logging.getLogger("vestibule.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    sent_at: float = field(default_factory=time.time)


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class MailError(Exception):
    """The transport did not take the message; `permanent` when trying again cannot help (5xx for the recipient)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def _reason(exc: Exception) -> tuple[str, bool]:
    """A short reason without the server's text (which may echo addresses), and whether it is permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"SMTPRecipientsRefused {','.join(map(str, codes))}", bool(codes) and all(c >= 500 for c in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}", False
    return type(exc).__name__, False


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, user: str = "", password: str = "",
                 starttls: bool = False) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls = user, password, starttls

    def _send_blocking(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=15) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)

    async def send(self, mail: Mail) -> None:
        try:
            await asyncio.to_thread(self._send_blocking, mail)
        except (OSError, smtplib.SMTPException) as exc:
            reason, permanent = _reason(exc)
            raise MailError(reason, permanent=permanent) from None


class DevMailbox:
    """Keeps the last messages in memory for `/_dev/mail`; logs that a message arrived."""

    def __init__(self, keep: int = 200) -> None:
        self.messages: list[Mail] = []
        self._keep = keep

    async def send(self, mail: Mail) -> None:
        self.messages.append(mail)
        del self.messages[: -self._keep]
        log.info("dev mailbox: mail to %s: %s", mail.to, mail.subject)
