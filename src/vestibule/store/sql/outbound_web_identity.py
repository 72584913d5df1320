"""Outbound web identity federation rows: by account (optionally holding the row) and by issuer ID."""

from __future__ import annotations

from sqlalchemy import select, update

from ..models import OutboundWebIdentity
from .base import Repository


class OutboundWebIdentities(Repository):
    async def add(self, row: OutboundWebIdentity) -> None:
        await self._add(row)

    async def of_account(self, account_id: str, *, lock: bool = False) -> OutboundWebIdentity | None:
        """`lock`: hold the row first (a no-op UPDATE: a row lock on PostgreSQL, the write lock on SQLite)."""
        if lock:
            await self.db.execute(update(OutboundWebIdentity).where(OutboundWebIdentity.account_id == account_id)
                                  .values(enabled=OutboundWebIdentity.enabled))
        stmt = select(OutboundWebIdentity).where(OutboundWebIdentity.account_id == account_id)
        return (await self.db.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()

    async def by_issuer(self, issuer_id: str) -> OutboundWebIdentity | None:
        stmt = select(OutboundWebIdentity).where(OutboundWebIdentity.issuer_id == issuer_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()
