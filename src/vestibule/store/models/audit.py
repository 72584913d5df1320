"""The audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_at_id", "account_id", "at", "id"),
                      Index("ix_audit_events_at", "at", "id"),  # retention: the oldest events first
                      Index("ix_audit_events_principal_at", "principal", "at", "id"))  # a profile's events

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
