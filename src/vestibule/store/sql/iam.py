"""IAM groups, roles, policies (managed, attached, inline) and tags."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import ColumnElement, bindparam, delete, exists, func, or_, select, update

from ..models import (
    GroupMembership,
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    ManagedPolicy,
    ManagedPolicyVersion,
    PolicyAttachment,
    Tag,
)
from . import counts
from .base import Repository, rowcount
from .keyset import page_of, starts_with

Key = Sequence[str] | None


class Groups(Repository):
    async def add(self, group: IamGroup) -> None:
        await self._add(group)
        await counts.moved(self.db, group.account_id, "groups", 1)

    async def by_name(self, account_id: str, name: str) -> IamGroup | None:
        stmt = select(IamGroup).where(IamGroup.account_id == account_id, IamGroup.name_lower == name.lower())
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def list(self, account_id: str, path_prefix: str = "/") -> Sequence[IamGroup]:
        stmt = (select(IamGroup).where(IamGroup.account_id == account_id, IamGroup.path.startswith(path_prefix))
                .order_by(IamGroup.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, path_prefix: str, after: Key, limit: int) -> Sequence[IamGroup]:
        """Up to `limit + 1` groups under `path_prefix` after the key (name_lower, id)."""
        stmt = select(IamGroup).where(IamGroup.account_id == account_id, starts_with(IamGroup.path, path_prefix))
        stmt = page_of(stmt, (IamGroup.name_lower, IamGroup.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def members_page(self, group_id: str, after: Key, limit: int) -> Sequence[IamUser]:
        """Up to `limit + 1` members of the group after the key (name_lower, id) of a user: read in the order of
        ix_group_memberships_group_name (the member's name is kept in the membership), no sort of the group."""
        stmt = (select(IamUser).join(GroupMembership, GroupMembership.user_id == IamUser.id)
                .where(GroupMembership.group_id == group_id))
        stmt = page_of(stmt, (GroupMembership.user_name_lower, GroupMembership.user_id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def delete(self, group: IamGroup) -> None:
        await self.db.delete(group)
        await self.db.flush()
        await counts.moved(self.db, group.account_id, "groups", -1)

    async def members(self, group_id: str) -> Sequence[IamUser]:
        stmt = (select(IamUser).join(GroupMembership, GroupMembership.user_id == IamUser.id)
                .where(GroupMembership.group_id == group_id).order_by(IamUser.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def of_user(self, user_id: str) -> Sequence[IamGroup]:
        stmt = (select(IamGroup).join(GroupMembership, GroupMembership.group_id == IamGroup.id)
                .where(GroupMembership.user_id == user_id).order_by(IamGroup.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def add_member(self, group_id: str, user_id: str) -> None:
        if await self.db.get(GroupMembership, (group_id, user_id)) is None:
            name = await self.db.scalar(select(IamUser.name_lower).where(IamUser.id == user_id))
            await self._add(GroupMembership(group_id=group_id, user_id=user_id, user_name_lower=name or ""))

    async def member_renamed(self, user_id: str, name_lower: str) -> None:
        """The user's new sort key in each of its memberships (at most 10: the groups-per-user quota)."""
        await self.db.execute(update(GroupMembership).where(GroupMembership.user_id == user_id)
                              .values(user_name_lower=name_lower).execution_options(synchronize_session=False))

    async def remove_member(self, group_id: str, user_id: str) -> bool:
        result = await self.db.execute(delete(GroupMembership).where(
            GroupMembership.group_id == group_id, GroupMembership.user_id == user_id))
        return rowcount(result) > 0

    async def remove_user_everywhere(self, user_id: str) -> None:
        await self.db.execute(delete(GroupMembership).where(GroupMembership.user_id == user_id))


class Roles(Repository):
    async def add(self, role: IamRole) -> None:
        await self._add(role)
        await counts.moved(self.db, role.account_id, "roles", 1)

    async def by_name(self, account_id: str, name: str) -> IamRole | None:
        stmt = select(IamRole).where(IamRole.account_id == account_id, IamRole.name_lower == name.lower())
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def get(self, role_id: str) -> IamRole | None:
        return await self.db.get(IamRole, role_id)

    async def list(self, account_id: str, path_prefix: str = "/") -> Sequence[IamRole]:
        stmt = (select(IamRole).where(IamRole.account_id == account_id, IamRole.path.startswith(path_prefix))
                .order_by(IamRole.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, path_prefix: str, after: Key, limit: int) -> Sequence[IamRole]:
        """Up to `limit + 1` roles under `path_prefix` after the key (name_lower, id)."""
        stmt = select(IamRole).where(IamRole.account_id == account_id, starts_with(IamRole.path, path_prefix))
        stmt = page_of(stmt, (IamRole.name_lower, IamRole.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def delete(self, role: IamRole) -> None:
        await self.db.delete(role)
        await self.db.flush()
        await counts.moved(self.db, role.account_id, "roles", -1)


class Policies(Repository):
    async def add(self, policy: ManagedPolicy) -> None:
        await self._add(policy)
        await counts.moved(self.db, policy.account_id, "policies", 1)

    async def get(self, arn: str, *, lock: bool = False) -> ManagedPolicy | None:
        """`lock`: hold the row until the unit ends, so changes of one policy's versions happen one after
        another. A no-op UPDATE locks it on every backend (on SQLite it takes the write lock, which SELECT ...
        FOR UPDATE does not); the row is then read afresh."""
        if not lock:
            return await self.db.get(ManagedPolicy, arn)
        await self.db.execute(update(ManagedPolicy).where(ManagedPolicy.arn == arn)
                              .values(versions_created=ManagedPolicy.versions_created)
                              .execution_options(synchronize_session=False))
        stmt = select(ManagedPolicy).where(ManagedPolicy.arn == arn).execution_options(populate_existing=True)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def list(self, account_id: str, path_prefix: str = "/") -> Sequence[ManagedPolicy]:
        stmt = (select(ManagedPolicy)
                .where(ManagedPolicy.account_id == account_id, ManagedPolicy.path.startswith(path_prefix))
                .order_by(ManagedPolicy.name))
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, path_prefix: str, after: Key, limit: int, *,
                   attached: bool = False, boundary: bool = False) -> Sequence[ManagedPolicy]:
        """Up to `limit + 1` customer policies under `path_prefix` after the key (name, id); `attached`: only
        those attached to an entity of the account, `boundary`: only some user's or role's permissions
        boundary."""
        stmt = select(ManagedPolicy).where(ManagedPolicy.account_id == account_id,
                                           starts_with(ManagedPolicy.path, path_prefix))
        if attached:
            stmt = stmt.where(exists().where(PolicyAttachment.policy_arn == ManagedPolicy.arn,
                                             PolicyAttachment.account_id == account_id))
        if boundary:
            stmt = stmt.where(or_(*(_bounded_by(model, account_id) for model in (IamUser, IamRole))))
        stmt = page_of(stmt, (ManagedPolicy.name, ManagedPolicy.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def delete(self, policy: ManagedPolicy) -> None:
        versions = await self.db.execute(delete(ManagedPolicyVersion)
                                         .where(ManagedPolicyVersion.policy_arn == policy.arn))
        await self.db.delete(policy)
        await self.db.flush()
        await counts.moved(self.db, policy.account_id, "policies", -1)
        await counts.moved(self.db, policy.account_id, "policy_versions", -rowcount(versions))

    async def add_version(self, version: ManagedPolicyVersion) -> None:
        await self._add(version)
        await counts.moved(self.db, _account_of_arn(version.policy_arn), "policy_versions", 1)

    async def version(self, arn: str, version_id: str) -> ManagedPolicyVersion | None:
        return await self.db.get(ManagedPolicyVersion, (arn, version_id))

    async def versions(self, arn: str) -> Sequence[ManagedPolicyVersion]:
        """Newest first."""
        stmt = select(ManagedPolicyVersion).where(ManagedPolicyVersion.policy_arn == arn)
        rows = (await self.db.execute(stmt)).scalars().all()
        return sorted(rows, key=lambda v: int(v.version_id[1:].split(".", 1)[0]), reverse=True)

    async def version_count(self, account_id: str) -> int:
        """Versions of all of the account's customer managed policies."""
        stmt = (select(func.count()).select_from(ManagedPolicyVersion)
                .join(ManagedPolicy, ManagedPolicy.arn == ManagedPolicyVersion.policy_arn)
                .where(ManagedPolicy.account_id == account_id))
        return int((await self.db.execute(stmt)).scalar_one())

    async def delete_version(self, version: ManagedPolicyVersion) -> None:
        await self.db.delete(version)
        await self.db.flush()
        await counts.moved(self.db, _account_of_arn(version.policy_arn), "policy_versions", -1)

    async def attached_entities(self, arn: str, account_id: str) -> Sequence[tuple[str, str, str, str]]:
        """(kind, id, name, path) of every user, group and role the policy is attached to, by kind then name."""
        found: builtins.list[tuple[str, str, str, str]] = []
        for kind, model in (("user", IamUser), ("group", IamGroup), ("role", IamRole)):
            stmt = (select(model.id, model.name, model.path)
                    .join(PolicyAttachment, PolicyAttachment.target_id == model.id)
                    .where(PolicyAttachment.policy_arn == arn, PolicyAttachment.account_id == account_id,
                           PolicyAttachment.target_kind == kind)
                    .order_by(model.name_lower))
            found.extend((kind, row.id, row.name, row.path) for row in (await self.db.execute(stmt)).all())
        return found

    async def entities_page(self, arn: str, account_id: str, kind: str, path_prefix: str, after: Key, limit: int, *,
                            boundaries: bool = False) -> builtins.list[tuple[str, str, str, str]]:
        """(id, name, name_lower, path) of up to `limit + 1` entities of `kind` ("user", "group" or "role") under
        `path_prefix` after the key (name_lower, id) that the policy is attached to, or with `boundaries`, whose
        permissions boundary it is (users and roles)."""
        model: type[IamUser] | type[IamGroup] | type[IamRole] = _ENTITY_MODELS[kind]
        stmt = select(model.id, model.name, model.name_lower, model.path).where(starts_with(model.path, path_prefix))
        if boundaries:
            bounded: type[IamUser] | type[IamRole] = IamRole if kind == "role" else IamUser
            stmt = stmt.where(bounded.permissions_boundary == arn, bounded.account_id == account_id)
        else:
            stmt = (stmt.join(PolicyAttachment, PolicyAttachment.target_id == model.id)
                    .where(PolicyAttachment.policy_arn == arn, PolicyAttachment.account_id == account_id,
                           PolicyAttachment.target_kind == kind))
            # in the order of ix_policy_attachments_policy_name: the entity's name is kept in the attachment
            stmt = page_of(stmt, (PolicyAttachment.target_name_lower, PolicyAttachment.target_id), after, limit)
            return [(row.id, row.name, row.name_lower, row.path) for row in (await self.db.execute(stmt)).all()]
        stmt = page_of(stmt, (model.name_lower, model.id), after, limit)  # ix_iam_{users,roles}_boundary_name
        return [(row.id, row.name, row.name_lower, row.path) for row in (await self.db.execute(stmt)).all()]

    async def boundary_count(self, arn: str, account_id: str) -> int:
        """Users and roles of the account whose permissions boundary is `arn`."""
        total = 0
        for model in (IamUser, IamRole):
            stmt = select(func.count()).select_from(model).where(model.permissions_boundary == arn,
                                                                 model.account_id == account_id)
            total += int((await self.db.execute(stmt)).scalar_one())
        return total

    async def boundary_counts(self, account_id: str) -> dict[str, int]:
        """Policy ARN -> how many of the account's users and roles have it as their permissions boundary."""
        counts: dict[str, int] = {}
        for model in (IamUser, IamRole):
            stmt = (select(model.permissions_boundary, func.count())
                    .where(model.account_id == account_id, model.permissions_boundary.is_not(None))
                    .group_by(model.permissions_boundary))
            for arn, count in (await self.db.execute(stmt)).all():
                if arn is not None:
                    counts[arn] = counts.get(arn, 0) + int(count)
        return counts

    async def attach(self, account_id: str, arn: str, kind: str, target_id: str) -> None:
        if await self.db.get(PolicyAttachment, (arn, kind, target_id)) is None:
            model = _ENTITY_MODELS[kind]
            name = await self.db.scalar(select(model.name_lower).where(model.id == target_id))
            await self._add(PolicyAttachment(account_id=account_id, policy_arn=arn, target_kind=kind,
                                             target_id=target_id, target_name_lower=name or ""))

    async def target_renamed(self, kind: str, target_id: str, name_lower: str) -> None:
        """The entity's new sort key in each of its attachments (at most 10: the attached-policies quota)."""
        await self.db.execute(update(PolicyAttachment)
                              .where(PolicyAttachment.target_kind == kind, PolicyAttachment.target_id == target_id)
                              .values(target_name_lower=name_lower).execution_options(synchronize_session=False))

    async def detach(self, arn: str, kind: str, target_id: str) -> bool:
        result = await self.db.execute(delete(PolicyAttachment).where(
            PolicyAttachment.policy_arn == arn, PolicyAttachment.target_kind == kind,
            PolicyAttachment.target_id == target_id))
        return rowcount(result) > 0

    async def attached_to(self, kind: str, target_id: str) -> Sequence[str]:
        stmt = (select(PolicyAttachment.policy_arn)
                .where(PolicyAttachment.target_kind == kind, PolicyAttachment.target_id == target_id)
                .order_by(PolicyAttachment.policy_arn))
        return (await self.db.execute(stmt)).scalars().all()

    async def attachment_count(self, arn: str, account_id: str) -> int:
        stmt = select(func.count()).select_from(PolicyAttachment).where(
            PolicyAttachment.policy_arn == arn, PolicyAttachment.account_id == account_id)
        return int((await self.db.execute(stmt)).scalar_one())

    async def attachments_of(self, arn: str, account_id: str) -> Sequence[PolicyAttachment]:
        stmt = select(PolicyAttachment).where(PolicyAttachment.policy_arn == arn,
                                              PolicyAttachment.account_id == account_id)
        return (await self.db.execute(stmt)).scalars().all()

    async def detach_all_from(self, kind: str, target_id: str) -> None:
        await self.db.execute(delete(PolicyAttachment).where(
            PolicyAttachment.target_kind == kind, PolicyAttachment.target_id == target_id))

    async def put_inline(self, account_id: str, kind: str, target_id: str, name: str, document: str) -> None:
        row = await self.db.get(InlinePolicy, (kind, target_id, name))
        if row is None:
            await self._add(InlinePolicy(account_id=account_id, target_kind=kind, target_id=target_id, name=name,
                                         document=document))
        else:
            row.document = document
            await self.db.flush()

    async def get_inline(self, kind: str, target_id: str, name: str) -> InlinePolicy | None:
        return await self.db.get(InlinePolicy, (kind, target_id, name))

    async def inline_of(self, kind: str, target_id: str) -> Sequence[InlinePolicy]:
        stmt = (select(InlinePolicy).where(InlinePolicy.target_kind == kind, InlinePolicy.target_id == target_id)
                .order_by(InlinePolicy.name))
        return (await self.db.execute(stmt)).scalars().all()

    async def delete_inline(self, row: InlinePolicy) -> None:
        await self.db.delete(row)
        await self.db.flush()

    async def delete_all_inline(self, kind: str, target_id: str) -> None:
        await self.db.execute(delete(InlinePolicy).where(InlinePolicy.target_kind == kind,
                                                         InlinePolicy.target_id == target_id))


_ENTITY_MODELS: dict[str, type[IamUser] | type[IamGroup] | type[IamRole]] = {
    "user": IamUser, "group": IamGroup, "role": IamRole}


def _account_of_arn(arn: str) -> str:
    """The account of a customer managed policy's ARN (`arn:aws:iam::<account>:policy/...`)."""
    return arn.split(":")[4]


def _bounded_by(model: type[IamUser] | type[IamRole], account_id: str) -> ColumnElement[bool]:
    return exists().where(model.permissions_boundary == ManagedPolicy.arn, model.account_id == account_id)


# Built once: building a statement's expressions costs more than running it on SQLite (GetUser reads tags).
_TAG_ROWS = select(Tag).where(Tag.target_kind == bindparam("kind"), Tag.target_id == bindparam("target_id")).order_by(
    Tag.key)


class Tags(Repository):
    """Tags of IAM entities. Keys are matched without regard to case, as IAM does: an entity has one tag per
    key, and putting `team` where `Team` is replaces that tag (key and value). Matching is done here, in Python,
    so that every backend folds case alike (SQLite's lower() folds ASCII only)."""

    async def _rows(self, kind: str, target_id: str) -> list[Tag]:
        rows = await self.db.execute(_TAG_ROWS, {"kind": kind, "target_id": target_id})
        return list(rows.scalars().all())

    async def of(self, kind: str, target_id: str) -> Sequence[Tag]:
        """One tag per key, whatever its case. Rows whose keys differ only in case can only have been stored
        before keys were matched that way; of those, the key last in binary order stands, on every backend."""
        rows = await self._rows(kind, target_id)
        chosen: dict[str, Tag] = {}
        for row in rows:
            seen = chosen.get(row.key.lower())
            if seen is None or row.key > seen.key:
                chosen[row.key.lower()] = row
        return [row for row in rows if chosen[row.key.lower()] is row]

    async def put(self, kind: str, target_id: str, key: str, value: str) -> None:
        same = [row for row in await self._rows(kind, target_id) if row.key.lower() == key.lower()]
        kept = next((row for row in same if row.key == key), None)
        for row in same:
            if row is not kept:
                await self.db.delete(row)
        await self.db.flush()
        if kept is None:
            await self._add(Tag(target_kind=kind, target_id=target_id, key=key, value=value))
        else:
            kept.value = value
            await self.db.flush()

    async def remove(self, kind: str, target_id: str, keys: Sequence[str]) -> None:
        """Removes the tags of `keys`, whatever the case of the stored keys."""
        wanted = {key.lower() for key in keys}
        for row in await self._rows(kind, target_id):
            if row.key.lower() in wanted:
                await self.db.delete(row)
        await self.db.flush()

    async def remove_all(self, kind: str, target_id: str) -> None:
        await self.db.execute(delete(Tag).where(Tag.target_kind == kind, Tag.target_id == target_id))
