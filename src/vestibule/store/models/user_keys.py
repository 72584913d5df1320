"""Per-user credentials that Vestibule stores but does not sign in with: SSH public keys, X.509 signing
certificates and service-specific credentials (IAM keeps them for other services)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SshPublicKey(Base):
    __tablename__ = "ssh_public_keys"
    __table_args__ = (
        UniqueConstraint("principal_key", "fingerprint", name="uq_ssh_public_keys_principal_fingerprint"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    body: Mapped[str] = mapped_column(Text)  # the OpenSSH one-line form, as AWS returns for Encoding=SSH
    fingerprint: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(8), default="Active")
    uploaded_at: Mapped[float] = mapped_column(Float)


class SigningCertificate(Base):
    __tablename__ = "signing_certificates"
    __table_args__ = (UniqueConstraint("account_id", "der_sha256", name="uq_signing_certificates_account_der"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    body: Mapped[str] = mapped_column(Text)
    der_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="Active")
    uploaded_at: Mapped[float] = mapped_column(Float)


class ServiceSpecificCredential(Base):
    """The password (or Bedrock API key secret) is shown once; only its SHA-256 is kept (it is 256 bits of
    randomness, and nothing here signs in with it)."""

    __tablename__ = "service_specific_credentials"
    __table_args__ = (Index("ix_service_specific_credentials_account_created", "account_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    service_name: Mapped[str] = mapped_column(String(64))
    service_user_name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="Active")
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, default=None)
