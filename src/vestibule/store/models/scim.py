"""SCIM bearer tokens: each belongs to one identity store (and its owner account); only the SHA-256 of the
token is stored."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ScimToken(Base):
    __tablename__ = "scim_tokens"
    __table_args__ = (Index("ix_scim_tokens_store", "identity_store_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identity_store_id: Mapped[str] = mapped_column(String(12))
    owner_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
