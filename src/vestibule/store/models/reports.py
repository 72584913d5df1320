"""IAM reports and account settings: the account's credential report, report jobs (service last accessed,
Organizations access), when each principal last used each action of a service, and per-account settings."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CredentialReport(Base):
    """The account's latest credential report (CSV) and, while one is being built, since when."""

    __tablename__ = "credential_reports"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[str | None] = mapped_column(Text, default=None)
    generated_at: Mapped[float | None] = mapped_column(Float, default=None)
    generating_since: Mapped[float | None] = mapped_column(Float, default=None)


class ReportJob(Base):
    """A report made by a Generate... operation, kept for its Get...: `result` is its JSON."""

    __tablename__ = "report_jobs"
    __table_args__ = (Index("ix_report_jobs_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # service-access | organizations
    subject: Mapped[str] = mapped_column(String(2048))  # the ARN or entity path reported on
    granularity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS | COMPLETED | FAILED
    created_at: Mapped[float] = mapped_column(Float)
    completed_at: Mapped[float | None] = mapped_column(Float, default=None)
    result: Mapped[str] = mapped_column(Text)


class ServiceLastAccessed(Base):
    """The last successful authorized call of one action of one service by one principal (user or role)."""

    __tablename__ = "service_last_accessed"

    principal_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    last_at: Mapped[float] = mapped_column(Float)
    region: Mapped[str] = mapped_column(String(32))


class AccountSettings(Base):
    """Per-account settings; an account without a row has the defaults."""

    __tablename__ = "account_settings"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    global_endpoint_token_version: Mapped[int] = mapped_column(Integer, default=1)
