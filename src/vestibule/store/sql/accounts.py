"""Accounts (and their root users)."""

from __future__ import annotations

from sqlalchemy import select

from ..models import Account
from .base import Repository


class Accounts(Repository):
    async def get(self, account_id: str) -> Account | None:
        return await self.db.get(Account, account_id)

    async def by_alias(self, alias: str) -> Account | None:
        return (await self.db.execute(select(Account).where(Account.alias == alias))).scalar_one_or_none()

    async def by_email(self, email: str) -> Account | None:
        return (await self.db.execute(select(Account).where(Account.root_email == email))).scalar_one_or_none()

    async def add(self, account: Account) -> None:
        await self._add(account)

    async def save(self) -> None:
        await self._flush()
