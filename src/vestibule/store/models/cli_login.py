"""Console credentials for the command line (`vestibule login`): authorization requests and their codes, the
login sessions' own data (a login session is a `sessions` row of kind `cli`), their refresh tokens, and the
DPoP `jti` replay cache. Codes and tokens are stored only as their SHA-256."""

from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CliLoginGrant(Base):
    """A `GET /v1/authorize`: `pending` until the signed-in user decides, then `allowed` (with a code) or
    `denied`; `used` once its code was exchanged (or burnt by a wrong verifier or redirect URI)."""

    __tablename__ = "cli_login_grants"
    __table_args__ = (Index("ix_cli_login_grants_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random; travels in the confirmation form
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(2048), default="")
    code_challenge: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # pending | allowed | denied | used
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    approved_session_hash: Mapped[str | None] = mapped_column(String(64), default=None)  # the console session
    principal_key: Mapped[str | None] = mapped_column(String(40), default=None)
    account_id: Mapped[str | None] = mapped_column(String(12), default=None)
    session_hash: Mapped[str | None] = mapped_column(String(64), default=None)  # the login session it created
    requested_from_ip: Mapped[str] = mapped_column(String(64), default="")
    requested_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)  # the request's, then (on Allow) the code's
    decided_at: Mapped[float | None] = mapped_column(Float, default=None)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)


class CliLogin(Base):
    """What a login session (the `sessions` row `session_hash`, kind `cli`) adds: the client, the key its
    proofs must be signed with, the console session that approved it, the region it was issued in."""

    __tablename__ = "cli_logins"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sessions.id_hash
    client_id: Mapped[str] = mapped_column(String(64))
    dpop_jkt: Mapped[str] = mapped_column(String(64))  # RFC 7638 SHA-256 thumbprint, base64url
    approved_session_hash: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[float] = mapped_column(Float)


class CliLoginRefreshToken(Base):
    """A refresh token of a login session; `used_at` once rotated (a reuse after the grace ends the session)."""

    __tablename__ = "cli_login_refresh_tokens"
    __table_args__ = (Index("ix_cli_login_refresh_tokens_session_hash", "session_hash"),
                      Index("ix_cli_login_refresh_tokens_expires_at", "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)
    expires_at: Mapped[float] = mapped_column(Float)


class DpopReplay(Base):
    """A DPoP proof seen (RFC 9449 11.1): key = SHA-256 of its key thumbprint and jti; kept until its `iat`
    can no longer be accepted. In the database, so a proof replayed to another node is refused too."""

    __tablename__ = "dpop_replays"
    __table_args__ = (Index("ix_dpop_replays_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)
