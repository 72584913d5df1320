"""The mail outbox: mail written in the transaction of the token or code it carries, sent later."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class OutboxMail(Base):
    """One message; `body_sealed` is sealed with the master key and erased once the mail is sent or failed."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
                      Index("ix_mail_outbox_claim", "claim"))  # the sender reads back the rows it claimed

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body_sealed: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    claim: Mapped[str] = mapped_column(String(32), default="")
    claimed_until: Mapped[float] = mapped_column(Float, default=0.0)
    finished_at: Mapped[float | None] = mapped_column(Float, default=None, index=True)
    last_error: Mapped[str] = mapped_column(String(200), default="")
