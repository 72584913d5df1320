"""The mail outbox: rows added in a use case's transaction, claimed and finished by the sender.

A sender claims rows with a compare-and-set (`claim`, `claimed_until`), so any number of senders (threads,
processes, nodes) may run: a row is sent by one claimant at a time, and a claim left by a crashed sender
lapses after `claimed_until`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select, update

from ...core.outbox import MailEntry, MailStatus, QueuedMail
from ..models import OutboxMail
from .base import Repository, rowcount


class MailOutbox(Repository):
    async def add(self, mail: OutboxMail) -> None:
        await self._add(mail)

    async def claim_due(self, now: float, claim: str, until: float, limit: int) -> list[QueuedMail]:
        """Claim up to `limit` pending rows that are due and not claimed by someone else."""
        due = (select(OutboxMail.id)
               .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now,
                      OutboxMail.claimed_until <= now)
               .order_by(OutboxMail.next_attempt_at).limit(limit).scalar_subquery())
        # One statement, so the transaction starts as a write (SQLite takes its lock before reading), and
        # the conditions again on the UPDATE itself: a row another sender claimed meanwhile is not taken twice.
        claimed = await self.db.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(due), OutboxMail.status == MailStatus.PENDING, OutboxMail.claimed_until <= now)
            .values(claim=claim, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) == 0:
            return []
        rows = await self.db.execute(
            select(OutboxMail.id, OutboxMail.kind, OutboxMail.recipient, OutboxMail.subject, OutboxMail.body_sealed,
                   OutboxMail.attempts, OutboxMail.expires_at)
            .where(OutboxMail.claim == claim)
            .order_by(OutboxMail.next_attempt_at)
        )
        return [QueuedMail(*row) for row in rows.all()]

    async def next_due(self) -> float | None:
        """When the earliest pending row may next be claimed (None: nothing pending)."""
        ready = case((OutboxMail.claimed_until > OutboxMail.next_attempt_at, OutboxMail.claimed_until),
                     else_=OutboxMail.next_attempt_at)
        value = (await self.db.execute(select(func.min(ready)).where(OutboxMail.status == MailStatus.PENDING)))
        found = value.scalar_one_or_none()
        return float(found) if found is not None else None

    async def finish(self, mail_id: str, claim: str, now: float, status: MailStatus, attempts: int,
                     error: str = "") -> bool:
        """Sent or given up: the body is erased (a finished row keeps no link or code)."""
        return await self._settle(mail_id, claim, status=status, attempts=attempts, finished_at=now,
                                  body_sealed="", last_error=error[:200], claim="", claimed_until=0.0)

    async def retry(self, mail_id: str, claim: str, at: float, attempts: int, error: str) -> bool:
        return await self._settle(mail_id, claim, attempts=attempts, next_attempt_at=at, last_error=error[:200],
                                  claim="", claimed_until=0.0)

    async def _settle(self, mail_id: str, held: str, **values: object) -> bool:
        """Only the holder of the claim settles a row (a lapsed claim taken over by another sender fails)."""
        result = await self.db.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.claim == held, OutboxMail.status == MailStatus.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def forget_recipient(self, recipient: str, now: float) -> int:
        """An address whose owner was deleted: its pending mail is cancelled (dropped, body erased), and no row
        keeps the address or the subject. How many rows named it."""
        named = func.lower(OutboxMail.recipient) == recipient.lower()
        await self.db.execute(
            update(OutboxMail).where(named, OutboxMail.status == MailStatus.PENDING)
            .values(status=MailStatus.DROPPED.value, body_sealed="", finished_at=now, claim="", claimed_until=0.0,
                    last_error="cancelled: its recipient was deleted")
            .execution_options(synchronize_session=False))
        result = await self.db.execute(update(OutboxMail).where(named).values(recipient="", subject="")
                                       .execution_options(synchronize_session=False))
        return rowcount(result)

    async def counts(self) -> dict[str, int]:
        rows = await self.db.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status))
        found = {str(status): int(n) for status, n in rows.all()}
        return {status.value: found.get(status.value, 0) for status in MailStatus}

    async def entries(self, statuses: Sequence[str], limit: int) -> list[MailEntry]:
        """Newest first; no bodies."""
        rows = await self.db.execute(
            select(OutboxMail.id, OutboxMail.kind, OutboxMail.recipient, OutboxMail.subject, OutboxMail.status,
                   OutboxMail.attempts, OutboxMail.created_at, OutboxMail.next_attempt_at, OutboxMail.finished_at,
                   OutboxMail.last_error)
            .where(OutboxMail.status.in_(list(statuses)))
            .order_by(OutboxMail.created_at.desc(), OutboxMail.id).limit(limit)
        )
        return [MailEntry(id=r[0], kind=r[1], recipient=r[2], subject=r[3], status=r[4], attempts=r[5],
                          created_at=r[6], next_attempt_at=r[7] if r[4] == MailStatus.PENDING else None,
                          finished_at=r[8], last_error=r[9]) for r in rows.all()]
