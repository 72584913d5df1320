"""The federation endpoint's sign-in tokens (`/federation?Action=getSigninToken`): stored as SHA-256, single use."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class FederationSigninToken(Base):
    __tablename__ = "federation_signin_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(20))  # the temporary access key ID it signs in as
    session_seconds: Mapped[int] = mapped_column(Integer)  # the console session's length, at most
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)
