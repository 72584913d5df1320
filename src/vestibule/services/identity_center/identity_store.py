"""Identity Store (SigV4): the directory's use cases for the administrator of the identity store's instance.
Every call names an identity store; one that does not exist and one of another account answer the same
NotFound, so a caller learns nothing about foreign stores. The call is then authorized on the store's ARN
(`arn:aws:identitystore::<account>:identitystore/d-...`) and a change is audited in the same transaction."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

from ...core.pagination import MarkerCodec, Page, PageRequest
from ...errors import InvalidValue, NotFound
from ...store.repositories import UnitOfWork
from ..api_call import ApiCall
from . import directory, instances
from .directory import DirectoryGroup, DirectoryUser, ExternalId, Membership
from .directory_profile import AttributeOperation, UserProfile
from .page_tokens import markers

T = TypeVar("T")
_STORE_ARN = re.compile(r"arn:aws[a-z-]*:identitystore::(\d{12}):identitystore/(.+)")
_RESOURCE_ARN = re.compile(r"arn:aws[a-z-]*:identitystore:::(?:user|group|membership)/(.+)")


class StoreNotFound(NotFound):
    """The identity store does not exist or is not the caller's."""


def store_arn(account_id: str, identity_store_id: str) -> str:
    return f"arn:aws:identitystore::{account_id}:identitystore/{identity_store_id}"


def resource_id(value: str) -> str:
    """A user, group or membership ID as given, or the ID its ARN names."""
    found = _RESOURCE_ARN.fullmatch(value)
    return found.group(1) if found else value


def _page(codec: MarkerCodec, found: directory.Page[T]) -> Page[T]:
    return Page(list(found.items), None if found.next_after is None else codec.encode(found.next_after))


async def _store(call: ApiCall, uow: UnitOfWork, given: str) -> str:
    found = _STORE_ARN.fullmatch(given)
    named_account, store_id = (found.group(1), found.group(2)) if found else (None, given)
    instance = await instances.by_identity_store_id(uow, store_id)
    if (instance is None or instance.owner_account_id != call.account_id
            or named_account not in (None, instance.owner_account_id)):
        raise StoreNotFound(f"Identity store {store_id} not found.")
    await call.authorize(uow, store_arn(instance.owner_account_id, store_id))
    return store_id


@asynccontextmanager
async def _in_store(call: ApiCall, given: str) -> AsyncIterator[tuple[UnitOfWork, str]]:
    async with call.unit() as uow:
        yield uow, await _store(call, uow, given)


# users

async def create_user(call: ApiCall, store: str, user_name: str | None, profile: UserProfile,
                      external_ids: Sequence[ExternalId] = ()) -> DirectoryUser:
    if not user_name:
        raise InvalidValue("UserName is required.")
    async with _in_store(call, store) as (uow, store_id):
        user = await directory.create_user(uow, store_id, user_name, profile, external_ids, actor=call.caller.arn,
                                           now=call.now())
        await call.record(uow, identity_store_id=store_id, user_id=user.id)
    return user


async def describe_user(call: ApiCall, store: str, user_id: str) -> DirectoryUser:
    async with _in_store(call, store) as (uow, store_id):
        return await directory.require_user(uow, store_id, resource_id(user_id))


async def list_users(call: ApiCall, store: str, *, user_name: str | None, display_name: str | None,
                     page: PageRequest) -> Page[DirectoryUser]:
    async with _in_store(call, store) as (uow, store_id):
        codec = markers(call, "ListUsers", store_id, "UserName" if user_name is not None else "DisplayName",
                        user_name or display_name or "")
        return _page(codec, await directory.find_users(uow, store_id, user_name=user_name, display_name=display_name,
                                                       after=codec.after(page), limit=page.limit))


async def update_user(call: ApiCall, store: str, user_id: str, operations: Sequence[AttributeOperation],
                      revision: int | None) -> DirectoryUser:
    async with _in_store(call, store) as (uow, store_id):
        user = await directory.update_user(uow, store_id, resource_id(user_id), operations, actor=call.caller.arn,
                                           now=call.now(), expected_revision=revision)
        await call.record(uow, identity_store_id=store_id, user_id=user.id)
    return user


async def delete_user(call: ApiCall, store: str, user_id: str, revision: int | None) -> None:
    async with _in_store(call, store) as (uow, store_id):
        user = await directory.delete_user(uow, store_id, resource_id(user_id), expected_revision=revision)
        await call.record(uow, identity_store_id=store_id, user_id=user.id)


async def user_id_of(call: ApiCall, store: str, *, user_name: str | None = None, email: str | None = None,
                     external_id: ExternalId | None = None) -> DirectoryUser:
    """GetUserId: the one user with this user name, primary email or external ID."""
    async with _in_store(call, store) as (uow, store_id):
        page = await directory.find_users(uow, store_id, user_name=user_name, email=email,
                                          external_id=external_id, limit=1)
    if not page.items:
        raise NotFound("User not found.")
    return page.items[0]


# groups

