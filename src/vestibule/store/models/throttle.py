"""Failure counters for throttling (the database backend; Redis keeps its own)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ThrottleCounter(Base):
    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[float] = mapped_column(Float, index=True)
