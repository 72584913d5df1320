"""Access keys: create (secret shown once), list, activate/deactivate, delete, last used."""

from __future__ import annotations

from ...core import identifiers as ids
from ...errors import LimitExceeded as DomainLimit
from ...errors import NotFound
from ...services import access_keys
from ...services.context import Client
from ...store.models import IamUser
from ..errors import LimitExceeded, NoSuchEntity, ValidationError
from ..registry import CallContext, Result, operation
from ..xml import Timestamp
from .common import authorize, target_user

KEY_ID = r"[\w]+"


def _owner(ctx: CallContext, user: IamUser | None) -> tuple[str, str]:
    if user is None:
        return f"root:{ctx.caller.account_id}", ""
    return f"user:{user.id}", user.name


@operation("iam", "CreateAccessKey")
async def create_access_key(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:CreateAccessKey")
        principal_key, name = _owner(ctx, user)
        try:
            key = await access_keys.create(ctx.deps, uow, ctx.caller.account_id, principal_key,
                                           client=Client(ip=ctx.source_ip), actor=ctx.caller.arn, via="api")
        except DomainLimit as exc:
            raise LimitExceeded(exc.detail) from None
    shape = {"AccessKeyId": key.access_key_id, "Status": key.status, "SecretAccessKey": key.secret_access_key,
             "CreateDate": Timestamp(key.created_at)}
    if name:
        shape = {"UserName": name, **shape}
    return {"AccessKey": shape}


@operation("iam", "ListAccessKeys")
async def list_access_keys(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, "iam:ListAccessKeys")
        principal_key, name = _owner(ctx, user)
        keys = await uow.access_keys.for_principal(principal_key)
    members = []
    for key in keys:
        item = {"AccessKeyId": key.id, "Status": key.status, "CreateDate": Timestamp(key.created_at)}
        members.append({"UserName": name, **item} if name else item)
    return {"AccessKeyMetadata": members, "IsTruncated": False}


@operation("iam", "UpdateAccessKey")
async def update_access_key(ctx: CallContext) -> Result:
    key_id = ctx.params.text("AccessKeyId", pattern=KEY_ID, low=16, high=128, required=True)
    status = ctx.params.required("Status")
    if status not in {"Active", "Inactive"}:
        raise ValidationError(f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [Active, Inactive]")
    await _change(ctx, "iam:UpdateAccessKey", key_id or "", status)
    return None


@operation("iam", "DeleteAccessKey")
async def delete_access_key(ctx: CallContext) -> Result:
    key_id = ctx.params.text("AccessKeyId", pattern=KEY_ID, low=16, high=128, required=True)
    await _change(ctx, "iam:DeleteAccessKey", key_id or "", None)
    return None


async def _change(ctx: CallContext, action: str, key_id: str, status: str | None) -> None:
    """Set a key's status, or delete it when `status` is None; the key must belong to the target user."""
    async with ctx.deps.store.unit() as uow:
        user = await target_user(ctx, uow, action)
        principal_key, _ = _owner(ctx, user)
        client = Client(ip=ctx.source_ip)
        try:
            if status is None:
                await access_keys.delete(ctx.deps, uow, key_id, principal_key, client=client,
                                         actor=ctx.caller.arn, via="api")
            else:
                await access_keys.set_status(ctx.deps, uow, key_id, principal_key, status, client=client,
                                             actor=ctx.caller.arn, via="api")
        except NotFound as exc:
            raise NoSuchEntity(exc.detail) from None
    _forget(ctx, key_id)


def _forget(ctx: CallContext, key_id: str) -> None:
    directory = ctx.extra.get("keys")
    if directory is not None:
        directory.forget(key_id)


@operation("iam", "GetAccessKeyLastUsed")
async def get_access_key_last_used(ctx: CallContext) -> Result:
    key_id = ctx.params.text("AccessKeyId", pattern=KEY_ID, low=16, high=128, required=True)
    async with ctx.deps.store.unit() as uow:
        key = await uow.access_keys.get(key_id or "")
        if key is None or key.account_id != ctx.caller.account_id:
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        name = None
        resource = ids.root_arn(key.account_id)
        if key.principal_key.startswith("user:"):
            user = await uow.users.get(key.principal_key.split(":", 1)[1])
            if user is not None:
                name = user.name
                resource = ids.user_arn(user.account_id, user.name, user.path)
        await authorize(ctx, uow, "iam:GetAccessKeyLastUsed", resource)
    used = ({"LastUsedDate": Timestamp(key.last_used_at), "ServiceName": key.last_used_service or "N/A",
             "Region": key.last_used_region or "N/A"} if key.last_used_at else {"ServiceName": "N/A", "Region": "N/A"})
    out: dict[str, object] = {"AccessKeyLastUsed": used}
    if name:
        out = {"UserName": name, **out}
    return out


