"""Tables. Times are Unix seconds (float) so SQLite and PostgreSQL agree exactly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    alias: Mapped[str | None] = mapped_column(String(63), unique=True)
    root_email: Mapped[str] = mapped_column(String(254), unique=True)
    root_password_hash: Mapped[str] = mapped_column(Text)
    root_password_changed_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[float] = mapped_column(Float)


class IamUser(Base):
    __tablename__ = "iam_users"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_iam_users_account_name"),)

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


class PasswordHistory(Base):
    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class MfaDevice(Base):
    __tablename__ = "mfa_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    principal_key: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    name: Mapped[str] = mapped_column(String(128))
    serial: Mapped[str] = mapped_column(String(256), unique=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    enabled_at: Mapped[float | None] = mapped_column(Float, default=None)
    last_used_step: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[float] = mapped_column(Float)


class Session(Base):
    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    idle_seconds: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[float | None] = mapped_column(Float, default=None)
    mfa_used: Mapped[bool] = mapped_column(Boolean, default=False)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")


class FlowRecord(Base):
    __tablename__ = "flows"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    browser_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RecoveryToken(Base):
    __tablename__ = "recovery_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)


class KnownBrowser(Base):
    __tablename__ = "known_browsers"

    principal_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)


class Captcha(Base):
    __tablename__ = "captchas"

    browser_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer_sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float] = mapped_column(Float)


class ThrottleCounter(Base):
    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[float] = mapped_column(Float)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    account_id: Mapped[str | None] = mapped_column(String(12), default=None)
    principal: Mapped[str] = mapped_column(String(256), default="")
    event: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32), default="")
    mfa_used: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str] = mapped_column(String(32))
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessKey(Base):
    """Long-term keys (AKIA...) of root and IAM users; the secret is sealed for SigV4 checks."""

    __tablename__ = "access_keys"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="Active")
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, default=None)
    last_used_service: Mapped[str | None] = mapped_column(String(32), default=None)
    last_used_region: Mapped[str | None] = mapped_column(String(32), default=None)


class TemporaryCredential(Base):
    """STS-issued credentials (ASIA...): session token stored as a hash."""

    __tablename__ = "temporary_credentials"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # session | assumed-role | federated-user
    source_principal_key: Mapped[str] = mapped_column(String(40))
    arn: Mapped[str] = mapped_column(String(512))
    user_id: Mapped[str] = mapped_column(String(160))
    role_id: Mapped[str | None] = mapped_column(String(21), default=None)
    session_name: Mapped[str | None] = mapped_column(String(64), default=None)
    session_policy: Mapped[str | None] = mapped_column(Text, default=None)
    mfa_authenticated: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_authenticated_at: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class IamGroup(Base):
    __tablename__ = "iam_groups"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_iam_groups_account_name"),)

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_lower: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    created_at: Mapped[float] = mapped_column(Float)


class GroupMembership(Base):
    __tablename__ = "group_memberships"

    group_id: Mapped[str] = mapped_column(ForeignKey("iam_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("iam_users.id", ondelete="CASCADE"), primary_key=True, index=True)


class IamRole(Base):
    __tablename__ = "iam_roles"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_iam_roles_account_name"),)

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_lower: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    description: Mapped[str] = mapped_column(String(1000), default="")
    trust_policy: Mapped[str] = mapped_column(Text)
    max_session_duration: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, default=None)


class ManagedPolicy(Base):
    """Customer managed policies; the built-in ones live in code, not here."""

    __tablename__ = "managed_policies"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_managed_policies_account_name"),)

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


class PolicyAttachment(Base):
    __tablename__ = "policy_attachments"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    policy_arn: Mapped[str] = mapped_column(String(600), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # user | group | role
    target_id: Mapped[str] = mapped_column(String(21), primary_key=True, index=True)


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
