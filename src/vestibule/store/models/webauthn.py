"""WebAuthn credentials (passkeys and security keys) of any principal: root users, IAM users, personal profiles."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class WebAuthnCredential(Base):
    """One registered authenticator credential. `credential_id` is the base64url of the authenticator's ID;
    `public_key` the COSE key it gave at registration; `sign_count` its last signature counter (0: it keeps
    none). `serial` is the ARN the IAM API names it by (`...:u2f/...`), None for a principal without an account."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal_key: Mapped[str] = mapped_column(String(40), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True,
                                                   default=None)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[str] = mapped_column(String(200), default="")  # comma-separated, as the browser said
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    discoverable: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16))  # security_key | passkey | built_in
    user_handle: Mapped[str] = mapped_column(String(128))  # base64url of the WebAuthn user ID of the owner
    name: Mapped[str] = mapped_column(String(64))  # the owner's label
    serial: Mapped[str | None] = mapped_column(String(256), unique=True, default=None)
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, default=None)
