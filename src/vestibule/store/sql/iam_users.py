"""IAM users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update

from ..models import IamUser
from . import counts
from .base import Repository
from .keyset import page_of, starts_with

# Built once (building the expression costs more than running the statement on SQLite).
_BY_NAME = select(IamUser).where(IamUser.account_id == bindparam("account_id"),
                                 IamUser.name_lower == bindparam("name_lower"))

class Users(Repository):
    async def get(self, user_id: str) -> IamUser | None:
        return await self.db.get(IamUser, user_id)

    async def by_name(self, account_id: str, name: str) -> IamUser | None:
        found = await self.db.execute(_BY_NAME, {"account_id": account_id, "name_lower": name.lower()})
        return found.scalar_one_or_none()

    async def add(self, user: IamUser) -> None:
        await self._add(user)
        await counts.moved(self.db, user.account_id, "users", 1)

    async def delete(self, user: IamUser) -> None:
        await self.db.delete(user)
        await self.db.flush()
        await counts.moved(self.db, user.account_id, "users", -1)

    async def note_password_use(self, user_id: str, at: float, rehashed: str | None = None) -> None:
        values: dict[str, object] = {"password_last_used_at": at}
        if rehashed is not None:
            values["password_hash"] = rehashed
        await self.db.execute(update(IamUser).where(IamUser.id == user_id).values(**values))

    async def list(self, account_id: str) -> Sequence[IamUser]:
        stmt = select(IamUser).where(IamUser.account_id == account_id).order_by(IamUser.name_lower)
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, path_prefix: str, after: Sequence[str] | None,
                   limit: int) -> Sequence[IamUser]:
        """Up to `limit + 1` users under `path_prefix` after the key (name_lower, id), in that order (the
        (account_id, name_lower) index)."""
        stmt = select(IamUser).where(IamUser.account_id == account_id, starts_with(IamUser.path, path_prefix))
        stmt = page_of(stmt, (IamUser.name_lower, IamUser.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()
