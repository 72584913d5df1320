"""Queueing mail in the outbox, in the transaction of what it carries (a reset link, a code).

A request never talks to the mail server: it adds a row, sealed under the master key, and rings the
sender's bell once the transaction has committed. So a request costs the same whether the mail server
is fast, slow or down, and a mail is never lost to a failed send (the sender retries) nor sent for a
change that rolled back (the row rolls back with it).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.outbox import NOTICE_LIFETIME, MailEntry, MailKind, MailStatus, body_context
from ..core.secretbox import SecretBox
from ..store.models import OutboxMail
from ..store.repositories import Store, UnitOfWork
from .mail import Mail


class Bell:
    """Wakes the sender of this process at once (it also polls, for retries and mail queued elsewhere)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    async def ring(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, seconds: float) -> bool:
        """True when rung within `seconds`."""
        try:
            await asyncio.wait_for(self._event.wait(), max(0.0, seconds))
        except TimeoutError:
            return False
        return True


@dataclass(frozen=True)
class OutboxPorts:
    """What queueing mail uses. Wall-clock time, not the application's clock: tests move that one, and
    moving it must not make mail due or overdue."""

    box: SecretBox
    bell: Bell = field(default_factory=Bell)
    clock: Callable[[], float] = time.time


async def enqueue(uow: UnitOfWork, ports: OutboxPorts, mail: Mail, *, kind: MailKind,
                  lifetime: float = NOTICE_LIFETIME) -> str:
    """Queue `mail` inside `uow`; the sender is woken when `uow` commits. Returns the row's ID."""
    return await _add(uow, ports, kind, mail.to, mail.subject, mail.body, MailStatus.PENDING, lifetime)


async def record_dropped(uow: UnitOfWork, ports: OutboxPorts, *, kind: MailKind, subject: str) -> str:
    """The same statement as `enqueue` for a mail that must not go out: where sending or not would tell
    something (forgot password for an address without an account), the request still writes one row,
    born `dropped`, with no recipient and no body, so both cases do the same work."""
    return await _add(uow, ports, kind, "", subject, None, MailStatus.DROPPED, 0.0)


async def _add(uow: UnitOfWork, ports: OutboxPorts, kind: MailKind, to: str, subject: str, body: str | None,
               status: MailStatus, lifetime: float) -> str:
    now = ports.clock()
    mail_id = secrets.token_hex(16)
    sealed = ports.box.seal(body.encode("utf-8"), body_context(mail_id)) if body is not None else ""
    finished = status != MailStatus.PENDING
    await uow.outbox.add(OutboxMail(
        id=mail_id, kind=kind.value, recipient=to, subject=subject, body_sealed=sealed, status=status.value,
        attempts=0, created_at=now, next_attempt_at=now, expires_at=now + lifetime, claim="", claimed_until=0.0,
        finished_at=now if finished else None, last_error="not sent: no account uses the address" if finished else "",
    ))
    uow.after_commit(ports.bell.ring)
    return mail_id


@dataclass(frozen=True)
class QueueReport:
    counts: dict[str, int]
    entries: list[MailEntry]


async def report(store: Store, statuses: list[str], limit: int) -> QueueReport:
    """Counts per status and the newest rows of `statuses`, for `vestibule mail queue` (no bodies)."""
    async with store.unit() as uow:
        return QueueReport(await uow.outbox.counts(), await uow.outbox.entries(statuses, limit))
