"""Accounts and their root users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


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
