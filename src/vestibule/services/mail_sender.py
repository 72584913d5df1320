"""The background sender: takes due mail from the outbox, hands it to the transport, retries with backoff.

It wakes when a use case in this process commits mail (the outbox's bell), and otherwise polls, for
retries that come due and for mail another process queued. Rows are claimed with a compare-and-set, so
every process of every node may run a sender and each mail still goes out once per claim (a sender that
dies mid-send leaves a claim that lapses, and the mail is sent again: at least once, never lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..core.outbox import MailStatus, QueuedMail, RetryPolicy, body_context
from ..core.secretbox import SecretBox, SecretBoxError
from ..store.repositories import Store
from . import metrics
from .mail import Mail, Mailer, MailError
from .outbox import Bell

log = logging.getLogger("vestibule.mail")


@dataclass(frozen=True)
class SenderPorts:
    store: Store
    box: SecretBox
    mailer: Mailer
    bell: Bell
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_seconds: float = 5.0
    claim_seconds: float = 120.0  # longer than one SMTP exchange may take (its timeout is 15 s per step)
    batch: int = 20
    settle_seconds: float = 0.05  # after a ring: the request that rang answers first; mail queued together goes at once
    clock: Callable[[], float] = time.time
    # work whose outcome is mail (a personal profile's requested data export): run at the start of every round,
    # on every node; each job claims its own rows and answers how many it did
    jobs: tuple[Callable[[], Awaitable[int]], ...] = ()


@dataclass(frozen=True)
class SendRound:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __add__(self, other: SendRound) -> SendRound:
        return SendRound(self.claimed + other.claimed, self.sent + other.sent, self.retrying + other.retrying,
                         self.failed + other.failed)


class MailSender:
    def __init__(self, ports: SenderPorts) -> None:
        self._ports = ports
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="mail sender")

    async def stop(self, grace: float = 5.0) -> None:
        """Let a send in progress finish (up to `grace` seconds), then stop."""
        if self._task is None:
            return
        self._stopping = True
        await self._ports.bell.ring()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, grace)
        self._task = None

    async def drain(self) -> SendRound:
        """Send everything due now (retries scheduled for later stay queued); for tests and the CLI."""
        total = SendRound()
        while True:
            done = await self.send_due()
            total = total + done
            if done.claimed == 0:
                return total

    async def send_due(self) -> SendRound:
        """One round: claim due rows, send each, record the outcome. Idle, it only reads (no write lock taken)."""
        p = self._ports
        for job in p.jobs:
            try:
                await job()
            except Exception:  # a failing job must never stop the mail
                log.exception("mail sender: a job failed; trying again next round")
        now = p.clock()
        due = await self.next_due()
        if due is None or due > now:
            return SendRound()
        claim = secrets.token_hex(16)
        async with p.store.unit() as uow:
            claimed = await uow.outbox.claim_due(now, claim, now + p.claim_seconds, p.batch)
        sent = retrying = failed = 0
        for mail in claimed:
            if self._stopping:
                break  # the rest of the claim lapses and is sent by the next sender
            outcome = await self._deliver(mail, claim)
            sent += outcome == MailStatus.SENT
            retrying += outcome == MailStatus.PENDING
            failed += outcome == MailStatus.FAILED
        return SendRound(len(claimed), sent, retrying, failed)

    async def next_due(self) -> float | None:
        async with self._ports.store.unit() as uow:
            return await uow.outbox.next_due()

    async def _deliver(self, mail: QueuedMail, claim: str) -> MailStatus:
        p = self._ports
        attempts = mail.attempts + 1
        if p.clock() >= mail.expires_at:
            return await self._give_up(mail, claim, mail.attempts, "expired before it could be sent")
        try:
            body = p.box.open(mail.body_sealed, body_context(mail.id)).decode("utf-8")
        except (SecretBoxError, UnicodeDecodeError):
            return await self._give_up(mail, claim, mail.attempts, "body cannot be opened (master key changed?)")
        try:
            await p.mailer.send(Mail(to=mail.recipient, subject=mail.subject, body=body))
        except MailError as exc:
            return await self._failed(mail, claim, attempts, exc.reason, exc.permanent)
        except Exception as exc:  # a transport bug must not stop the sender; the mail is tried again
            log.exception("mail %s: the transport raised", mail.id)
            return await self._failed(mail, claim, attempts, type(exc).__name__, False)
        async with p.store.unit() as uow:
            await uow.outbox.finish(mail.id, claim, p.clock(), MailStatus.SENT, attempts)
        metrics.record_mail(sent=True)
        return MailStatus.SENT

    async def _failed(self, mail: QueuedMail, claim: str, attempts: int, reason: str, permanent: bool) -> MailStatus:
        p = self._ports
        now = p.clock()
        at = p.retry.next_attempt(attempts, now, mail.expires_at, permanent=permanent,
                                  jitter=random.uniform(0.9, 1.1))
        if at is None:
            return await self._give_up(mail, claim, attempts, reason)
        async with p.store.unit() as uow:
            await uow.outbox.retry(mail.id, claim, at, attempts, reason)
        metrics.record_mail(sent=False)
        log.warning("mail %s (%s) not sent (%s, attempt %d); trying again in %.0f s",
                    mail.id, mail.kind, reason, attempts, at - now)
        return MailStatus.PENDING

    async def _give_up(self, mail: QueuedMail, claim: str, attempts: int, reason: str) -> MailStatus:
        p = self._ports
        async with p.store.unit() as uow:
            await uow.outbox.finish(mail.id, claim, p.clock(), MailStatus.FAILED, attempts, reason)
        metrics.record_mail(sent=False, given_up=True)
        log.error("mail %s (%s) to %s failed for good after %d attempt(s): %s; see `vestibule mail queue`",
                  mail.id, mail.kind, mail.recipient, attempts, reason)
        return MailStatus.FAILED

    async def _loop(self) -> None:
        p = self._ports
        while not self._stopping:
            p.bell.clear()  # a ring during the round below keeps the bell set, so no wake-up is lost
            wait = p.poll_seconds
            try:
                await self.send_due()
                due = await self.next_due()
                if due is not None:
                    wait = min(wait, max(0.0, due - p.clock()) + 0.01)
            except Exception:
                log.exception("mail sender round failed; trying again shortly")
            if not self._stopping and await p.bell.wait(wait) and not self._stopping:
                # Rung at a commit: start once that request has answered, so a request that queued mail never
                # shares its time with the sending (a forgot-password answer must not be slower for a known
                # address than for an unknown one).
                await asyncio.sleep(p.settle_seconds)
