"""Account assignments: a directory user or group gets a permission set in an account (the instance's own, or for
an organization instance an account of its organization). The first assignment of a permission set in an account
provisions it there (its reserved IAM role); deleting the last one removes the role. Each Create/Delete request
keeps a status row (SUCCEEDED, or FAILED with the reason) that the Describe/List status calls answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ...core.pagination import Page, PageRequest
from ...errors import InUse, InvalidValue, NotFound
from ...store.models import SsoAssignment, SsoInstance, SsoPermissionSet, SsoRequest
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall
from . import directory, provisioning
from .instances import owned
from .page_tokens import markers
from .permission_sets import RequestStatus, account_resource, check_target, permission_set_of, status_of

CREATE, DELETE = "create", "delete"
CONCURRENT = "Another request changed this account assignment at the same time; try again."


@dataclass(frozen=True)
class Assignment:
    account_id: str
    permission_set_arn: str
    principal_type: str
    principal_id: str


def _of(row: SsoAssignment) -> Assignment:
    return Assignment(row.account_id, row.permission_set_arn, row.principal_type, row.principal_id)


async def _principal_exists(uow: UnitOfWork, identity_store_id: str, principal_type: str, principal_id: str) -> bool:
    if principal_type == "USER":
        return await directory.user_exists(uow, identity_store_id, principal_id)
    return await directory.group_exists(uow, identity_store_id, principal_id)


async def _authorized(call: ApiCall, uow: UnitOfWork, instance_arn: str, permission_set_arn: str,
                      account_id: str) -> tuple[SsoInstance, SsoPermissionSet]:
    """The instance, the permission set and the target account, each authorized as its own resource."""
    instance = await owned(call, uow, instance_arn)
    permission_set = await permission_set_of(uow, instance, permission_set_arn)
    await call.authorize(uow, permission_set.arn)
    await call.authorize(uow, account_resource(account_id))
    return instance, permission_set


async def create_assignment(call: ApiCall, instance_arn: str, account_id: str, permission_set_arn: str,
                            principal_type: str, principal_id: str) -> RequestStatus:
    try:
        return await _create(call, instance_arn, account_id, permission_set_arn, principal_type, principal_id)
    except Conflict:  # a concurrent request made the same assignment or the same reserved role first
        raise InUse(CONCURRENT) from None


async def _create(call: ApiCall, instance_arn: str, account_id: str, permission_set_arn: str, principal_type: str,
                  principal_id: str) -> RequestStatus:
    async with call.unit() as uow:
        instance, permission_set = await _authorized(call, uow, instance_arn, permission_set_arn, account_id)
        await check_target(uow, instance, account_id)
        if not await _principal_exists(uow, instance.identity_store_id, principal_type, principal_id):
            raise NotFound(f"The {principal_type.lower()} {principal_id} does not exist in the identity store.")
        now = call.now()
        if await uow.identity_center.assignment(permission_set_arn, account_id, principal_type, principal_id) is None:
            await uow.identity_center.add(SsoAssignment(
                permission_set_arn=permission_set_arn, account_id=account_id, principal_type=principal_type,
                principal_id=principal_id, instance_arn=instance.arn, created_at=now))
        if await uow.identity_center.provisioning(permission_set_arn, account_id) is None:
            await provisioning.provision(uow, permission_set, account_id, now)
        request = SsoRequest(id=str(uuid.uuid4()), instance_arn=instance.arn, kind=CREATE, status="SUCCEEDED",
                             permission_set_arn=permission_set_arn, target_id=account_id,
                             principal_type=principal_type, principal_id=principal_id, created_at=now)
        await uow.identity_center.add(request)
        await call.record(uow, permission_set_arn=permission_set_arn, target_id=account_id,
                          principal_type=principal_type, principal_id=principal_id, request_id=request.id)
        return status_of(request)


async def delete_assignment(call: ApiCall, instance_arn: str, account_id: str, permission_set_arn: str,
                            principal_type: str, principal_id: str) -> RequestStatus:
    async with call.unit() as uow:
        instance, _ = await _authorized(call, uow, instance_arn, permission_set_arn, account_id)
        row = await uow.identity_center.assignment(permission_set_arn, account_id, principal_type, principal_id)
        if row is None:
            raise NotFound("The account assignment does not exist.")
        await uow.identity_center.delete(row)
        await provisioning.unprovision_if_unassigned(uow, permission_set_arn, account_id)
        request = SsoRequest(id=str(uuid.uuid4()), instance_arn=instance.arn, kind=DELETE, status="SUCCEEDED",
                             permission_set_arn=permission_set_arn, target_id=account_id,
                             principal_type=principal_type, principal_id=principal_id, created_at=call.now())
        await uow.identity_center.add(request)
        await call.record(uow, permission_set_arn=permission_set_arn, target_id=account_id,
                          principal_type=principal_type, principal_id=principal_id, request_id=request.id)
        return status_of(request)


async def list_assignments(call: ApiCall, instance_arn: str, account_id: str, permission_set_arn: str,
                           page: PageRequest) -> Page[Assignment]:
    """One page of the permission set's assignments in the account, by (principal type, principal ID)."""
    async with call.unit() as uow:
        instance, permission_set = await _authorized(call, uow, instance_arn, permission_set_arn, account_id)
        codec = markers(call, "ListAccountAssignments", instance.arn, permission_set.arn, account_id)
        rows = await uow.identity_center.assignments_page(permission_set.arn, account_id, after=codec.after(page),
                                                          limit=page.limit)
    found = codec.page(rows, page, lambda row: (row.principal_type, row.principal_id))
    return Page([_of(row) for row in found.items], found.next_marker)


async def assignments_for_principal(call: ApiCall, instance_arn: str, principal_type: str, principal_id: str,
                                    account_id: str | None, page: PageRequest) -> Page[Assignment]:
    """One page of the principal's assignments (in one account, when given), by (account ID, permission set)."""
    async with call.unit() as uow:
        instance = await owned(call, uow, instance_arn)
        codec = markers(call, "ListAccountAssignmentsForPrincipal", instance.arn, principal_type, principal_id,
                        account_id or "")
        rows = await uow.identity_center.assignments_of_principal_page(
            instance.arn, principal_type, principal_id, account_id, after=codec.after(page), limit=page.limit)
    found = codec.page(rows, page, lambda row: (row.account_id, row.permission_set_arn))
    return Page([_of(row) for row in found.items], found.next_marker)


async def _principal_deleted(uow: UnitOfWork, identity_store_id: str, principal_type: str, principal_id: str) -> None:
    """A deleted directory user or group loses its assignments; roles no longer assigned go."""
    instance = await uow.identity_center.instance_of_store(identity_store_id)
    if instance is None:
        return
    rows = await uow.identity_center.assignments(instance.arn, principals=[(principal_type, principal_id)])
    for row in rows:
        await uow.identity_center.delete(row)
        await provisioning.unprovision_if_unassigned(uow, row.permission_set_arn, row.account_id)


def check_principal_type(value: str) -> str:
    if value not in ("USER", "GROUP"):
        raise InvalidValue("PrincipalType must be USER or GROUP.")
    return value


directory.principal_deleted_hooks.append(_principal_deleted)