async def create_group(call: ApiCall, store: str, display_name: str | None, description: str | None) -> DirectoryGroup:
    if not display_name:
        raise InvalidValue("DisplayName is required.")
    async with _in_store(call, store) as (uow, store_id):
        group = await directory.create_group(uow, store_id, display_name, description, actor=call.caller.arn,
                                             now=call.now())
        await call.record(uow, identity_store_id=store_id, group_id=group.id)
    return group


async def describe_group(call: ApiCall, store: str, group_id: str) -> DirectoryGroup:
    async with _in_store(call, store) as (uow, store_id):
        return await directory.require_group(uow, store_id, resource_id(group_id))


async def list_groups(call: ApiCall, store: str, *, display_name: str | None,
                      page: PageRequest) -> Page[DirectoryGroup]:
    async with _in_store(call, store) as (uow, store_id):
        codec = markers(call, "ListGroups", store_id, "DisplayName" if display_name is not None else "",
                        display_name or "")
        return _page(codec, await directory.find_groups(uow, store_id, display_name=display_name,
                                                        after=codec.after(page), limit=page.limit))


async def update_group(call: ApiCall, store: str, group_id: str, operations: Sequence[AttributeOperation],
                       revision: int | None) -> DirectoryGroup:
    async with _in_store(call, store) as (uow, store_id):
        group = await directory.update_group(uow, store_id, resource_id(group_id), operations,
                                             actor=call.caller.arn, now=call.now(), expected_revision=revision)
        await call.record(uow, identity_store_id=store_id, group_id=group.id)
    return group


async def delete_group(call: ApiCall, store: str, group_id: str, revision: int | None) -> None:
    async with _in_store(call, store) as (uow, store_id):
        group = await directory.delete_group(uow, store_id, resource_id(group_id), expected_revision=revision)
        await call.record(uow, identity_store_id=store_id, group_id=group.id)


async def group_id_of(call: ApiCall, store: str, *, display_name: str | None = None,
                      external_id: ExternalId | None = None) -> DirectoryGroup:
    async with _in_store(call, store) as (uow, store_id):
        page = await directory.find_groups(uow, store_id, display_name=display_name, external_id=external_id,
                                           limit=1)
    if not page.items:
        raise NotFound("Group not found.")
    return page.items[0]


# memberships

async def create_membership(call: ApiCall, store: str, group_id: str, user_id: str) -> Membership:
    async with _in_store(call, store) as (uow, store_id):
        membership = await directory.add_member(uow, store_id, resource_id(group_id), resource_id(user_id),
                                                actor=call.caller.arn, now=call.now())
        await call.record(uow, identity_store_id=store_id, membership_id=membership.id,
                          group_id=membership.group_id, user_id=membership.user_id)
    return membership


async def describe_membership(call: ApiCall, store: str, membership_id: str) -> Membership:
    async with _in_store(call, store) as (uow, store_id):
        membership = await directory.get_membership(uow, store_id, resource_id(membership_id))
    if membership is None:
        raise NotFound("Group membership not found.")
    return membership


async def delete_membership(call: ApiCall, store: str, membership_id: str) -> None:
    async with _in_store(call, store) as (uow, store_id):
        membership = await directory.remove_member(uow, store_id, resource_id(membership_id))
        await call.record(uow, identity_store_id=store_id, membership_id=membership.id,
                          group_id=membership.group_id, user_id=membership.user_id)


async def memberships_of_group(call: ApiCall, store: str, group_id: str, *,
                               page: PageRequest) -> Page[Membership]:
    async with _in_store(call, store) as (uow, store_id):
        codec = markers(call, "ListGroupMemberships", store_id, resource_id(group_id))
        return _page(codec, await directory.memberships_of_group(uow, store_id, resource_id(group_id),
                                                                 after=codec.after(page), limit=page.limit))


async def memberships_of_user(call: ApiCall, store: str, user_id: str, *, page: PageRequest) -> Page[Membership]:
    async with _in_store(call, store) as (uow, store_id):
        codec = markers(call, "ListGroupMembershipsForMember", store_id, resource_id(user_id))
        return _page(codec, await directory.groups_of_user(uow, store_id, resource_id(user_id),
                                                           after=codec.after(page), limit=page.limit))


async def membership_id_of(call: ApiCall, store: str, group_id: str, user_id: str) -> Membership:
    async with _in_store(call, store) as (uow, store_id):
        membership = await directory.membership_of(uow, store_id, resource_id(group_id), resource_id(user_id))
    if membership is None:
        raise NotFound("Group membership not found.")
    return membership


async def is_member_in_groups(call: ApiCall, store: str, user_id: str,
                              group_ids: Sequence[str]) -> list[tuple[str, bool]]:
    """For each group asked about, whether the user is a member (False for a group that does not exist)."""
    async with _in_store(call, store) as (uow, store_id):
        user = resource_id(user_id)
        if not await directory.user_exists(uow, store_id, user):
            raise NotFound("User not found.")
        member_of = set(await directory.group_ids_of_user(uow, store_id, user))
    return [(group_id, resource_id(group_id) in member_of) for group_id in group_ids]

