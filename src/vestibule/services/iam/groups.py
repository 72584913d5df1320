"""IAM groups and membership."""

from __future__ import annotations

from ...core import arns
from ...core import identifiers as ids
from ...core.pagination import Page, PageRequest
from ...errors import AlreadyExists, InUse, LimitExceeded, NotFound
from ...store.models import IamGroup, IamUser
from ...store.repositories import Conflict
from ..api_call import ApiCall
from . import quotas
from .common import markers, named_group, named_user, require_user


def _exists(name: str) -> AlreadyExists:
    return AlreadyExists("group", f"Group with name {name} already exists.")


async def create_group(call: ApiCall, name: str, path: str) -> IamGroup:
    async with call.unit() as uow:
        await call.authorize(uow, arns.group_arn(call.account_id, name, path))
        if await uow.groups.by_name(call.account_id, name) is not None:
            raise _exists(name)
        group = IamGroup(id=ids.new_iam_id("AGPA"), account_id=call.account_id, name=name,
                         name_lower=name.lower(), path=path, created_at=call.now())
        try:
            await uow.groups.add(group)
        except Conflict:
            raise _exists(name) from None
        await call.record(uow, group=group.name)
        return group


def group_key(group: IamGroup) -> tuple[str, str]:
    """The order groups are listed in: by name without regard to case (unique in an account), then ID."""
    return group.name_lower, group.id


def _member_key(user: IamUser) -> tuple[str, str]:
    return user.name_lower, user.id


async def get_group(call: ApiCall, name: str, request: PageRequest) -> tuple[IamGroup, Page[IamUser]]:
    """The group and one page of its members, by name."""
    async with call.unit() as uow:
        group = await named_group(call, uow, name)
        codec = markers(call, "GetGroup", group.id)
        rows = await uow.groups.members_page(group.id, codec.after(request), request.limit)
    return group, codec.page(rows, request, _member_key)


async def list_groups(call: ApiCall, path_prefix: str, request: PageRequest) -> Page[IamGroup]:
    codec = markers(call, "ListGroups", path_prefix)
    after = codec.after(request)
    async with call.unit() as uow:
        await call.authorize(uow, arns.all_of_kind(call.account_id, "group", path_prefix))
        rows = await uow.groups.page(call.account_id, path_prefix, after, request.limit)
    return codec.page(rows, request, group_key)


async def update_group(call: ApiCall, name: str, new_name: str | None, new_path: str | None) -> None:
    async with call.unit() as uow:
        group = await named_group(call, uow, name)
        stored = group.name
        if new_name or new_path:  # AWS: renaming or moving needs the action on the target ARN as well
            await call.authorize(uow, arns.group_arn(group.account_id, new_name or group.name, new_path or group.path))
        if new_name and new_name.lower() != group.name_lower:
            if await uow.groups.by_name(group.account_id, new_name) is not None:
                raise _exists(new_name)
            group.name, group.name_lower = new_name, new_name.lower()
            await uow.policies.target_renamed("group", group.id, group.name_lower)  # ListEntitiesForPolicy's key
        if new_path:
            group.path = new_path
        await call.record(uow, group=stored, new_name=new_name, new_path=new_path)


async def delete_group(call: ApiCall, name: str) -> None:
    async with call.unit() as uow:
        group = await named_group(call, uow, name)
        if await uow.groups.members_page(group.id, None, 0):  # one row tells: not the whole group
            raise InUse("Cannot delete entity, must remove users from group first.")
        if await uow.policies.attached_to("group", group.id) or await uow.policies.inline_of("group", group.id):
            raise InUse("Cannot delete entity, must delete policies first.")
        await uow.groups.delete(group)
        await call.record(uow, group=group.name)


async def add_user_to_group(call: ApiCall, group_name: str, user_name: str) -> None:
    async with call.unit() as uow:
        group = await named_group(call, uow, group_name)
        user = await require_user(uow, call.account_id, user_name)
        if len(await uow.groups.of_user(user.id)) >= quotas.GROUPS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {quotas.GROUPS_PER_USER}")
        await uow.groups.add_member(group.id, user.id)
        await call.record(uow, group=group.name, user=user.name)


async def remove_user_from_group(call: ApiCall, group_name: str, user_name: str) -> None:
    async with call.unit() as uow:
        group = await named_group(call, uow, group_name)
        user = await require_user(uow, call.account_id, user_name)
        if not await uow.groups.remove_member(group.id, user.id):
            raise NotFound(f"User {user_name} is not in group {group.name}.")
        await call.record(uow, group=group.name, user=user.name)


async def list_groups_for_user(call: ApiCall, user_name: str, request: PageRequest) -> Page[IamGroup]:
    """A user's groups (at most GROUPS_PER_USER, so a page is cut from them all)."""
    async with call.unit() as uow:
        user = await named_user(call, uow, user_name)
        groups = await uow.groups.of_user(user.id)
    return markers(call, "ListGroupsForUser", user.id).page_in_memory(groups, request, group_key)
