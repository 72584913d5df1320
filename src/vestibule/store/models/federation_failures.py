"""Federated sign-in failures by reference ID: what `vestibule federation diagnose --reference ID` reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class FederationFailureRecord(Base):
    """One failed federated sign-in. `detail`: the failure's message, the values the user was shown, the
    administrator's details and the principal; never a token, a password or an assertion's text. Kept as long as
    audit events (`expires_at` None: for ever)."""

    __tablename__ = "federation_failures"
    __table_args__ = (Index("ix_federation_failures_expires_at", "expires_at"),)

    reference: Mapped[str] = mapped_column(String(24), primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    account_id: Mapped[str | None] = mapped_column(String(12), default=None)
    door: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(2048), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[float | None] = mapped_column(Float, default=None)
