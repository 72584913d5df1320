"""An account's contact details and the undo links of its root email changes."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AccountContact(Base):
    """The account's contact details (all optional) and its alternate security contact; no row: none set."""

    __tablename__ = "account_contacts"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    company: Mapped[str] = mapped_column(String(100), default="")
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    region: Mapped[str] = mapped_column(String(60), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    security_name: Mapped[str] = mapped_column(String(100), default="")
    security_email: Mapped[str] = mapped_column(String(254), default="")
    security_phone: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[float] = mapped_column(Float)


class RootEmailChange(Base):
    """One change of an account's root email: the undo link mailed to the old address (only its SHA-256),
    usable once until `expires_at`; while usable, the old address stays reserved for this account."""

    __tablename__ = "root_email_changes"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    old_email: Mapped[str] = mapped_column(String(254), index=True)
    new_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)
