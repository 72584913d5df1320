"""Identity Center identity sources: where an instance's users sign in (its own directory, an LDAP directory or an
external SAML identity provider). One row per instance that is not on the default (its own directory); the
source's settings as JSON, the LDAP service account's password sealed under the master key."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SsoIdentitySource(Base):
    __tablename__ = "sso_identity_sources"

    instance_arn: Mapped[str] = mapped_column(ForeignKey("sso_instances.arn", ondelete="CASCADE"),
                                              primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # directory | ldap | saml
    settings: Mapped[str] = mapped_column(Text)  # JSON: services/identity_center/identity_sources.py
    secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    updated_at: Mapped[float] = mapped_column(Float)
