"""SAML assertions already used (issue 12): one row per assertion ID per issuer, kept until the assertion
expires, so a replay to any node within its lifetime is refused."""

from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SamlAssertionUse(Base):
    """`id_hash`: SHA-256 (hex) of the issuer and the assertion's ID; `expires_at`: the assertion's own end."""

    __tablename__ = "saml_assertion_uses"
    __table_args__ = (Index("ix_saml_assertion_uses_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)
