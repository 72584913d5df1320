"""Instance profiles and the role each one holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update

from ..models import InstanceProfile
from . import counts
from .base import Repository, rowcount
from .keyset import page_of, starts_with


class InstanceProfiles(Repository):
    async def add(self, profile: InstanceProfile, *, limit: int | None = None) -> bool:
        """Add the profile unless the account already has `limit` (checked and counted in one statement)."""
        if limit is None:
            await counts.moved(self.db, profile.account_id, "instance_profiles", 1)
        elif not await counts.taken(self.db, profile.account_id, "instance_profiles", limit):
            return False
        await self._add(profile)
        return True

    async def by_name(self, account_id: str, name: str) -> InstanceProfile | None:
        stmt = select(InstanceProfile).where(InstanceProfile.account_id == account_id,
                                             InstanceProfile.name_lower == name.lower())
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def list(self, account_id: str, path_prefix: str = "/") -> Sequence[InstanceProfile]:
        stmt = (select(InstanceProfile)
                .where(InstanceProfile.account_id == account_id, InstanceProfile.path.startswith(path_prefix))
                .order_by(InstanceProfile.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, path_prefix: str, after: Sequence[str] | None,
                   limit: int) -> Sequence[InstanceProfile]:
        """Up to `limit + 1` profiles under `path_prefix` after the key (name_lower, id)."""
        stmt = select(InstanceProfile).where(InstanceProfile.account_id == account_id,
                                             starts_with(InstanceProfile.path, path_prefix))
        stmt = page_of(stmt, (InstanceProfile.name_lower, InstanceProfile.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def holding_page(self, role_id: str, after: Sequence[str] | None, limit: int) -> Sequence[InstanceProfile]:
        """Up to `limit + 1` profiles that hold the role, after the key (name_lower, id)."""
        stmt = page_of(select(InstanceProfile).where(InstanceProfile.role_id == role_id),
                       (InstanceProfile.name_lower, InstanceProfile.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def count_in_account(self, account_id: str) -> int:
        stmt = select(func.count()).select_from(InstanceProfile).where(InstanceProfile.account_id == account_id)
        return int((await self.db.execute(stmt)).scalar_one())

    async def holding(self, role_id: str) -> Sequence[InstanceProfile]:
        """The profiles that hold the role, by name."""
        stmt = (select(InstanceProfile).where(InstanceProfile.role_id == role_id)
                .order_by(InstanceProfile.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def put_role(self, profile: InstanceProfile, role_id: str) -> bool:
        """Put the role in the profile unless it already holds one (one statement, so two concurrent calls
        cannot both succeed)."""
        result = await self.db.execute(update(InstanceProfile).where(
            InstanceProfile.id == profile.id, InstanceProfile.role_id.is_(None)).values(role_id=role_id)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            return False
        profile.role_id = role_id
        return True

    async def take_role(self, profile: InstanceProfile, role_id: str) -> bool:
        """Take the role out of the profile if it holds that role."""
        result = await self.db.execute(update(InstanceProfile).where(
            InstanceProfile.id == profile.id, InstanceProfile.role_id == role_id).values(role_id=None)
            .execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            return False
        profile.role_id = None
        return True

    async def delete(self, profile: InstanceProfile) -> None:
        await self.db.delete(profile)
        await self.db.flush()
        await counts.moved(self.db, profile.account_id, "instance_profiles", -1)
