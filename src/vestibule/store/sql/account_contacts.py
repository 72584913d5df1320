"""An account's contact details, and the root email changes with their undo links."""

from __future__ import annotations

from sqlalchemy import select, update

from ..models import AccountContact, RootEmailChange
from .base import Repository, rowcount


class AccountContacts(Repository):
    async def get(self, account_id: str) -> AccountContact | None:
        return await self.db.get(AccountContact, account_id)

    async def put(self, contact: AccountContact) -> None:
        """Insert or replace the account's row."""
        await self.db.merge(contact)
        await self._flush()


class RootEmailChanges(Repository):
    async def add(self, change: RootEmailChange) -> None:
        await self._add(change)

    async def get(self, token_hash: str) -> RootEmailChange | None:
        return await self.db.get(RootEmailChange, token_hash)

    async def reserved_for(self, email: str, now: float) -> str | None:
        """The account whose usable undo link would give it `email` back, or None."""
        stmt = (select(RootEmailChange.account_id)
                .where(RootEmailChange.old_email == email, RootEmailChange.used_at.is_(None),
                       RootEmailChange.expires_at > now).limit(1))
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def consume(self, token_hash: str, at: float) -> bool:
        result = await self.db.execute(
            update(RootEmailChange)
            .where(RootEmailChange.token_hash == token_hash, RootEmailChange.used_at.is_(None),
                   RootEmailChange.expires_at > at)
            .values(used_at=at))
        return rowcount(result) > 0

    async def supersede(self, account_id: str, at: float, after: float | None = None) -> int:
        """End the account's unused undo links (only those made after `after` when given)."""
        stmt = update(RootEmailChange).where(RootEmailChange.account_id == account_id,
                                             RootEmailChange.used_at.is_(None))
        if after is not None:
            stmt = stmt.where(RootEmailChange.created_at > after)
        return rowcount(await self.db.execute(stmt.values(used_at=at)))
