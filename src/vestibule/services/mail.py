"""Outgoing mail: real SMTP when configured, else a dev mailbox on loopback servers."""

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
    pass


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
            log.error("mail to %s failed: %s", mail.to, type(exc).__name__)
            raise MailError(str(exc)) from None


class DevMailbox:
    """Keeps the last messages in memory for `/_dev/mail`; logs that a message arrived."""

    def __init__(self, keep: int = 200) -> None:
        self.messages: list[Mail] = []
        self._keep = keep

    async def send(self, mail: Mail) -> None:
        self.messages.append(mail)
        del self.messages[: -self._keep]
        log.info("dev mailbox: mail to %s: %s (open /_dev/mail)", mail.to, mail.subject)
