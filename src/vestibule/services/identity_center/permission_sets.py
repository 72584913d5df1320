"""Permission sets of an Identity Center instance: their session duration, relay state, AWS managed policies and
inline policy, and ProvisionPermissionSet with the statuses SSO Admin describes. The work completes at once;
each request keeps its status row (SUCCEEDED or FAILED with a reason)."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from ...core.pagination import Page, PageRequest
from ...core.policy import MalformedPolicy, aws_managed_policy, parse_policy
from ...errors import AlreadyExists, InUse, InvalidValue, LimitExceeded, NotFound
from ...store.models import SsoInstance, SsoPermissionSet, SsoRequest
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall
from ..authorization import BUILTIN_POLICIES
from ..iam.organizations import organization_of
from ..organizations import member_account_ids
from .instances import ORGANIZATION, owned
from .page_tokens import markers, timed

MIN_SESSION, MAX_SESSION, DEFAULT_SESSION = 3600, 12 * 3600, 3600
MAX_MANAGED_POLICIES = 20
_DURATION = re.compile(r"PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?")


@dataclass(frozen=True)
class PermissionSet:
    arn: str
    instance_arn: str
    name: str
    description: str | None
    session_duration: int  # seconds
    relay_state: str | None
    created_at: float
    managed_policies: tuple[str, ...]
    inline_policy: str | None


@dataclass(frozen=True)
class RequestStatus:
    """One ProvisionPermissionSet, CreateAccountAssignment or DeleteAccountAssignment request and its outcome."""

    id: str
    status: str  # IN_PROGRESS | SUCCEEDED | FAILED
    failure_reason: str | None
    permission_set_arn: str
    target_id: str | None
    principal_type: str | None
    principal_id: str | None
    created_at: float


def status_of(row: SsoRequest) -> RequestStatus:
    return RequestStatus(row.id, row.status, row.failure_reason, row.permission_set_arn, row.target_id,
                         row.principal_type, row.principal_id, row.created_at)


def managed_arns(row: SsoPermissionSet) -> list[str]:
    return list(json.loads(row.managed_policies or "[]"))


def of_row(row: SsoPermissionSet) -> PermissionSet:
    return PermissionSet(row.arn, row.instance_arn, row.name, row.description, row.session_duration, row.relay_state,
                         row.created_at, tuple(managed_arns(row)), row.inline_policy)


def session_seconds(value: str) -> int:
    """An ISO-8601 duration of 1 to 12 hours (PT1H..PT12H) in seconds."""
    found = _DURATION.fullmatch(value)
    seconds = (int(found.group(1) or 0) * 3600 + int(found.group(2) or 0) * 60 + int(found.group(3) or 0)
               if found else 0)
    if not MIN_SESSION <= seconds <= MAX_SESSION:
        raise InvalidValue(f"SessionDuration {value[:32]} is invalid: it must be an ISO-8601 duration between "
                           "PT1H and PT12H.")
    return seconds


def iso_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")


def managed_policy_name(arn: str) -> str | None:
    """The name of an AWS managed policy Vestibule knows, None for any other ARN."""
    known = aws_managed_policy(arn)
    if known is not None:
        return known[0]
    return arn.rsplit("/", 1)[1] if arn in BUILTIN_POLICIES else None


async def permission_set_of(uow: UnitOfWork, instance: SsoInstance, arn: str) -> SsoPermissionSet:
    row = await uow.identity_center.permission_set(arn)
    if row is None or row.instance_arn != instance.arn:
        raise NotFound(f"Could not find PermissionSet with PermissionSetArn {arn}.")
    return row


async def _owned_set(call: ApiCall, uow: UnitOfWork, instance_arn: str, arn: str
                     ) -> tuple[SsoInstance, SsoPermissionSet]:
    instance = await owned(call, uow, instance_arn)
    row = await permission_set_of(uow, instance, arn)
    await call.authorize(uow, row.arn)
    return instance, row


def account_resource(account_id: str) -> str:
    """The resource IAM policies name a target account by in SSO Admin actions."""
    return f"arn:aws:sso:::account/{account_id}"


async def create_permission_set(call: ApiCall, instance_arn: str, name: str, description: str | None,
                                session_duration: str | None, relay_state: str | None,
                                tags: Sequence[tuple[str, str]] = ()) -> PermissionSet:
    seconds = session_seconds(session_duration) if session_duration is not None else DEFAULT_SESSION
    async with call.unit() as uow:
        instance = await owned(call, uow, instance_arn)
        if any(p.name == name for p in await uow.identity_center.permission_sets(instance.arn)):
            raise AlreadyExists("Name", f"A permission set named {name} already exists in this instance.")
        now = call.now()
        row = SsoPermissionSet(arn=f"arn:aws:sso:::permissionSet/{instance.arn.rsplit('/', 1)[1]}/"
                                   f"ps-{secrets.token_hex(8)}",
                               instance_arn=instance.arn, name=name, description=description,
                               session_duration=seconds, relay_state=relay_state, created_at=now, updated_at=now,
                               managed_policies="[]", inline_policy=None,
                               tags=json.dumps([{"Key": k, "Value": v} for k, v in tags]))
        try:
            await uow.identity_center.add(row)
        except Conflict:
            raise AlreadyExists("Name", f"A permission set named {name} already exists in this instance.") from None
        await call.record(uow, instance_arn=instance.arn, permission_set_arn=row.arn, name=name)
        return of_row(row)


async def describe_permission_set(call: ApiCall, instance_arn: str, arn: str) -> PermissionSet:
    async with call.unit() as uow:
        return of_row((await _owned_set(call, uow, instance_arn, arn))[1])


async def list_permission_sets(call: ApiCall, instance_arn: str, page: PageRequest) -> Page[str]:
    """One page of the instance's permission set ARNs, by name."""
    async with call.unit() as uow:
        instance = await owned(call, uow, instance_arn)
        codec = markers(call, "ListPermissionSets", instance.arn)
        rows = await uow.identity_center.permission_sets_page(instance.arn, after=codec.after(page),
                                                              limit=page.limit)
    found = codec.page(rows, page, lambda row: (row.name, row.arn))
    return Page([row.arn for row in found.items], found.next_marker)


