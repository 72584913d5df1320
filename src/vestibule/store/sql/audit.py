"""The audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from ..models import AuditEvent
from .base import Repository, rowcount
from .keyset import page_of


class AuditEvents(Repository):
    async def add(self, event: AuditEvent) -> None:
        self.db.add(event)
        await self.db.flush()

    async def for_account(self, account_id: str, limit: int = 1000) -> Sequence[AuditEvent]:
        stmt = (select(AuditEvent).where(AuditEvent.account_id == account_id)
                .order_by(AuditEvent.at, AuditEvent.id).limit(limit))
        return (await self.db.execute(stmt)).scalars().all()

    async def page_for_account(self, account_id: str, *, after: tuple[float, int] | None,
                               limit: int) -> Sequence[AuditEvent]:
        """Up to `limit + 1` of the account's events after the key (at, id), oldest first: the index
        (account_id, at) serves it (SQLite's holds the rowid, the id, too)."""
        stmt = select(AuditEvent).where(AuditEvent.account_id == account_id)
        stmt = page_of(stmt, (AuditEvent.at, AuditEvent.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def count(self) -> int:
        return int((await self.db.execute(select(func.count(AuditEvent.id)))).scalar_one())

    async def of_principal(self, principal: str, limit: int = 10000) -> Sequence[AuditEvent]:
        """The events naming `principal` (`profile/<id>`: a profile has no account to index them by), oldest first."""
        stmt = (select(AuditEvent).where(AuditEvent.principal == principal)
                .order_by(AuditEvent.at, AuditEvent.id).limit(limit))
        return (await self.db.execute(stmt)).scalars().all()

    async def rename_principal(self, principal: str, new_principal: str) -> int:
        """Every event of `principal` names `new_principal` instead (a deleted profile's pseudonym)."""
        result = await self.db.execute(update(AuditEvent).where(AuditEvent.principal == principal)
                                       .values(principal=new_principal).execution_options(synchronize_session=False))
        return rowcount(result)

    async def replace_detail(self, event_id: int, detail: dict[str, Any]) -> None:
        await self.db.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(detail=detail)
                              .execution_options(synchronize_session=False))
