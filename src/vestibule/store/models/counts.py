"""Maintained counts of an account's IAM entities (GetAccountSummary and the per-account quotas)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class EntityCount(Base):
    """How many rows of one kind (users, groups, roles, policies, policy_versions, instance_profiles) an
    account has, moved in the transaction that inserts or deletes one (no row: none)."""

    __tablename__ = "iam_entity_counts"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
