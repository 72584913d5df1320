"""Console sessions and the browsers that signed in."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Session(Base):
    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    idle_seconds: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[float | None] = mapped_column(Float, default=None, index=True)
    mfa_used: Mapped[bool] = mapped_column(Boolean, default=False)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    reauthenticated_at: Mapped[float | None] = mapped_column(Float, default=None)  # password confirmed again
    reauthenticated_browser: Mapped[str | None] = mapped_column(String(64), default=None)  # ... in this browser
    kind: Mapped[str] = mapped_column(String(8), default="console", server_default="console")  # console | cli
    # the session ARN's ID (arn:aws:signin::<account>:session/<public_id>); NULL for rows older than 0022
    public_id: Mapped[str | None] = mapped_column(String(32), default=None, unique=True, index=True)


class KnownBrowser(Base):
    __tablename__ = "known_browsers"

    principal_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)
