"""The Identity Center directory: users, groups and memberships of one identity store (`d-<10 hex>`), and the
external IDs an identity provider gave them. Identity Store, SCIM and the access portal share these rows."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

_KEY_BYTES = 400  # PostgreSQL's B-tree rows hold ~2,700 bytes; 1,024 characters of UTF-8 may be 4,096


def lookup_key(value: str) -> str:
    """What a case-insensitive lookup column holds: the value in lower case, or the SHA-256 of that when long."""
    lowered = value.lower()
    if len(lowered.encode("utf-8")) <= _KEY_BYTES:
        return lowered
    return "sha256:" + hashlib.sha256(lowered.encode("utf-8")).hexdigest()


class DirectoryUser(Base):
    __tablename__ = "directory_users"
    __table_args__ = (UniqueConstraint("identity_store_id", "user_name_lower", name="uq_directory_users_name"),
                      Index("ix_directory_users_email", "identity_store_id", "email_lower"))

    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # <10 hex of the store>-<uuid4>
    identity_store_id: Mapped[str] = mapped_column(String(12), index=True)
    user_name: Mapped[str] = mapped_column(String(128))
    user_name_lower: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(1024), default=None)
    email_lower: Mapped[str | None] = mapped_column(String(400), default=None)  # lookup_key(primary email)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # every other attribute, as the API
    status: Mapped[str] = mapped_column(String(8), default="ENABLED")  # ENABLED | DISABLED
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    password_must_change: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(2048), default="")
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(2048), default="")


class DirectoryGroup(Base):
    __tablename__ = "directory_groups"
    __table_args__ = (UniqueConstraint("identity_store_id", "display_name_lower", name="uq_directory_groups_name"),)

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    identity_store_id: Mapped[str] = mapped_column(String(12), index=True)
    display_name: Mapped[str] = mapped_column(String(1024))
    display_name_lower: Mapped[str] = mapped_column(String(400))  # lookup_key
    description: Mapped[str | None] = mapped_column(String(1024), default=None)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(2048), default="")
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(2048), default="")


class DirectoryMembership(Base):
    __tablename__ = "directory_memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id", name="uq_directory_memberships_pair"),
                      Index("ix_directory_memberships_user_group", "user_id", "group_id"))  # a member's groups

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    identity_store_id: Mapped[str] = mapped_column(String(12), index=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("directory_groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("directory_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(2048), default="")


class DirectoryExternalId(Base):
    """One external ID (issuer, ID) of a user or group; unique per store, kind and issuer."""

    __tablename__ = "directory_external_ids"
    __table_args__ = (UniqueConstraint("identity_store_id", "kind", "issuer", "external_id",
                                       name="uq_directory_external_ids"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity_store_id: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(8))  # user | group
    owner_id: Mapped[str] = mapped_column(String(48), index=True)
    issuer: Mapped[str] = mapped_column(String(256))
    external_id: Mapped[str] = mapped_column(String(256))
    position: Mapped[int] = mapped_column(Integer, default=0)