async def update_permission_set(call: ApiCall, instance_arn: str, arn: str, description: str | None,
                                session_duration: str | None, relay_state: str | None) -> None:
    seconds = session_seconds(session_duration) if session_duration is not None else None
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
        if description is not None:
            row.description = description
        if seconds is not None:
            row.session_duration = seconds
        if relay_state is not None:
            row.relay_state = relay_state
        row.updated_at = call.now()
        await uow.identity_center.flush()
        await call.record(uow, permission_set_arn=arn)


async def delete_permission_set(call: ApiCall, instance_arn: str, arn: str) -> None:
    async with call.unit() as uow:
        instance, row = await _owned_set(call, uow, instance_arn, arn)
        if (await uow.identity_center.provisionings(instance.arn, permission_set_arn=arn)
                or await uow.identity_center.assignments(instance.arn, permission_set_arn=arn)):
            raise InUse(f"The permission set {arn} is provisioned to accounts or assigned; remove its account "
                        "assignments first.")
        await uow.identity_center.delete(row)
        await call.record(uow, permission_set_arn=arn, name=row.name)


async def attach_managed_policy(call: ApiCall, instance_arn: str, arn: str, policy_arn: str) -> None:
    if managed_policy_name(policy_arn) is None:
        raise InvalidValue(f"Policy {policy_arn} is not an AWS managed policy this service knows.")
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
        attached = managed_arns(row)
        if policy_arn in attached:
            raise AlreadyExists("ManagedPolicyArn", f"Policy {policy_arn} is already attached to the permission set.")
        if len(attached) >= MAX_MANAGED_POLICIES:
            raise LimitExceeded(f"A permission set can have at most {MAX_MANAGED_POLICIES} managed policies.")
        row.managed_policies, row.updated_at = json.dumps([*attached, policy_arn]), call.now()
        await uow.identity_center.flush()
        await call.record(uow, permission_set_arn=arn, policy_arn=policy_arn)


async def detach_managed_policy(call: ApiCall, instance_arn: str, arn: str, policy_arn: str) -> None:
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
        attached = managed_arns(row)
        if policy_arn not in attached:
            raise NotFound(f"Policy {policy_arn} is not attached to the permission set.")
        row.managed_policies = json.dumps([a for a in attached if a != policy_arn])
        row.updated_at = call.now()
        await uow.identity_center.flush()
        await call.record(uow, permission_set_arn=arn, policy_arn=policy_arn)


async def managed_policies(call: ApiCall, instance_arn: str, arn: str) -> list[tuple[str, str]]:
    """(name, ARN) of each managed policy attached."""
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
    return [(managed_policy_name(a) or a.rsplit("/", 1)[1], a) for a in managed_arns(row)]


async def put_inline_policy(call: ApiCall, instance_arn: str, arn: str, document: str) -> None:
    try:
        parse_policy(document)
    except MalformedPolicy as exc:
        raise InvalidValue(f"The inline policy is not a valid policy document: {exc.message}") from None
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
        row.inline_policy, row.updated_at = document, call.now()
        await uow.identity_center.flush()
        await call.record(uow, permission_set_arn=arn)


async def inline_policy(call: ApiCall, instance_arn: str, arn: str) -> str:
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
    return row.inline_policy or ""


async def delete_inline_policy(call: ApiCall, instance_arn: str, arn: str) -> None:
    async with call.unit() as uow:
        _, row = await _owned_set(call, uow, instance_arn, arn)
        row.inline_policy, row.updated_at = None, call.now()
        await uow.identity_center.flush()
        await call.record(uow, permission_set_arn=arn)


# provisioning

