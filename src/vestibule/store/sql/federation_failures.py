"""Federated sign-in failures: written once under a fresh reference, read back by it."""

from __future__ import annotations

from sqlalchemy import select

from ..models import FederationFailureRecord
from .base import Repository


class FederationFailures(Repository):
    async def add(self, record: FederationFailureRecord) -> None:
        """Conflict when the reference exists (80 random bits: never, in practice)."""
        await self._add(record)

    async def get(self, reference: str) -> FederationFailureRecord | None:
        stmt = select(FederationFailureRecord).where(FederationFailureRecord.reference == reference)
        return (await self.db.execute(stmt)).scalar_one_or_none()
