"""AWS Organizations: an organization (its management account and its one root), the accounts that belong to
it, and the CreateAccount requests with their outcome."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(34), primary_key=True)  # o-<10 lowercase alnum>
    management_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    feature_set: Mapped[str] = mapped_column(String(32))  # ALL | CONSOLIDATED_BILLING
    root_id: Mapped[str] = mapped_column(String(34), unique=True)  # r-<4 lowercase alnum>
    created_at: Mapped[float] = mapped_column(Float)


class OrganizationAccount(Base):
    """An account's membership: an account belongs to at most one organization (the management account too)."""

    __tablename__ = "organization_accounts"
    __table_args__ = (Index("ix_organization_accounts_org_joined", "organization_id", "joined_at"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    joined_method: Mapped[str] = mapped_column(String(16))  # INVITED | CREATED
    joined_at: Mapped[float] = mapped_column(Float)


class CreateAccountRequest(Base):
    """One CreateAccount call and its outcome (a CreateAccountStatus)."""

    __tablename__ = "create_account_requests"
    __table_args__ = (Index("ix_create_account_requests_org_requested", "organization_id", "requested_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # car-<32 lowercase hex>
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    account_name: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS | SUCCEEDED | FAILED
    requested_at: Mapped[float] = mapped_column(Float)
    completed_at: Mapped[float | None] = mapped_column(Float, default=None)
    account_id: Mapped[str | None] = mapped_column(String(12), default=None)
    failure_reason: Mapped[str | None] = mapped_column(String(64), default=None)
