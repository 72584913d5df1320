"""IAM users and their tags."""

from __future__ import annotations

from ...core import identifiers as ids
from ...errors import AlreadyExists
from ...errors import InvalidInput as DomainInvalidInput
from ...services import audit, iam_users
from ...services.context import Client
from ..errors import DeleteConflict, EntityAlreadyExists, InvalidInput
from ..registry import CallContext, Result, operation
from .common import (
    PATH,
    USER_NAME,
    account_of,
    authorize,
    paginate,
    require_user,
    tags_from,
    target_user,
    user_shape,
)


def _client(ctx: CallContext) -> Client:
    return Client(ip=ctx.source_ip, user_agent="aws-api")


@operation("iam", "CreateUser")
async def create_user(ctx: CallContext) -> Result:
    name = ctx.params.text("UserName", pattern=USER_NAME, low=1, high=64, required=True)
    path = ctx.params.text("Path", pattern=PATH, low=1, high=512, default="/") or "/"
    assert name is not None
    tags = tags_from(ctx)
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:CreateUser", ids.user_arn(ctx.caller.account_id, name, path))
        account = await account_of(ctx, uow)
        try:
            user = await iam_users.create_user(ctx.deps, uow, account, name, path=path, client=_client(ctx),
                                               actor=ctx.caller.arn)
        except AlreadyExists:
            raise EntityAlreadyExists(f"User with name {name} already exists.") from None
        except DomainInvalidInput as exc:
            raise InvalidInput(exc.message) from None
        for key, value in tags:
            await uow.tags.put("user", user.id, key, value)
        return {"User": user_shape(user, [{"Key": k, "Value": v} for k, v in tags])}


@operation("iam", "GetUser")
async def get_user(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:GetUser")
        if user is None:
            account = await account_of(ctx, uow)
            return {"User": {"UserId": account.id, "Arn": ids.root_arn(account.id),
                             "CreateDate": _ts(account.created_at)}}
        tags = [{"Key": t.key, "Value": t.value} for t in await uow.tags.of("user", user.id)]
        return {"User": user_shape(user, tags)}


def _ts(seconds: float) -> object:
    from ..xml import Timestamp

    return Timestamp(seconds)


@operation("iam", "ListUsers")
async def list_users(ctx: CallContext) -> Result:
    prefix = ctx.params.text("PathPrefix", low=1, high=512, default="/") or "/"
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListUsers", f"arn:aws:iam::{ctx.caller.account_id}:user{prefix}*")
        users = [u for u in await uow.users.list(ctx.caller.account_id) if u.path.startswith(prefix)]
    page, extra = paginate(ctx, users)
    return {"Users": [user_shape(u) for u in page], **extra}


@operation("iam", "UpdateUser")
async def update_user(ctx: CallContext) -> Result:
    new_name = ctx.params.text("NewUserName", pattern=USER_NAME, low=1, high=64)
    new_path = ctx.params.text("NewPath", pattern=PATH, low=1, high=512)
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:UpdateUser")
        if user is None:
            raise InvalidInput("The root user cannot be renamed.")
        if new_name and new_name.lower() != user.name_lower:
            if await uow.users.by_name(user.account_id, new_name) is not None:
                raise EntityAlreadyExists(f"User with name {new_name} already exists.")
        if new_name:
            user.name, user.name_lower = new_name, new_name.lower()
        if new_path:
            user.path = new_path
        await uow.accounts.save()
    return None


@operation("iam", "DeleteUser")
async def delete_user(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        name = ctx.params.text("UserName", pattern=USER_NAME, low=1, high=128, required=True)
        assert name is not None
        user = await uow.users.by_name(ctx.caller.account_id, name)
        await authorize(ctx, uow, "iam:DeleteUser", ids.user_arn(ctx.caller.account_id, name, user.path if user else "/"))
        user = await require_user(uow, ctx.caller.account_id, name)
        key = f"user:{user.id}"
        blockers = []
        if user.password_hash:
            blockers.append("login profile")
        if await uow.access_keys.for_principal(key):
            blockers.append("access keys")
        if await uow.virtual_mfa.all_for(key):
            blockers.append("MFA devices")
        if await uow.policies.attached_to("user", user.id) or await uow.policies.inline_of("user", user.id):
            blockers.append("policies")
        if await uow.groups.of_user(user.id):
            blockers.append("group memberships")
        if blockers:
            raise DeleteConflict(f"Cannot delete entity, must remove {', '.join(blockers)} first.")
        await uow.tags.remove_all("user", user.id)
        await uow.sessions.revoke_all(key, ctx.deps.clock())
        await uow.db.delete(user)
        await audit.record(uow, at=ctx.deps.clock(), event="DeleteUser", result="Success", client=_client(ctx),
                           account_id=user.account_id, principal=ctx.caller.arn, method="api", user=name)
    return None


@operation("iam", "TagUser")
async def tag_user(ctx: CallContext) -> Result:
    tags = tags_from(ctx)
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:TagUser")
        if user is None:
            raise InvalidInput("UserName is required.")
        for key, value in tags:
            await uow.tags.put("user", user.id, key, value)
        if len(await uow.tags.of("user", user.id)) > 50:
            from ..errors import LimitExceeded

            raise LimitExceeded("Cannot exceed quota for TagsPerUser: 50")
    return None


@operation("iam", "UntagUser")
async def untag_user(ctx: CallContext) -> Result:
    keys = ctx.params.members("TagKeys")
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:UntagUser")
        if user is None:
            raise InvalidInput("UserName is required.")
        await uow.tags.remove("user", user.id, keys)
    return None


@operation("iam", "ListUserTags")
async def list_user_tags(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:ListUserTags")
        if user is None:
            raise InvalidInput("UserName is required.")
        tags = [{"Key": t.key, "Value": t.value} for t in await uow.tags.of("user", user.id)]
    page, extra = paginate(ctx, tags)
    return {"Tags": page, **extra}
