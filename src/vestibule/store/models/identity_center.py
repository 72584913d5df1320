"""Identity Center (SSO Admin): instances with their settings, permission sets, where each is provisioned,
account assignments, and the asynchronous request statuses SSO Admin describes."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SsoInstance(Base):
    """An Identity Center instance: one per owner account; its identity store ID names the directory."""

    __tablename__ = "sso_instances"

    arn: Mapped[str] = mapped_column(String(64), primary_key=True)  # arn:aws:sso:::instance/ssoins-<16 hex>
    identity_store_id: Mapped[str] = mapped_column(String(12), unique=True)  # d-<10 hex>
    owner_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # ORGANIZATION | ACCOUNT
    status: Mapped[str] = mapped_column(String(32))
    client_token: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[float] = mapped_column(Float)
    portal_subdomain: Mapped[str | None] = mapped_column(String(63), unique=True, default=None)
    settings: Mapped[str] = mapped_column(Text)  # JSON: services/identity_center/settings.py
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {Key, Value}


class SsoPermissionSet(Base):
    __tablename__ = "sso_permission_sets"
    __table_args__ = (UniqueConstraint("instance_arn", "name", name="uq_sso_permission_sets_instance_name"),)

    arn: Mapped[str] = mapped_column(String(96), primary_key=True)
    instance_arn: Mapped[str] = mapped_column(ForeignKey("sso_instances.arn", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(String(700), default=None)
    session_duration: Mapped[int] = mapped_column(Integer)  # seconds
    relay_state: Mapped[str | None] = mapped_column(String(240), default=None)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)  # a change after a provisioning makes that one not the latest
    managed_policies: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of policy ARNs
    inline_policy: Mapped[str | None] = mapped_column(Text, default=None)
    tags: Mapped[str] = mapped_column(Text, default="[]")


class SsoProvisioning(Base):
    """A permission set provisioned to an account: the reserved IAM role it made there."""

    __tablename__ = "sso_provisionings"
    __table_args__ = (Index("ix_sso_provisionings_account_set", "account_id", "permission_set_arn"),)

    permission_set_arn: Mapped[str] = mapped_column(ForeignKey("sso_permission_sets.arn", ondelete="CASCADE"),
                                                    primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    instance_arn: Mapped[str] = mapped_column(String(64), index=True)
    role_name: Mapped[str] = mapped_column(String(64))
    provisioned_at: Mapped[float] = mapped_column(Float)


class SsoAssignment(Base):
    __tablename__ = "sso_assignments"
    __table_args__ = (Index("ix_sso_assignments_principal_account", "instance_arn", "principal_id", "account_id"),)

    permission_set_arn: Mapped[str] = mapped_column(ForeignKey("sso_permission_sets.arn", ondelete="CASCADE"),
                                                    primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    principal_type: Mapped[str] = mapped_column(String(8), primary_key=True)  # USER | GROUP
    principal_id: Mapped[str] = mapped_column(String(47), primary_key=True)
    instance_arn: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class SsoRequest(Base):
    """One ProvisionPermissionSet, CreateAccountAssignment or DeleteAccountAssignment request and its outcome."""

    __tablename__ = "sso_requests"
    __table_args__ = (Index("ix_sso_requests_instance_kind", "instance_arn", "kind", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4
    instance_arn: Mapped[str] = mapped_column(ForeignKey("sso_instances.arn", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # provision | create | delete
    status: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS | SUCCEEDED | FAILED
    failure_reason: Mapped[str | None] = mapped_column(String(1024), default=None)
    permission_set_arn: Mapped[str] = mapped_column(String(96))
    target_id: Mapped[str | None] = mapped_column(String(12), default=None)
    principal_type: Mapped[str | None] = mapped_column(String(8), default=None)
    principal_id: Mapped[str | None] = mapped_column(String(47), default=None)
    created_at: Mapped[float] = mapped_column(Float)
