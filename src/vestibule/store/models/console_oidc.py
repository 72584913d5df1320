"""Console sign-in with an OIDC provider: per account, the IAM OIDC providers shown as "Sign in with <label>" on
its IAM sign-in page, with the client ID Vestibule is registered as at the provider and its client secret (sealed
under the master key; none for a public client, which PKCE alone protects)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ConsoleOidcLogin(Base):
    __tablename__ = "console_oidc_logins"
    __table_args__ = (UniqueConstraint("account_id", "provider_arn", name="uq_console_oidc_logins_provider"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider_arn: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
