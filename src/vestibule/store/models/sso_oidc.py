"""SSO-OIDC for the command line: registered clients, grants waiting for (or given) the user's approval (device
authorizations and authorization codes), and the tokens issued from them (access and refresh, one family per
approval). Secrets, codes and tokens are stored only as their SHA-256."""

from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class OidcClient(Base):
    __tablename__ = "sso_oidc_clients"
    __table_args__ = (Index("ix_sso_oidc_clients_secret_expires_at", "secret_expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client ID
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    client_type: Mapped[str] = mapped_column(String(16))  # public
    scopes: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    identity_store_id: Mapped[str | None] = mapped_column(String(12), default=None)  # the issuerUrl's portal
    registered_from_ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[float] = mapped_column(Float)
    secret_expires_at: Mapped[float] = mapped_column(Float)


class OidcGrant(Base):
    """A device authorization (`device`) or an authorization request with PKCE (`code`): `pending` until the
    user decides, then `allowed` or `denied`; `used` once its device code or authorization code was exchanged."""

    __tablename__ = "sso_oidc_grants"
    __table_args__ = (Index("ix_sso_oidc_grants_expires_at", "expires_at"),
                      Index("ix_sso_oidc_grants_client_id", "client_id"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the approval ID (random)
    kind: Mapped[str] = mapped_column(String(8))  # device | code
    status: Mapped[str] = mapped_column(String(8))  # pending | allowed | denied | used
    client_id: Mapped[str] = mapped_column(ForeignKey("sso_oidc_clients.id", ondelete="CASCADE"))
    identity_store_id: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    device_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    user_code: Mapped[str | None] = mapped_column(String(8), unique=True, default=None)  # normalized: ABCDEFGH
    interval: Mapped[int] = mapped_column(Integer, default=0)  # device polls: seconds, +5 after each slow_down
    last_polled_at: Mapped[float | None] = mapped_column(Float, default=None)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)  # issued on Allow
    redirect_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    state: Mapped[str | None] = mapped_column(String(2048), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(64), default=None)
    requested_from_ip: Mapped[str] = mapped_column(String(64), default="")
    requested_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)  # the device code's, then (code grants, on Allow) the code's
    session_id_hash: Mapped[str | None] = mapped_column(String(64), default=None)  # the approving portal session
    principal_key: Mapped[str | None] = mapped_column(String(40), default=None)
    decided_at: Mapped[float | None] = mapped_column(Float, default=None)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)


class OidcToken(Base):
    """An access or refresh token. `family_id` is the approval it came from: a reused refresh token revokes
    every token of its family. A refresh token is `used` once rotated."""

    __tablename__ = "sso_oidc_tokens"
    __table_args__ = (Index("ix_sso_oidc_tokens_family_id", "family_id"),
                      Index("ix_sso_oidc_tokens_session_id_hash", "session_id_hash"),
                      Index("ix_sso_oidc_tokens_expires_at", "expires_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # access | refresh
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(ForeignKey("sso_oidc_clients.id", ondelete="CASCADE"))
    identity_store_id: Mapped[str] = mapped_column(String(12))
    session_id_hash: Mapped[str] = mapped_column(String(64))
    principal_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(48))  # the directory user's ID (the principal key's long form)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)
    revoked_at: Mapped[float | None] = mapped_column(Float, default=None)