async def target_accounts(uow: UnitOfWork, instance: SsoInstance) -> list[str]:
    """The accounts the instance may assign to: its own; for an organization instance, its organization's."""
    if instance.kind != ORGANIZATION:
        return [instance.owner_account_id]
    organization = await organization_of(uow, instance.owner_account_id)
    if organization is None or organization.management_account_id != instance.owner_account_id:
        return [instance.owner_account_id]
    return await member_account_ids(uow, organization.id)


async def check_target(uow: UnitOfWork, instance: SsoInstance, account_id: str) -> None:
    if account_id not in await target_accounts(uow, instance):
        raise InvalidValue(f"The account {account_id} is not a target this instance can provision to: "
                           "it must be the instance's account or an account of its organization.")


async def provision_permission_set(call: ApiCall, instance_arn: str, arn: str, target_type: str,
                                   target_id: str | None) -> RequestStatus:
    try:
        return await _provision(call, instance_arn, arn, target_type, target_id)
    except Conflict:  # a concurrent request made the same reserved role first
        raise InUse("Another request provisioned this permission set at the same time; try again.") from None


async def _provision(call: ApiCall, instance_arn: str, arn: str, target_type: str,
                     target_id: str | None) -> RequestStatus:
    from . import provisioning

    async with call.unit() as uow:
        instance, row = await _owned_set(call, uow, instance_arn, arn)
        if target_type == "AWS_ACCOUNT":
            if target_id is None:
                raise InvalidValue("TargetId is required when TargetType is AWS_ACCOUNT.")
            await call.authorize(uow, account_resource(target_id))
            await check_target(uow, instance, target_id)
            accounts = [target_id]
        else:
            if target_id is not None:
                raise InvalidValue("TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS.")
            accounts = [p.account_id for p in
                        await uow.identity_center.provisionings(instance.arn, permission_set_arn=arn)]
        now = call.now()
        for account_id in accounts:
            await provisioning.provision(uow, row, account_id, now)
        request = SsoRequest(id=str(uuid.uuid4()), instance_arn=instance.arn, kind="provision", status="SUCCEEDED",
                             permission_set_arn=arn, target_id=target_id, created_at=now)
        await uow.identity_center.add(request)
        await call.record(uow, permission_set_arn=arn, target_type=target_type, target_id=target_id,
                          request_id=request.id)
        return status_of(request)


async def request_status(call: ApiCall, instance_arn: str, kind: str, request_id: str) -> RequestStatus:
    async with call.unit() as uow:
        instance = await owned(call, uow, instance_arn)
        row = await uow.identity_center.request(instance.arn, kind, request_id)
    if row is None:
        raise NotFound(f"Could not find the request with ID {request_id}.")
    return status_of(row)


async def request_statuses(call: ApiCall, instance_arn: str, kind: str, status: str | None,
                           page: PageRequest) -> Page[RequestStatus]:
    """One page of the instance's requests of `kind`, oldest first, keyed (created_at, id)."""
    async with call.unit() as uow:
        instance = await owned(call, uow, instance_arn)
        codec = markers(call, f"requests:{kind}", instance.arn, status or "")
        rows = await uow.identity_center.requests_page(instance.arn, kind, status, after=timed(codec.after(page)),
                                                       limit=page.limit)
    found = codec.page(rows, page, lambda row: (repr(row.created_at), row.id))
    return Page([status_of(row) for row in found.items], found.next_marker)


def _latest(status: str | None) -> bool | None:
    return None if status is None else status == "LATEST_PERMISSION_SET_PROVISIONED"


async def provisioned_to_account(call: ApiCall, instance_arn: str, account_id: str, status: str | None,
                                 page: PageRequest) -> Page[str]:
    """One page of the permission sets provisioned to the account, by ARN."""
    async with call.unit() as uow:
        instance = await owned(call, uow, instance_arn)
        await call.authorize(uow, account_resource(account_id))
        codec = markers(call, "ListPermissionSetsProvisionedToAccount", instance.arn, account_id, status or "")
        rows = await uow.identity_center.provisionings_page(instance.arn, account_id=account_id,
                                                            latest=_latest(status), after=codec.after(page),
                                                            limit=page.limit)
    found = codec.page(rows, page, lambda row: (row.permission_set_arn,))
    return Page([row.permission_set_arn for row in found.items], found.next_marker)


async def accounts_for_permission_set(call: ApiCall, instance_arn: str, arn: str, status: str | None,
                                      page: PageRequest) -> Page[str]:
    """One page of the accounts the permission set is provisioned to, by account ID."""
    async with call.unit() as uow:
        instance, row = await _owned_set(call, uow, instance_arn, arn)
        codec = markers(call, "ListAccountsForProvisionedPermissionSet", instance.arn, row.arn, status or "")
        rows = await uow.identity_center.provisionings_page(instance.arn, permission_set_arn=row.arn,
                                                            latest=_latest(status), after=codec.after(page),
                                                            limit=page.limit)
    found = codec.page(rows, page, lambda r: (r.account_id,))
    return Page([r.account_id for r in found.items], found.next_marker)
