"""Identity Center bookmark applications (a name and a URL the access portal links to) and their assignments
to directory users and groups."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SsoApplication(Base):
    __tablename__ = "sso_applications"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # app-<16 hex>
    instance_arn: Mapped[str] = mapped_column(ForeignKey("sso_instances.arn", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[float] = mapped_column(Float)


class SsoApplicationAssignment(Base):
    __tablename__ = "sso_application_assignments"

    application_id: Mapped[str] = mapped_column(ForeignKey("sso_applications.id", ondelete="CASCADE"),
                                                primary_key=True)
    principal_type: Mapped[str] = mapped_column(String(8), primary_key=True)  # USER | GROUP
    principal_id: Mapped[str] = mapped_column(String(47), primary_key=True, index=True)
    created_at: Mapped[float] = mapped_column(Float)
