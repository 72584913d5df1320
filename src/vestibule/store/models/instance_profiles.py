"""IAM instance profiles: a named container for at most one role."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class InstanceProfile(Base):
    __tablename__ = "instance_profiles"
    __table_args__ = (UniqueConstraint("account_id", "name_lower", name="uq_instance_profiles_account_name"),
                      Index("ix_instance_profiles_role_name", "role_id", "name_lower", "id"))

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_lower: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    role_id: Mapped[str | None] = mapped_column(ForeignKey("iam_roles.id", ondelete="SET NULL"), index=True,
                                                default=None)
    created_at: Mapped[float] = mapped_column(Float)
