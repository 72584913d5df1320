"""Server certificates uploaded through IAM: the certificate and its chain. The private key is checked against the
certificate at upload and not kept (no API returns it, and nothing here serves TLS with it)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ServerCertificate(Base):
    __tablename__ = "server_certificates"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_server_certificates_account_name"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_lower: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    body: Mapped[str] = mapped_column(Text)
    chain: Mapped[str | None] = mapped_column(Text, default=None)
    expires_at: Mapped[float] = mapped_column(Float)
    uploaded_at: Mapped[float] = mapped_column(Float)
