"""Identity Center identity sources: one row per instance, read and replaced whole."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..models import SsoIdentitySource
from .base import Repository


class IdentitySources(Repository):
    async def of_instance(self, instance_arn: str) -> SsoIdentitySource | None:
        stmt = select(SsoIdentitySource).where(SsoIdentitySource.instance_arn == instance_arn)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def put(self, instance_arn: str, kind: str, settings: str, secret_sealed: str | None,
                  now: float) -> None:
        row = await self.of_instance(instance_arn)
        if row is None:
            await self._add(SsoIdentitySource(instance_arn=instance_arn, kind=kind, settings=settings,
                                              secret_sealed=secret_sealed, updated_at=now))
            return
        row.kind, row.settings, row.secret_sealed, row.updated_at = kind, settings, secret_sealed, now
        await self._flush()

    async def remove(self, instance_arn: str) -> None:
        await self.db.execute(delete(SsoIdentitySource).where(SsoIdentitySource.instance_arn == instance_arn))
