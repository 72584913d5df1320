"""Identity Center instances (SSO Admin CreateInstance, ListInstances, DescribeInstance, UpdateInstance,
DeleteInstance) and the lookups the directory, SCIM and the portal use. An account owns at most one instance;
created in an organization's management account it is an organization instance (its assignments may target
the organization's accounts), otherwise an account instance. Instance ARNs carry no account, so every use case
checks the owner itself: a caller of another account learns nothing about the instance."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import AlreadyExists, InvalidValue, NotFound, PermissionDenied
from ...store.models import SsoInstance
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall
from ..iam.organizations import organization_of
from . import settings as instance_settings
from .settings import InstanceSettings

ORGANIZATION = "ORGANIZATION"
ACCOUNT = "ACCOUNT"


@dataclass(frozen=True)
class Instance:
    arn: str
    identity_store_id: str
    owner_account_id: str
    name: str | None
    status: str
    created_at: float
    settings: InstanceSettings
    kind: str = ACCOUNT  # ORGANIZATION | ACCOUNT

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    @property
    def identity_store_arn(self) -> str:
        return f"arn:aws:identitystore::{self.owner_account_id}:identitystore/{self.identity_store_id}"


def of_row(row: SsoInstance) -> Instance:
    return Instance(row.arn, row.identity_store_id, row.owner_account_id, row.name, row.status, row.created_at,
                    instance_settings.from_json(row.settings), row.kind)


async def by_identity_store_id(uow: UnitOfWork, identity_store_id: str) -> Instance | None:
    row = await uow.identity_center.instance_of_store(identity_store_id)
    return of_row(row) if row is not None else None


async def by_arn(uow: UnitOfWork, instance_arn: str) -> Instance | None:
    row = await uow.identity_center.instance(instance_arn)
    return of_row(row) if row is not None else None


async def of_account(uow: UnitOfWork, account_id: str) -> Instance | None:
    row = await uow.identity_center.instance_of_account(account_id)
    return of_row(row) if row is not None else None


async def by_portal_name(uow: UnitOfWork, name: str) -> Instance | None:
    """The instance whose portal `/portal/<name>/start` is: its identity store ID or its custom subdomain."""
    row = (await uow.identity_center.instance_of_store(name) if name.startswith("d-")
           else await uow.identity_center.instance_of_subdomain(name.lower()))
    return of_row(row) if row is not None else None


async def owned(call: ApiCall, uow: UnitOfWork, instance_arn: str, *, missing: type[Exception] = NotFound
                ) -> SsoInstance:
    """The caller's instance named by `instance_arn`, authorized; one that does not exist and one of another
    account answer the same."""
    row = await uow.identity_center.instance(instance_arn)
    if row is None or row.owner_account_id != call.account_id:
        if missing is PermissionDenied:
            raise PermissionDenied(f"User: {call.caller.arn} is not authorized to perform: {call.action} on "
                                   f"resource: {instance_arn}")
        raise NotFound(f"Instance {instance_arn} does not exist.")
    await call.authorize(uow, instance_arn)
    return row


def _tags(given: Sequence[tuple[str, str]]) -> str:
    if len(given) > 75:
        raise InvalidValue("At most 75 tags are allowed.")
    if len({k for k, _ in given}) != len(given):
        raise InvalidValue("Duplicate tag keys.")
    return json.dumps([{"Key": k, "Value": v} for k, v in given])


async def create_instance(call: ApiCall, name: str | None, client_token: str | None,
                          tags: Sequence[tuple[str, str]] = ()) -> str:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        existing = await uow.identity_center.instance_of_account(call.account_id)
        if existing is not None:
            if client_token is not None and existing.client_token == client_token:
                await call.record(uow, instance_arn=existing.arn, repeated=True)
                return existing.arn
            raise AlreadyExists("InstanceArn", "An Identity Center instance already exists for this account.")
        organization = await organization_of(uow, call.account_id)
        kind = (ORGANIZATION if organization is not None and organization.management_account_id == call.account_id
                else ACCOUNT)
        row = SsoInstance(arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}",
                          identity_store_id=f"d-{secrets.token_hex(5)}", owner_account_id=call.account_id,
                          name=name or None, kind=kind, status="ACTIVE", client_token=client_token,
                          created_at=call.now(), settings=InstanceSettings().to_json(), tags=_tags(tags))
        try:
            await uow.identity_center.add(row)
        except Conflict:
            raise AlreadyExists("InstanceArn", "An Identity Center instance already exists for this account.") from None
        await call.record(uow, instance_arn=row.arn, identity_store_id=row.identity_store_id, kind=kind)
        return row.arn


async def list_instances(call: ApiCall) -> list[Instance]:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        found = await of_account(uow, call.account_id)
    return [found] if found is not None else []


async def describe_instance(call: ApiCall, instance_arn: str) -> Instance:
    async with call.unit() as uow:
        return of_row(await owned(call, uow, instance_arn, missing=PermissionDenied))


async def update_instance(call: ApiCall, instance_arn: str, name: str | None) -> None:
    async with call.unit() as uow:
        row = await owned(call, uow, instance_arn)
        if name is not None:
            row.name = name or None
            await uow.identity_center.flush()
        await call.record(uow, instance_arn=row.arn, name=name)


async def delete_instance(call: ApiCall, instance_arn: str) -> None:
    """The instance, its permission sets, assignments, the reserved roles they made in accounts, and its
    directory."""
    from . import directory, provisioning

    async with call.unit() as uow:
        row = await owned(call, uow, instance_arn, missing=PermissionDenied)
        for provisioned in await uow.identity_center.provisionings(row.arn):
            await provisioning.remove_role(uow, provisioned)
        await directory.delete_store(uow, row.identity_store_id)
        await uow.identity_center.delete(row)
        await call.record(uow, instance_arn=row.arn, identity_store_id=row.identity_store_id)


# settings (Vestibule CLI: no ApiCall; the operator runs it on the server)

async def require(uow: UnitOfWork, *, instance_arn: str | None = None,
                  identity_store_id: str | None = None) -> SsoInstance:
    row = (await uow.identity_center.instance(instance_arn) if instance_arn
           else await uow.identity_center.instance_of_store(identity_store_id or ""))
    if row is None:
        raise NotFound(f"No Identity Center instance {instance_arn or identity_store_id}.")
    return row


async def set_settings(uow: UnitOfWork, row: SsoInstance, new: InstanceSettings) -> Instance:
    if new.portal_subdomain is not None:
        holder = await uow.identity_center.instance_of_subdomain(new.portal_subdomain)
        if holder is not None and holder.arn != row.arn:
            raise AlreadyExists("PortalSubdomain", f"The portal subdomain {new.portal_subdomain} is taken.")
    row.settings = new.to_json()
    row.portal_subdomain = new.portal_subdomain
    try:
        await uow.identity_center.flush()
    except Conflict:
        raise AlreadyExists("PortalSubdomain", f"The portal subdomain {new.portal_subdomain} is taken.") from None
    return of_row(row)
