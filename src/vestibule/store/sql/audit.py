"""The audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from ..models import AuditEvent
from .base import Repository


class AuditEvents(Repository):
    async def add(self, event: AuditEvent) -> None:
        self.db.add(event)
        await self.db.flush()

    async def for_account(self, account_id: str, limit: int = 1000) -> Sequence[AuditEvent]:
        stmt = (select(AuditEvent).where(AuditEvent.account_id == account_id)
                .order_by(AuditEvent.at, AuditEvent.id).limit(limit))
        return (await self.db.execute(stmt)).scalars().all()

    async def count(self) -> int:
        return int((await self.db.execute(select(func.count(AuditEvent.id)))).scalar_one())
