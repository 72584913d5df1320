"""Identity Center bookmark applications and their assignments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, delete, or_, select

from ..models.applications import SsoApplication, SsoApplicationAssignment
from .base import Repository, rowcount


class Applications(Repository):
    async def add(self, row: SsoApplication | SsoApplicationAssignment) -> None:
        await self._add(row)

    async def get(self, instance_arn: str, application_id: str) -> SsoApplication | None:
        stmt = select(SsoApplication).where(SsoApplication.instance_arn == instance_arn,
                                            SsoApplication.id == application_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def of_instance(self, instance_arn: str) -> Sequence[SsoApplication]:
        stmt = (select(SsoApplication).where(SsoApplication.instance_arn == instance_arn)
                .order_by(SsoApplication.name, SsoApplication.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def delete(self, application_id: str) -> None:
        await self.db.execute(delete(SsoApplicationAssignment)
                              .where(SsoApplicationAssignment.application_id == application_id))
        await self.db.execute(delete(SsoApplication).where(SsoApplication.id == application_id))

    async def assignment(self, application_id: str, principal_type: str,
                         principal_id: str) -> SsoApplicationAssignment | None:
        stmt = select(SsoApplicationAssignment).where(
            SsoApplicationAssignment.application_id == application_id,
            SsoApplicationAssignment.principal_type == principal_type,
            SsoApplicationAssignment.principal_id == principal_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def unassign(self, application_id: str, principal_type: str, principal_id: str) -> bool:
        stmt = delete(SsoApplicationAssignment).where(
            SsoApplicationAssignment.application_id == application_id,
            SsoApplicationAssignment.principal_type == principal_type,
            SsoApplicationAssignment.principal_id == principal_id)
        return rowcount(await self.db.execute(stmt)) > 0

    async def principal_deleted(self, instance_arn: str, principal_type: str, principal_id: str) -> None:
        apps = select(SsoApplication.id).where(SsoApplication.instance_arn == instance_arn)
        await self.db.execute(delete(SsoApplicationAssignment).where(
            SsoApplicationAssignment.application_id.in_(apps),
            SsoApplicationAssignment.principal_type == principal_type,
            SsoApplicationAssignment.principal_id == principal_id))

    async def for_principals(self, instance_arn: str,
                             principals: Sequence[tuple[str, str]]) -> Sequence[SsoApplication]:
        if not principals:
            return []
        assigned = select(SsoApplicationAssignment.application_id).where(
            or_(*(and_(SsoApplicationAssignment.principal_type == kind, SsoApplicationAssignment.principal_id == pid)
                  for kind, pid in principals)))
        stmt = (select(SsoApplication).where(SsoApplication.instance_arn == instance_arn,
                                             SsoApplication.id.in_(assigned))
                .order_by(SsoApplication.name, SsoApplication.id))
        return (await self.db.execute(stmt)).scalars().all()
