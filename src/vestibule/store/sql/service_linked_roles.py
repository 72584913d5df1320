"""Deletion tasks of service-linked roles, found by task ID within an account."""

from __future__ import annotations

from sqlalchemy import select

from ..models import ServiceLinkedRoleDeletion
from .base import Repository


class ServiceLinkedRoleDeletions(Repository):
    async def add(self, task: ServiceLinkedRoleDeletion) -> None:
        await self._add(task)

    async def get(self, account_id: str, task_id: str) -> ServiceLinkedRoleDeletion | None:
        stmt = select(ServiceLinkedRoleDeletion).where(ServiceLinkedRoleDeletion.id == task_id,
                                                       ServiceLinkedRoleDeletion.account_id == account_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()
