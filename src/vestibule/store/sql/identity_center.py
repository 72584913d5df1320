"""Identity Center (SSO Admin) rows: instances, permission sets, provisionings, assignments, request statuses."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from ..models import SsoAssignment, SsoInstance, SsoPermissionSet, SsoProvisioning, SsoRequest
from .base import Repository


class IdentityCenter(Repository):
    # instances

    async def add(self, row: SsoInstance | SsoPermissionSet | SsoProvisioning | SsoAssignment | SsoRequest) -> None:
        await self._add(row)

    async def flush(self) -> None:
        await self._flush()

    async def instance(self, arn: str) -> SsoInstance | None:
        return await self.db.get(SsoInstance, arn)

    async def instance_of_store(self, identity_store_id: str) -> SsoInstance | None:
        stmt = select(SsoInstance).where(SsoInstance.identity_store_id == identity_store_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def instance_of_account(self, account_id: str) -> SsoInstance | None:
        stmt = select(SsoInstance).where(SsoInstance.owner_account_id == account_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def instance_of_subdomain(self, subdomain: str) -> SsoInstance | None:
        stmt = select(SsoInstance).where(SsoInstance.portal_subdomain == subdomain)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def delete(self, row: SsoInstance | SsoPermissionSet | SsoProvisioning | SsoAssignment) -> None:
        await self.db.delete(row)
        await self.db.flush()

    # permission sets

    async def permission_set(self, arn: str) -> SsoPermissionSet | None:
        return await self.db.get(SsoPermissionSet, arn)

    async def permission_sets(self, instance_arn: str) -> Sequence[SsoPermissionSet]:
        stmt = (select(SsoPermissionSet).where(SsoPermissionSet.instance_arn == instance_arn)
                .order_by(SsoPermissionSet.created_at, SsoPermissionSet.arn))
        return (await self.db.execute(stmt)).scalars().all()

    # provisionings

    async def provisioning(self, permission_set_arn: str, account_id: str) -> SsoProvisioning | None:
        return await self.db.get(SsoProvisioning, (permission_set_arn, account_id))

    async def provisionings(self, instance_arn: str, *, permission_set_arn: str | None = None,
                            account_id: str | None = None) -> Sequence[SsoProvisioning]:
        stmt = select(SsoProvisioning).where(SsoProvisioning.instance_arn == instance_arn)
        if permission_set_arn is not None:
            stmt = stmt.where(SsoProvisioning.permission_set_arn == permission_set_arn)
        if account_id is not None:
            stmt = stmt.where(SsoProvisioning.account_id == account_id)
        stmt = stmt.order_by(SsoProvisioning.provisioned_at, SsoProvisioning.account_id)
        return (await self.db.execute(stmt)).scalars().all()

    # assignments

    async def assignment(self, permission_set_arn: str, account_id: str, principal_type: str,
                         principal_id: str) -> SsoAssignment | None:
        return await self.db.get(SsoAssignment, (permission_set_arn, account_id, principal_type, principal_id))

    async def assignments(self, instance_arn: str, *, permission_set_arn: str | None = None,
                          account_id: str | None = None, principals: Sequence[tuple[str, str]] | None = None
                          ) -> Sequence[SsoAssignment]:
        stmt = select(SsoAssignment).where(SsoAssignment.instance_arn == instance_arn)
        if permission_set_arn is not None:
            stmt = stmt.where(SsoAssignment.permission_set_arn == permission_set_arn)
        if account_id is not None:
            stmt = stmt.where(SsoAssignment.account_id == account_id)
        if principals is not None:
            ids = [p for _, p in principals]
            stmt = stmt.where(SsoAssignment.principal_id.in_(ids))
        stmt = stmt.order_by(SsoAssignment.created_at, SsoAssignment.account_id, SsoAssignment.principal_id)
        rows = (await self.db.execute(stmt)).scalars().all()
        if principals is None:
            return rows
        wanted = set(principals)
        return [r for r in rows if (r.principal_type, r.principal_id) in wanted]

    async def delete_assignments_of_principal(self, instance_arn: str, principal_id: str) -> None:
        await self.db.execute(delete(SsoAssignment).where(SsoAssignment.instance_arn == instance_arn,
                                                          SsoAssignment.principal_id == principal_id))

    # request statuses

    async def request(self, instance_arn: str, kind: str, request_id: str) -> SsoRequest | None:
        row = await self.db.get(SsoRequest, request_id)
        return row if row is not None and row.instance_arn == instance_arn and row.kind == kind else None

    async def requests(self, instance_arn: str, kind: str, status: str | None) -> Sequence[SsoRequest]:
        stmt = select(SsoRequest).where(SsoRequest.instance_arn == instance_arn, SsoRequest.kind == kind)
        if status is not None:
            stmt = stmt.where(SsoRequest.status == status)
        stmt = stmt.order_by(SsoRequest.created_at, SsoRequest.id)
        return (await self.db.execute(stmt)).scalars().all()
