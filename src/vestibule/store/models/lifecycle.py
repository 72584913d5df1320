"""Closed and suspended accounts: when and why (the status itself is `accounts.status`), and the pending
code a root user without MFA types to confirm closing the account."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AccountLifecycle(Base):
    __tablename__ = "account_lifecycle"

    account_id: Mapped[str] = mapped_column(String(12), ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    closed_at: Mapped[float | None] = mapped_column(Float, default=None)
    suspended_at: Mapped[float | None] = mapped_column(Float, default=None)
    suspension_reason: Mapped[str | None] = mapped_column(Text, default=None)
    suspension_contact: Mapped[str | None] = mapped_column(String(254), default=None)
    closure_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    closure_code_expires_at: Mapped[float | None] = mapped_column(Float, default=None)
    closure_code_session: Mapped[str | None] = mapped_column(String(64), default=None)
    closure_code_attempts: Mapped[int] = mapped_column(Integer, default=0)
