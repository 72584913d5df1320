"""IAM groups and membership."""

from __future__ import annotations

from typing import Any

from ...core import identifiers as ids
from ...store.models import IamGroup
from ...store.repositories import Conflict, UnitOfWork
from ..errors import DeleteConflict, EntityAlreadyExists, NoSuchEntity
from ..registry import CallContext, Result, operation
from ..xml import Timestamp
from .common import PATH, USER_NAME, authorize, paginate, require_user, user_shape

GROUP_NAME = r"[\w+=,.@-]+"


def group_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:group{path}{name}"


def group_shape(group: IamGroup) -> dict[str, Any]:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.id,
            "Arn": group_arn(group.account_id, group.name, group.path), "CreateDate": Timestamp(group.created_at)}


async def require_group(ctx: CallContext, uow: UnitOfWork, action: str) -> IamGroup:
    name = ctx.params.text("GroupName", pattern=GROUP_NAME, low=1, high=128, required=True) or ""
    group = await uow.groups.by_name(ctx.caller.account_id, name)
    await authorize(ctx, uow, action, group_arn(ctx.caller.account_id, name, group.path if group else "/"))
    if group is None:
        raise NoSuchEntity(f"The group with name {name} cannot be found.")
    return group


@operation("iam", "CreateGroup")
async def create_group(ctx: CallContext) -> Result:
    name = ctx.params.text("GroupName", pattern=GROUP_NAME, low=1, high=128, required=True) or ""
    path = ctx.params.text("Path", pattern=PATH, low=1, high=512, default="/") or "/"
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:CreateGroup", group_arn(ctx.caller.account_id, name, path))
        if await uow.groups.by_name(ctx.caller.account_id, name) is not None:
            raise EntityAlreadyExists(f"Group with name {name} already exists.")
        group = IamGroup(id=ids.new_iam_id("AGPA"), account_id=ctx.caller.account_id, name=name,
                         name_lower=name.lower(), path=path, created_at=ctx.deps.clock())
        try:
            await uow.groups.add(group)
        except Conflict:
            raise EntityAlreadyExists(f"Group with name {name} already exists.") from None
        return {"Group": group_shape(group)}


@operation("iam", "GetGroup")
async def get_group(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        group = await require_group(ctx, uow, "iam:GetGroup")
        members = list(await uow.groups.members(group.id))
    page, extra = paginate(ctx, members)
    return {"Group": group_shape(group), "Users": [user_shape(u) for u in page], **extra}


@operation("iam", "ListGroups")
async def list_groups(ctx: CallContext) -> Result:
    prefix = ctx.params.text("PathPrefix", low=1, high=512, default="/") or "/"
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListGroups", f"arn:aws:iam::{ctx.caller.account_id}:group{prefix}*")
        groups = list(await uow.groups.list(ctx.caller.account_id, prefix))
    page, extra = paginate(ctx, groups)
    return {"Groups": [group_shape(g) for g in page], **extra}


@operation("iam", "UpdateGroup")
async def update_group(ctx: CallContext) -> Result:
    new_name = ctx.params.text("NewGroupName", pattern=GROUP_NAME, low=1, high=128)
    new_path = ctx.params.text("NewPath", pattern=PATH, low=1, high=512)
    async with ctx.deps.store.unit() as uow:
        group = await require_group(ctx, uow, "iam:UpdateGroup")
        if new_name and new_name.lower() != group.name_lower:
            if await uow.groups.by_name(group.account_id, new_name) is not None:
                raise EntityAlreadyExists(f"Group with name {new_name} already exists.")
            group.name, group.name_lower = new_name, new_name.lower()
        if new_path:
            group.path = new_path
    return None


@operation("iam", "DeleteGroup")
async def delete_group(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        group = await require_group(ctx, uow, "iam:DeleteGroup")
        if await uow.groups.members(group.id):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if await uow.policies.attached_to("group", group.id) or await uow.policies.inline_of("group", group.id):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        await uow.groups.delete(group)
    return None


@operation("iam", "AddUserToGroup")
async def add_user_to_group(ctx: CallContext) -> Result:
    user_name = ctx.params.text("UserName", pattern=USER_NAME, low=1, high=128, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        group = await require_group(ctx, uow, "iam:AddUserToGroup")
        user = await require_user(uow, ctx.caller.account_id, user_name)
        if len(await uow.groups.of_user(user.id)) >= 10:
            from ..errors import LimitExceeded

            raise LimitExceeded("Cannot exceed quota for GroupsPerUser: 10")
        await uow.groups.add_member(group.id, user.id)
    return None


@operation("iam", "RemoveUserFromGroup")
async def remove_user_from_group(ctx: CallContext) -> Result:
    user_name = ctx.params.text("UserName", pattern=USER_NAME, low=1, high=128, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        group = await require_group(ctx, uow, "iam:RemoveUserFromGroup")
        user = await require_user(uow, ctx.caller.account_id, user_name)
        if not await uow.groups.remove_member(group.id, user.id):
            raise NoSuchEntity(f"User {user_name} is not in group {group.name}.")
    return None


@operation("iam", "ListGroupsForUser")
async def list_groups_for_user(ctx: CallContext) -> Result:
    user_name = ctx.params.text("UserName", pattern=USER_NAME, low=1, high=128, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        user = await uow.users.by_name(ctx.caller.account_id, user_name)
        await authorize(ctx, uow, "iam:ListGroupsForUser",
                        ids.user_arn(ctx.caller.account_id, user_name, user.path if user else "/"))
        user = await require_user(uow, ctx.caller.account_id, user_name)
        groups = list(await uow.groups.of_user(user.id))
    page, extra = paginate(ctx, groups)
    return {"Groups": [group_shape(g) for g in page], **extra}
