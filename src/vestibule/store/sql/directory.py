"""The Identity Center directory: users, groups, memberships and external IDs, always within one identity
store. Lists go a page at a time after a sort key (`keyset.page_of`): users by (user_name_lower, id), groups by
(display_name_lower, id), a group's memberships by user ID, a user's by group ID; each reads `limit + 1` rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update

from ..models import DirectoryExternalId, DirectoryGroup, DirectoryMembership, DirectoryUser
from ..models.directory import lookup_key
from .base import Repository, rowcount
from .keyset import page_of

ExternalPair = tuple[str, str]  # (issuer, id)


class Directory(Repository):
    async def add(self, row: DirectoryUser | DirectoryGroup | DirectoryMembership) -> None:
        await self._add(row)

    async def flush(self) -> None:
        await self._flush()

    # users

    async def user(self, store: str, user_id: str) -> DirectoryUser | None:
        row = await self.db.get(DirectoryUser, user_id)
        return row if row is not None and row.identity_store_id == store else None

    async def user_by_name(self, store: str, user_name: str) -> DirectoryUser | None:
        stmt = select(DirectoryUser).where(DirectoryUser.identity_store_id == store,
                                           DirectoryUser.user_name_lower == user_name.lower())
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def users_by_email(self, store: str, email: str) -> Sequence[DirectoryUser]:
        stmt = (select(DirectoryUser).where(DirectoryUser.identity_store_id == store,
                                            DirectoryUser.email_lower == lookup_key(email))
                .order_by(DirectoryUser.created_at, DirectoryUser.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def users(self, store: str, *, after: Sequence[str] | None, limit: int, user_name: str | None = None,
                    display_name: str | None = None) -> Sequence[DirectoryUser]:
        """Up to `limit + 1` users after the key (user_name_lower, id), in that order."""
        stmt = select(DirectoryUser).where(DirectoryUser.identity_store_id == store)
        if user_name is not None:
            stmt = stmt.where(DirectoryUser.user_name_lower == user_name.lower())
        if display_name is not None:
            stmt = stmt.where(DirectoryUser.display_name == display_name)
        stmt = page_of(stmt, (DirectoryUser.user_name_lower, DirectoryUser.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def count_users(self, store: str) -> int:
        stmt = select(func.count()).select_from(DirectoryUser).where(DirectoryUser.identity_store_id == store)
        return int((await self.db.execute(stmt)).scalar_one())

    async def user_key_at(self, store: str, position: int) -> tuple[str, str] | None:
        """The sort key (user_name_lower, id) of the store's user at 0-based `position` in that order, read from
        the name index alone (SCIM's startIndex: the rows before it are skipped in the index, not loaded)."""
        stmt = (select(DirectoryUser.user_name_lower, DirectoryUser.id)
                .where(DirectoryUser.identity_store_id == store)
                .order_by(DirectoryUser.user_name_lower, DirectoryUser.id).offset(position).limit(1))
        row = (await self.db.execute(stmt)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def delete_user(self, row: DirectoryUser) -> None:
        await self.db.execute(delete(DirectoryMembership).where(DirectoryMembership.user_id == row.id))
        await self._drop_external_ids("user", row.id)
        await self.db.delete(row)
        await self.db.flush()

    # groups

    async def group(self, store: str, group_id: str) -> DirectoryGroup | None:
        row = await self.db.get(DirectoryGroup, group_id)
        return row if row is not None and row.identity_store_id == store else None

    async def group_by_name(self, store: str, display_name: str) -> DirectoryGroup | None:
        stmt = select(DirectoryGroup).where(DirectoryGroup.identity_store_id == store,
                                            DirectoryGroup.display_name_lower == lookup_key(display_name))
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def groups(self, store: str, *, after: Sequence[str] | None, limit: int,
                     display_name: str | None = None) -> Sequence[DirectoryGroup]:
        """Up to `limit + 1` groups after the key (display_name_lower, id), in that order."""
        stmt = select(DirectoryGroup).where(DirectoryGroup.identity_store_id == store)
        if display_name is not None:
            stmt = stmt.where(DirectoryGroup.display_name_lower == lookup_key(display_name))
        stmt = page_of(stmt, (DirectoryGroup.display_name_lower, DirectoryGroup.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def count_groups(self, store: str) -> int:
        stmt = select(func.count()).select_from(DirectoryGroup).where(DirectoryGroup.identity_store_id == store)
        return int((await self.db.execute(stmt)).scalar_one())

    async def group_key_at(self, store: str, position: int) -> tuple[str, str] | None:
        """The sort key (display_name_lower, id) of the store's group at 0-based `position` (as `user_key_at`)."""
        stmt = (select(DirectoryGroup.display_name_lower, DirectoryGroup.id)
                .where(DirectoryGroup.identity_store_id == store)
                .order_by(DirectoryGroup.display_name_lower, DirectoryGroup.id).offset(position).limit(1))
        row = (await self.db.execute(stmt)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def groups_by_ids(self, store: str, group_ids: Sequence[str]) -> Sequence[DirectoryGroup]:
        if not group_ids:
            return []
        stmt = select(DirectoryGroup).where(DirectoryGroup.identity_store_id == store,
                                            DirectoryGroup.id.in_(list(group_ids)))
        return (await self.db.execute(stmt)).scalars().all()

    async def delete_group(self, row: DirectoryGroup) -> None:
        await self.db.execute(delete(DirectoryMembership).where(DirectoryMembership.group_id == row.id))
        await self._drop_external_ids("group", row.id)
        await self.db.delete(row)
        await self.db.flush()

    async def bump(self, row: DirectoryUser | DirectoryGroup, revision: int) -> bool:
        """Move the row's revision on from `revision` (compare-and-set): False when another change came first."""
        model = type(row)
        result = await self.db.execute(update(model).where(model.id == row.id, model.revision == revision)
                                       .values(revision=revision + 1).execution_options(synchronize_session=False))
        if rowcount(result) == 0:
            return False
        row.revision = revision + 1
        return True

    # memberships

    async def membership(self, store: str, membership_id: str) -> DirectoryMembership | None:
        row = await self.db.get(DirectoryMembership, membership_id)
        return row if row is not None and row.identity_store_id == store else None

    async def membership_of(self, group_id: str, user_id: str) -> DirectoryMembership | None:
        stmt = select(DirectoryMembership).where(DirectoryMembership.group_id == group_id,
                                                 DirectoryMembership.user_id == user_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def memberships_of_group(self, group_id: str, *, after: Sequence[str] | None,
                                   limit: int) -> Sequence[DirectoryMembership]:
        """Up to `limit + 1` of the group's memberships after the key (user_id,): the unique (group_id, user_id)
        index serves it."""
        stmt = select(DirectoryMembership).where(DirectoryMembership.group_id == group_id)
        stmt = page_of(stmt, (DirectoryMembership.user_id,), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def memberships_of_user(self, user_id: str, *, after: Sequence[str] | None,
                                  limit: int) -> Sequence[DirectoryMembership]:
        """Up to `limit + 1` of the user's memberships after the key (group_id,)."""
        stmt = select(DirectoryMembership).where(DirectoryMembership.user_id == user_id)
        stmt = page_of(stmt, (DirectoryMembership.group_id,), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def member_ids(self, group_id: str) -> list[str]:
        stmt = (select(DirectoryMembership.user_id).where(DirectoryMembership.group_id == group_id)
                .order_by(DirectoryMembership.user_id))
        return list((await self.db.execute(stmt)).scalars().all())

    async def delete_membership(self, row: DirectoryMembership) -> None:
        await self.db.delete(row)
        await self.db.flush()

    # external IDs

    async def external_ids(self, kind: str, owner_ids: Sequence[str]) -> dict[str, list[ExternalPair]]:
        if not owner_ids:
            return {}
        stmt = (select(DirectoryExternalId).where(DirectoryExternalId.kind == kind,
                                                  DirectoryExternalId.owner_id.in_(list(owner_ids)))
                .order_by(DirectoryExternalId.owner_id, DirectoryExternalId.position))
        found: dict[str, list[ExternalPair]] = {}
        for row in (await self.db.execute(stmt)).scalars():
            found.setdefault(row.owner_id, []).append((row.issuer, row.external_id))
        return found

    async def owner_of_external_id(self, store: str, kind: str, issuer: str, external_id: str) -> str | None:
        stmt = select(DirectoryExternalId.owner_id).where(
            DirectoryExternalId.identity_store_id == store, DirectoryExternalId.kind == kind,
            DirectoryExternalId.issuer == issuer, DirectoryExternalId.external_id == external_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def set_external_ids(self, store: str, kind: str, owner_id: str, pairs: Sequence[ExternalPair]) -> None:
        await self._drop_external_ids(kind, owner_id)
        for position, (issuer, external_id) in enumerate(pairs):
            self.db.add(DirectoryExternalId(identity_store_id=store, kind=kind, owner_id=owner_id, issuer=issuer,
                                            external_id=external_id, position=position))
        await self._flush()

    async def _drop_external_ids(self, kind: str, owner_id: str) -> None:
        await self.db.execute(delete(DirectoryExternalId).where(DirectoryExternalId.kind == kind,
                                                                DirectoryExternalId.owner_id == owner_id))

    async def delete_store(self, store: str) -> None:
        """Every row of the identity store (its instance is being deleted)."""
        for model in (DirectoryMembership, DirectoryExternalId, DirectoryGroup, DirectoryUser):
            await self.db.execute(delete(model).where(model.identity_store_id == store))
