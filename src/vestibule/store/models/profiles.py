"""Personal profiles: an identity of its own (no account), its trusted browsers and its data exports."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Profile(Base):
    """One per email (stored lower-cased); the principal is `profile:<id>`, the id `p` + 20 base32 characters."""

    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    nickname: Mapped[str | None] = mapped_column(String(100), default=None)
    password_hash: Mapped[str] = mapped_column(Text)
    password_changed_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)


class ProfileTrustedBrowser(Base):
    """A browser whose sign-ins skip MFA: the cookie's token (hashed), the user agent (hashed) and the client
    network (/24 or /48) it was trusted from; all three must match again."""

    __tablename__ = "profile_trusted_browsers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent_hash: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class ProfileExport(Base):
    """A requested copy of the profile's data: pending, then ready (content) until it expires."""

    __tablename__ = "profile_exports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # pending | ready
    token_hash: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[float] = mapped_column(Float)
    ready_at: Mapped[float | None] = mapped_column(Float, default=None)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
