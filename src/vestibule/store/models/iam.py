"""IAM identities and what is attached to them: users, groups, roles, policies, tags."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class IamUser(Base):
    __tablename__ = "iam_users"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_iam_users_account_name"),
                      Index("ix_iam_users_boundary_name", "permissions_boundary", "account_id", "name_lower", "id"),
                      Index("ix_iam_users_account_path", "account_id", "path", "name_lower", "id"))  # PathPrefix

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_lower: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    password_reset_required: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[float | None] = mapped_column(Float, default=None)
    password_last_used_at: Mapped[float | None] = mapped_column(Float, default=None)
    login_profile_created_at: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[float] = mapped_column(Float)
    permissions_boundary: Mapped[str | None] = mapped_column(String(600), default=None, index=True)  # policy ARN


class IamGroup(Base):
    __tablename__ = "iam_groups"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_iam_groups_account_name"),
                      Index("ix_iam_groups_account_path", "account_id", "path", "name_lower", "id"))

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_lower: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    created_at: Mapped[float] = mapped_column(Float)


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    __table_args__ = (Index("ix_group_memberships_group_name", "group_id", "user_name_lower", "user_id"),)

    group_id: Mapped[str] = mapped_column(ForeignKey("iam_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("iam_users.id", ondelete="CASCADE"), primary_key=True, index=True)
    user_name_lower: Mapped[str] = mapped_column(String(64))  # the member's sort key, kept by UpdateUser


class IamRole(Base):
    __tablename__ = "iam_roles"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_iam_roles_account_name"),
                      Index("ix_iam_roles_boundary_name", "permissions_boundary", "account_id", "name_lower", "id"),
                      Index("ix_iam_roles_account_path", "account_id", "path", "name_lower", "id"))

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_lower: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    description: Mapped[str | None] = mapped_column(String(1000), default=None)  # None: never given
    trust_policy: Mapped[str] = mapped_column(Text)
    max_session_duration: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, default=None)
    last_used_region: Mapped[str | None] = mapped_column(String(32), default=None)
    permissions_boundary: Mapped[str | None] = mapped_column(String(600), default=None, index=True)  # policy ARN


class ManagedPolicy(Base):
    """Customer managed policies; the built-in ones live in code, not here."""

    __tablename__ = "managed_policies"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_managed_policies_account_name"),
                      Index("ix_managed_policies_account_path", "account_id", "path", "name", "id"))

    arn: Mapped[str] = mapped_column(String(600), primary_key=True)
    id: Mapped[str] = mapped_column(String(21), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    description: Mapped[str] = mapped_column(String(1000), default="")
    document: Mapped[str] = mapped_column(Text)
    default_version: Mapped[str] = mapped_column(String(8), default="v1")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    versions_created: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ManagedPolicyVersion(Base):
    """Every version of a customer managed policy; `ManagedPolicy.document` is a copy of the default one's."""

    __tablename__ = "managed_policy_versions"

    policy_arn: Mapped[str] = mapped_column(ForeignKey("managed_policies.arn", ondelete="CASCADE"),
                                            primary_key=True)
    version_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class PolicyAttachment(Base):
    __tablename__ = "policy_attachments"
    __table_args__ = (Index("ix_policy_attachments_policy_name", "policy_arn", "account_id", "target_kind",
                            "target_name_lower", "target_id"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    policy_arn: Mapped[str] = mapped_column(String(600), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # user | group | role
    target_id: Mapped[str] = mapped_column(String(21), primary_key=True, index=True)
    target_name_lower: Mapped[str] = mapped_column(String(128))  # the entity's sort key, kept by renames


class InlinePolicy(Base):
    __tablename__ = "inline_policies"

    target_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(21), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    document: Mapped[str] = mapped_column(Text)


class Tag(Base):
    __tablename__ = "tags"

    target_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), default="")
