"""Reads of a whole account one page at a time, for its reports (credential report, authorization details):
entities in name order after a key, and what belongs to a page of them in one statement per kind."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from ..models import (
    AccessKey,
    AuditEvent,
    GroupMembership,
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    InstanceProfile,
    ManagedPolicy,
    ManagedPolicyVersion,
    MfaDevice,
    PolicyAttachment,
    SigningCertificate,
    Tag,
    WebAuthnCredential,
)
from .base import Repository


class AccountDetails(Repository):
    async def users_after(self, account_id: str, after: str | None, limit: int) -> Sequence[IamUser]:
        """Users by lower-cased name, those after `after` (a lower-cased name), at most `limit`."""
        stmt = select(IamUser).where(IamUser.account_id == account_id)
        if after is not None:
            stmt = stmt.where(IamUser.name_lower > after)
        return (await self.db.execute(stmt.order_by(IamUser.name_lower).limit(limit))).scalars().all()

    async def groups_after(self, account_id: str, after: str | None, limit: int) -> Sequence[IamGroup]:
        stmt = select(IamGroup).where(IamGroup.account_id == account_id)
        if after is not None:
            stmt = stmt.where(IamGroup.name_lower > after)
        return (await self.db.execute(stmt.order_by(IamGroup.name_lower).limit(limit))).scalars().all()

    async def roles_after(self, account_id: str, after: str | None, limit: int) -> Sequence[IamRole]:
        stmt = select(IamRole).where(IamRole.account_id == account_id)
        if after is not None:
            stmt = stmt.where(IamRole.name_lower > after)
        return (await self.db.execute(stmt.order_by(IamRole.name_lower).limit(limit))).scalars().all()

    async def policies_after(self, account_id: str, after: str | None, limit: int) -> Sequence[ManagedPolicy]:
        """Customer managed policies by name (names are unique per account)."""
        stmt = select(ManagedPolicy).where(ManagedPolicy.account_id == account_id)
        if after is not None:
            stmt = stmt.where(ManagedPolicy.name > after)
        return (await self.db.execute(stmt.order_by(ManagedPolicy.name).limit(limit))).scalars().all()

    # ---- what belongs to a page of entities ---------------------------------------------------------

    async def inline_of(self, kind: str, ids: Sequence[str]) -> Sequence[InlinePolicy]:
        if not ids:
            return []
        stmt = (select(InlinePolicy).where(InlinePolicy.target_kind == kind, InlinePolicy.target_id.in_(list(ids)))
                .order_by(InlinePolicy.target_id, InlinePolicy.name))
        return (await self.db.execute(stmt)).scalars().all()

    async def attached_of(self, kind: str, ids: Sequence[str]) -> Sequence[PolicyAttachment]:
        if not ids:
            return []
        stmt = (select(PolicyAttachment)
                .where(PolicyAttachment.target_kind == kind, PolicyAttachment.target_id.in_(list(ids)))
                .order_by(PolicyAttachment.target_id, PolicyAttachment.policy_arn))
        return (await self.db.execute(stmt)).scalars().all()

    async def groups_of_users(self, user_ids: Sequence[str]) -> Sequence[tuple[str, IamGroup]]:
        """(user ID, group) of every membership of these users, groups by name."""
        if not user_ids:
            return []
        stmt = (select(GroupMembership.user_id, IamGroup)
                .join(IamGroup, IamGroup.id == GroupMembership.group_id)
                .where(GroupMembership.user_id.in_(list(user_ids))).order_by(IamGroup.name_lower))
        return [(row[0], row[1]) for row in (await self.db.execute(stmt)).all()]

    async def members_of_groups(self, group_ids: Sequence[str]) -> Sequence[tuple[str, IamUser]]:
        """(group ID, user) of every member of these groups, users by name."""
        if not group_ids:
            return []
        stmt = (select(GroupMembership.group_id, IamUser)
                .join(IamUser, IamUser.id == GroupMembership.user_id)
                .where(GroupMembership.group_id.in_(list(group_ids))).order_by(IamUser.name_lower))
        return [(row[0], row[1]) for row in (await self.db.execute(stmt)).all()]

    async def tags_of(self, kind: str, ids: Sequence[str]) -> Sequence[Tag]:
        if not ids:
            return []
        stmt = (select(Tag).where(Tag.target_kind == kind, Tag.target_id.in_(list(ids)))
                .order_by(Tag.target_id, Tag.key))
        return (await self.db.execute(stmt)).scalars().all()

    async def profiles_of_roles(self, role_ids: Sequence[str]) -> Sequence[InstanceProfile]:
        if not role_ids:
            return []
        stmt = (select(InstanceProfile).where(InstanceProfile.role_id.in_(list(role_ids)))
                .order_by(InstanceProfile.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def versions_of(self, policy_arns: Sequence[str]) -> Sequence[ManagedPolicyVersion]:
        if not policy_arns:
            return []
        stmt = (select(ManagedPolicyVersion).where(ManagedPolicyVersion.policy_arn.in_(list(policy_arns)))
                .order_by(ManagedPolicyVersion.policy_arn, ManagedPolicyVersion.created_at))
        return (await self.db.execute(stmt)).scalars().all()

    async def attachment_counts(self, account_id: str, policy_arns: Sequence[str]) -> dict[str, int]:
        if not policy_arns:
            return {}
        stmt = (select(PolicyAttachment.policy_arn, func.count())
                .where(PolicyAttachment.account_id == account_id, PolicyAttachment.policy_arn.in_(list(policy_arns)))
                .group_by(PolicyAttachment.policy_arn))
        return {row[0]: int(row[1]) for row in (await self.db.execute(stmt)).all()}

    async def boundary_counts(self, account_id: str, policy_arns: Sequence[str]) -> dict[str, int]:
        """How many users and roles of the account have each policy as their permissions boundary."""
        counts: dict[str, int] = {}
        if not policy_arns:
            return counts
        for model in (IamUser, IamRole):
            stmt = (select(model.permissions_boundary, func.count())
                    .where(model.account_id == account_id, model.permissions_boundary.in_(list(policy_arns)))
                    .group_by(model.permissions_boundary))
            for arn, count in (await self.db.execute(stmt)).all():
                if arn is not None:
                    counts[arn] = counts.get(arn, 0) + int(count)
        return counts

    async def attached_aws_managed(self, account_id: str) -> set[str]:
        """The AWS managed policies attached to something in the account."""
        stmt = (select(PolicyAttachment.policy_arn).distinct()
                .where(PolicyAttachment.account_id == account_id,
                       PolicyAttachment.policy_arn.startswith("arn:aws:iam::aws:")))
        return set((await self.db.execute(stmt)).scalars().all())

    # ---- credentials of a page of principals (the credential report) --------------------------------

    async def access_keys_of(self, principal_keys: Sequence[str]) -> Sequence[AccessKey]:
        """Oldest first, so a principal's first key is its `access_key_1`."""
        if not principal_keys:
            return []
        stmt = (select(AccessKey).where(AccessKey.principal_key.in_(list(principal_keys)))
                .order_by(AccessKey.created_at, AccessKey.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def certificates_of(self, principal_keys: Sequence[str]) -> Sequence[SigningCertificate]:
        if not principal_keys:
            return []
        stmt = (select(SigningCertificate).where(SigningCertificate.principal_key.in_(list(principal_keys)))
                .order_by(SigningCertificate.uploaded_at, SigningCertificate.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def with_mfa(self, principal_keys: Sequence[str]) -> set[str]:
        """The principals among these with an enabled MFA device."""
        if not principal_keys:
            return set()
        stmt = (select(MfaDevice.principal_key).distinct()
                .where(MfaDevice.principal_key.in_(list(principal_keys)), MfaDevice.enabled_at.is_not(None)))
        keys = (select(WebAuthnCredential.principal_key).distinct()  # passkeys and security keys are MFA too
                .where(WebAuthnCredential.principal_key.in_(list(principal_keys))))
        found = set((await self.db.execute(stmt)).scalars().all()) | set((await self.db.execute(keys)).scalars().all())
        return {key for key in found if key}

    async def last_console_sign_in(self, account_id: str, principal_arn: str) -> float | None:
        """When `principal_arn` last signed in to the console (its latest successful ConsoleLogin event)."""
        stmt = select(func.max(AuditEvent.at)).where(
            AuditEvent.account_id == account_id, AuditEvent.event == "ConsoleLogin",
            AuditEvent.result == "Success", AuditEvent.principal == principal_arn)
        found = (await self.db.execute(stmt)).scalar_one_or_none()
        return float(found) if found is not None else None
