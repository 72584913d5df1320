"""The language each principal gets mail in, remembered from the pages that caused its mail."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class MailLanguage(Base):
    """One row per principal that chose a language (`principal_key` as `<kind>:<id>`); no row: English."""

    __tablename__ = "mail_languages"

    principal_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[float] = mapped_column(Float)
