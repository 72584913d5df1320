"""Long-term access keys and STS temporary credentials."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select

from ..models import AccessKey, TemporaryCredential
from .base import Repository


class AccessKeys(Repository):
    async def add(self, key: AccessKey) -> None:
        await self._add(key)

    async def get(self, key_id: str) -> AccessKey | None:
        return await self.db.get(AccessKey, key_id)

    async def for_principal(self, principal_key: str) -> Sequence[AccessKey]:
        stmt = select(AccessKey).where(AccessKey.principal_key == principal_key).order_by(AccessKey.created_at)
        return (await self.db.execute(stmt)).scalars().all()

    async def delete(self, key: AccessKey) -> None:
        await self.db.delete(key)
        await self.db.flush()

    async def count_in_account(self, account_id: str) -> int:
        stmt = select(func.count()).select_from(AccessKey).where(AccessKey.account_id == account_id)
        return int((await self.db.execute(stmt)).scalar_one())


class TemporaryCredentials(Repository):
    async def add(self, cred: TemporaryCredential) -> None:
        await self._add(cred)

    async def get(self, key_id: str) -> TemporaryCredential | None:
        return await self.db.get(TemporaryCredential, key_id)

    async def purge_expired(self, now: float) -> None:
        await self.db.execute(delete(TemporaryCredential).where(TemporaryCredential.expires_at < now - 86400))
