"""Credentials: password history, MFA devices, long-term access keys, STS temporary credentials."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class PasswordHistory(Base):
    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class MfaDevice(Base):
    __tablename__ = "mfa_devices"
    __table_args__ = (Index("ix_mfa_devices_account_serial", "account_id", "serial"),)  # ListVirtualMFADevices

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # NULL for a personal profile's device (0028: a profile has no account)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    principal_key: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    name: Mapped[str] = mapped_column(String(128))
    serial: Mapped[str] = mapped_column(String(256), unique=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    enabled_at: Mapped[float | None] = mapped_column(Float, default=None)
    last_used_step: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[float] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(64), default=None)  # the owner's name for it (0026)
    last_used_at: Mapped[float | None] = mapped_column(Float, default=None)  # its last accepted code (0026)
    drift_steps: Mapped[int | None] = mapped_column(Integer, default=None)  # its clock's offset, from a resync


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
    kind: Mapped[str] = mapped_column(String(16))  # session | assumed-role | federated-user | login
    source_principal_key: Mapped[str] = mapped_column(String(40))
    arn: Mapped[str] = mapped_column(String(512))
    user_id: Mapped[str] = mapped_column(String(160))
    role_id: Mapped[str | None] = mapped_column(String(21), default=None)
    session_name: Mapped[str | None] = mapped_column(String(64), default=None)
    session_policy: Mapped[str | None] = mapped_column(Text, default=None)
    source_identity: Mapped[str | None] = mapped_column(String(256), default=None)  # role sessions: SourceIdentity
    # session tags as JSON pairs [[key, value], ...]; the keys of the transitive ones as a JSON list
    session_tags: Mapped[str | None] = mapped_column(Text, default=None)
    transitive_tag_keys: Mapped[str | None] = mapped_column(Text, default=None)
    mfa_authenticated: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_authenticated_at: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    # kind login (`vestibule login`): the login session (sessions.id_hash) they die with
    login_session_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
