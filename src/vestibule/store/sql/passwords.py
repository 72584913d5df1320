"""Password history, for the policy's reuse rule."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from ..models import PasswordHistory
from .base import Repository, rowcount


class PasswordHistories(Repository):
    async def add(self, principal_key: str, password_hash: str, at: float) -> None:
        await self._add(PasswordHistory(principal_key=principal_key, password_hash=password_hash, created_at=at))

    async def recent(self, principal_key: str, limit: int) -> Sequence[str]:
        stmt = (
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.principal_key == principal_key)
            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
            .limit(limit)
        )
        return (await self.db.execute(stmt)).scalars().all()

    async def delete_all_for(self, principal_key: str) -> int:
        result = await self.db.execute(delete(PasswordHistory).where(PasswordHistory.principal_key == principal_key))
        return rowcount(result)
