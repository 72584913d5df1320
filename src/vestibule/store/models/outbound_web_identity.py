"""Outbound web identity federation of one account: the issuer ID in its issuer URL, whether GetWebIdentityToken
vends JWTs, and the signing keys (PEM private keys sealed under the master key; kept when vending is turned off,
so tokens issued before still verify)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class OutboundWebIdentity(Base):
    __tablename__ = "outbound_web_identity"
    __table_args__ = (UniqueConstraint("issuer_id", name="uq_outbound_web_identity_issuer"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(36))
    enabled: Mapped[bool] = mapped_column(Boolean)
    rsa_kid: Mapped[str] = mapped_column(String(64))
    rsa_key_sealed: Mapped[str] = mapped_column(Text)
    ec_kid: Mapped[str] = mapped_column(String(64))
    ec_key_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
