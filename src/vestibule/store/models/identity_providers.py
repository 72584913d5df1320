"""IAM identity providers of an account: OpenID Connect providers (found by their URL) and SAML providers (found by
name), each known by its ARN. Tags live in the shared tags table (kinds `oidcprov`, `samlprov`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class OidcProvider(Base):
    __tablename__ = "oidc_providers"
    __table_args__ = (UniqueConstraint("account_id", "url", name="uq_oidc_providers_account_url"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(255))  # without the scheme, as in the ARN: host[:port][/path]
    issuer: Mapped[str] = mapped_column(String(300))  # as registered, with the scheme: what `iss` must equal
    arn: Mapped[str] = mapped_column(String(2048), unique=True)
    client_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    thumbprints: Mapped[list[Any]] = mapped_column(JSON, default=list)  # lower-case hex SHA-1
    created_at: Mapped[float] = mapped_column(Float)


class SamlProvider(Base):
    __tablename__ = "saml_providers"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_saml_providers_account_name"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    arn: Mapped[str] = mapped_column(String(2048), unique=True)
    metadata_xml: Mapped[str] = mapped_column("metadata", Text)
    uuid: Mapped[str] = mapped_column(String(64))  # SAMLProviderUUID: upper-case letters and digits
    entity_id: Mapped[str] = mapped_column(String(1024))  # the metadata's entityID: the assertions' Issuer
    valid_until: Mapped[float | None] = mapped_column(Float, default=None)
    assertion_encryption_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
