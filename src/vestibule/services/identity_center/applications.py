"""Bookmark applications of an Identity Center instance: a name and an http(s) URL the access portal links to,
assigned to directory users and groups (an assignment to a group applies to its members). Administered with
`vestibule sso application ...`; every change is audited in the instance owner's account. A deleted user or
group loses its assignments; a deleted instance takes its applications with it (foreign keys)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ...errors import InvalidInput, NotFound
from ...store.models import SsoApplication, SsoApplicationAssignment
from ...store.repositories import UnitOfWork
from .. import audit
from ..context import Client, Deps
from . import directory
from .instances import Instance, by_identity_store_id

NAME_MAX, URL_MAX, DESCRIPTION_MAX = 64, 2048, 1024
CLI = Client(ip="cli")


@dataclass(frozen=True)
class Application:
    id: str
    instance_arn: str
    name: str
    url: str
    description: str | None
    created_at: float

    def shown(self) -> dict[str, object]:
        """As `vestibule sso application create|list` prints it."""
        return {"ApplicationId": self.id, "Name": self.name, "Url": self.url, "Description": self.description}


def _of(row: SsoApplication) -> Application:
    return Application(row.id, row.instance_arn, row.name, row.url, row.description, row.created_at)


def check_name(name: str) -> str:
    if not 1 <= len(name) <= NAME_MAX or not name.isprintable() or not name.strip():
        raise InvalidInput("name", f"The application name must be 1-{NAME_MAX} printable characters.")
    return name


def check_url(url: str) -> str:
    """Only absolute http:// and https:// URLs with a host (never javascript:, data: or anything else)."""
    refused = InvalidInput("url", "The application URL must be an absolute https:// or http:// URL.")
    if not 1 <= len(url) <= URL_MAX or not url.isprintable() or any(c.isspace() for c in url):
        raise refused
    try:
        parts = urlsplit(url)
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("https", "http") or not parts.netloc or not url.lower().startswith(
            ("https://", "http://")):
        raise refused
    return url


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > DESCRIPTION_MAX or not description.isprintable():
        raise InvalidInput("description", f"The description must be at most {DESCRIPTION_MAX} printable characters.")
    return description or None


async def _instance(uow: UnitOfWork, identity_store_id: str) -> Instance:
    instance = await by_identity_store_id(uow, identity_store_id)
    if instance is None:
        raise NotFound(f"Identity store {identity_store_id} does not exist.")
    return instance


async def _application(uow: UnitOfWork, instance: Instance, application_id: str) -> SsoApplication:
    row = await uow.applications.get(instance.arn, application_id)
    if row is None:
        raise NotFound(f"Application {application_id} does not exist in identity store {instance.identity_store_id}.")
    return row


async def _record(uow: UnitOfWork, deps: Deps, instance: Instance, event: str, client: Client,
                  **details: Any) -> None:
    await audit.record(uow, at=deps.clock(), event=event, result="success", client=client,
                       account_id=instance.owner_account_id, principal="administrator", method="cli",
                       identity_store_id=instance.identity_store_id, **details)


async def create(deps: Deps, identity_store_id: str, name: str, url: str, description: str | None = None,
                 client: Client = CLI) -> Application:
    row = SsoApplication(id=f"app-{secrets.token_hex(8)}", name=check_name(name), url=check_url(url),
                         description=check_description(description), created_at=deps.clock())
    async with deps.store.unit() as uow:
        instance = await _instance(uow, identity_store_id)
        row.instance_arn = instance.arn
        await uow.applications.add(row)
        await _record(uow, deps, instance, "CreateApplication", client, application_id=row.id, name=row.name)
        await uow.commit()
    return _of(row)


async def list_applications(deps: Deps, identity_store_id: str) -> list[Application]:
    async with deps.store.unit() as uow:
        instance = await _instance(uow, identity_store_id)
        return [_of(row) for row in await uow.applications.of_instance(instance.arn)]


async def delete(deps: Deps, identity_store_id: str, application_id: str, client: Client = CLI) -> None:
    async with deps.store.unit() as uow:
        instance = await _instance(uow, identity_store_id)
        await _application(uow, instance, application_id)
        await uow.applications.delete(application_id)
        await _record(uow, deps, instance, "DeleteApplication", client, application_id=application_id)
        await uow.commit()


async def _principal(uow: UnitOfWork, instance: Instance, user_name: str | None,
                     group_name: str | None) -> tuple[str, str]:
    store = instance.identity_store_id
    if user_name is not None:
        users = (await directory.find_users(uow, store, user_name=user_name)).items
        if users:
            return "USER", users[0].id
        raise NotFound(f"No user {user_name} in identity store {store}.")
    if group_name is None:
        raise InvalidInput("principal", "Name a user (--user-name) or a group (--group-name).")
    groups = (await directory.find_groups(uow, store, display_name=group_name)).items
    if groups:
        return "GROUP", groups[0].id
    raise NotFound(f"No group {group_name} in identity store {store}.")


async def assign(deps: Deps, identity_store_id: str, application_id: str, *, user_name: str | None = None,
                 group_name: str | None = None, client: Client = CLI) -> tuple[str, str]:
    """The principal (type, ID) now assigned; assigning twice is the same assignment."""
    async with deps.store.unit() as uow:
        instance = await _instance(uow, identity_store_id)
        await _application(uow, instance, application_id)
        kind, principal_id = await _principal(uow, instance, user_name, group_name)
        if await uow.applications.assignment(application_id, kind, principal_id) is None:
            await uow.applications.add(SsoApplicationAssignment(
                application_id=application_id, principal_type=kind, principal_id=principal_id,
                created_at=deps.clock()))
        await _record(uow, deps, instance, "AssignApplication", client, application_id=application_id,
                      principal_type=kind, principal_id=principal_id)
        await uow.commit()
    return kind, principal_id


async def unassign(deps: Deps, identity_store_id: str, application_id: str, *, user_name: str | None = None,
                   group_name: str | None = None, client: Client = CLI) -> tuple[str, str]:
    async with deps.store.unit() as uow:
        instance = await _instance(uow, identity_store_id)
        await _application(uow, instance, application_id)
        kind, principal_id = await _principal(uow, instance, user_name, group_name)
        if not await uow.applications.unassign(application_id, kind, principal_id):
            raise NotFound(f"Application {application_id} is not assigned to that {kind.lower()}.")
        await _record(uow, deps, instance, "UnassignApplication", client, application_id=application_id,
                      principal_type=kind, principal_id=principal_id)
        await uow.commit()
    return kind, principal_id


async def applications_for_user(uow: UnitOfWork, instance: Instance, user_id: str,
                                group_ids: list[str]) -> list[Application]:
    """The applications assigned to the user directly or through one of their groups, by name."""
    principals = [("USER", user_id)] + [("GROUP", g) for g in group_ids]
    return [_of(row) for row in await uow.applications.for_principals(instance.arn, principals)]


async def _principal_deleted(uow: UnitOfWork, identity_store_id: str, principal_type: str, principal_id: str) -> None:
    instance = await uow.identity_center.instance_of_store(identity_store_id)
    if instance is not None:
        await uow.applications.principal_deleted(instance.arn, principal_type, principal_id)


directory.principal_deleted_hooks.append(_principal_deleted)
