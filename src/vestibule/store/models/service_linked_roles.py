"""Deletion tasks of IAM service-linked roles: what GetServiceLinkedRoleDeletionStatus reports for a task ID."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ServiceLinkedRoleDeletion(Base):
    __tablename__ = "service_linked_role_deletions"

    id: Mapped[str] = mapped_column(String(1000), primary_key=True)  # task/aws-service-role/<service>/<role>/<uuid>
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # SUCCEEDED | IN_PROGRESS | FAILED | NOT_STARTED
    reason: Mapped[str | None] = mapped_column(Text, default=None)  # JSON: {"Reason", "RoleUsageList"}
    created_at: Mapped[float] = mapped_column(Float)
