"""Rows past their useful life, for the janitor: each method deletes what ended before `before`."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..models import (
    Captcha,
    FlowRecord,
    OutboxMail,
    RecoveryToken,
    RootEmailChange,
    Session,
    TemporaryCredential,
    ThrottleCounter,
)
from .base import Repository, rowcount


class ExpiredRows(Repository):
    async def flows(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(FlowRecord).where(FlowRecord.expires_at < before)))

    async def captchas(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(Captcha).where(Captcha.expires_at < before)))

    async def temporary_credentials(self, before: float) -> int:
        stmt = delete(TemporaryCredential).where(TemporaryCredential.expires_at < before)
        return rowcount(await self.db.execute(stmt))

    async def sessions(self, before: float) -> int:
        """Sessions past their absolute limit, or revoked, before `before`."""
        expired = await self.db.execute(delete(Session).where(Session.expires_at < before))
        revoked = await self.db.execute(delete(Session).where(Session.revoked_at < before))
        return rowcount(expired) + rowcount(revoked)

    async def recovery_tokens(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(RecoveryToken).where(RecoveryToken.expires_at < before)))

    async def root_email_changes(self, before: float) -> int:
        """Root email changes whose undo link expired before `before` (the audit events keep the history)."""
        return rowcount(await self.db.execute(delete(RootEmailChange).where(RootEmailChange.expires_at < before)))

    async def throttle_counters(self, before: float) -> int:
        """Counters whose last failure is older than `before` (their window has closed).

        A guess locks its counter rows in key order; a plain bulk delete would lock them in whatever order it
        scans and could deadlock with a guess on two stale keys. So on PostgreSQL the rows are picked in key
        order and a row a guess holds is skipped (`FOR UPDATE SKIP LOCKED`; the next round takes it). SQLite
        has one writer at a time and ignores the clause."""
        stale = (select(ThrottleCounter.key).where(ThrottleCounter.last_failure_at < before)
                 .order_by(ThrottleCounter.key).with_for_update(skip_locked=True))
        stmt = delete(ThrottleCounter).where(ThrottleCounter.key.in_(stale.scalar_subquery()))
        return rowcount(await self.db.execute(stmt))

    async def mail(self, before: float) -> int:
        """Outbox rows sent, failed or dropped before `before` (pending rows stay until they finish)."""
        return rowcount(await self.db.execute(delete(OutboxMail).where(OutboxMail.finished_at < before)))
