"""Closed and suspended accounts: their lifecycle rows, and every session of an account ended at once."""

from __future__ import annotations

from sqlalchemy import update

from ..models import AccountLifecycle, Session
from .base import Repository


class AccountLifecycles(Repository):
    async def get(self, account_id: str) -> AccountLifecycle | None:
        return await self.db.get(AccountLifecycle, account_id)

    async def get_or_add(self, account_id: str) -> AccountLifecycle:
        row = await self.get(account_id)
        if row is None:
            row = AccountLifecycle(account_id=account_id, closure_code_attempts=0)
            await self._add(row)
        return row

    async def save(self) -> None:
        await self._flush()

    async def end_sessions(self, account_id: str, at: float) -> list[str]:
        """Revokes every live session of the account (root, IAM users, roles, its portal's users, CLI
        logins); their ID hashes."""
        stmt = (update(Session).where(Session.account_id == account_id, Session.revoked_at.is_(None))
                .values(revoked_at=at).returning(Session.id_hash).execution_options(synchronize_session=False))
        return [str(h) for h in (await self.db.execute(stmt)).scalars().all()]
