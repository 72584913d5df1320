"""IAM roles and their trust policies."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...core import identifiers as ids
from ...core import policy as engine
from ...store.models import IamRole
from ...store.repositories import Conflict, UnitOfWork
from ..errors import DeleteConflict, EntityAlreadyExists, NoSuchEntity
from ..registry import CallContext, Result, operation
from ..xml import Timestamp
from .common import PATH, authorize, paginate, parse_document, tags_from, xml_safe

ROLE_NAME = r"[\w+=,.@-]+"


def _check_trust_size(document: str) -> None:
    from ..errors import LimitExceeded

    if engine.policy_size(document) > engine.TRUST_POLICY_MAX_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {engine.TRUST_POLICY_MAX_SIZE}")


def role_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def role_shape(role: IamRole, tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": role.path, "RoleName": role.name, "RoleId": role.id,
        "Arn": role_arn(role.account_id, role.name, role.path), "CreateDate": Timestamp(role.created_at),
        "AssumeRolePolicyDocument": quote(role.trust_policy, safe=""),
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description:
        shape["Description"] = role.description
    if tags:
        shape["Tags"] = tags
    if role.last_used_at:
        shape["RoleLastUsed"] = {"LastUsedDate": Timestamp(role.last_used_at), "Region": "us-east-1"}
    return shape


async def require_role(ctx: CallContext, uow: UnitOfWork, action: str) -> IamRole:
    name = ctx.params.text("RoleName", pattern=ROLE_NAME, low=1, high=64, required=True) or ""
    role = await uow.roles.by_name(ctx.caller.account_id, name)
    await authorize(ctx, uow, action, role_arn(ctx.caller.account_id, name, role.path if role else "/"))
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


@operation("iam", "CreateRole")
async def create_role(ctx: CallContext) -> Result:
    p = ctx.params
    name = p.text("RoleName", pattern=ROLE_NAME, low=1, high=64, required=True) or ""
    path = p.text("Path", pattern=PATH, low=1, high=512, default="/") or "/"
    document = p.text("AssumeRolePolicyDocument", low=1, high=131072, required=True) or ""
    description = xml_safe(p.text("Description", low=0, high=1000, default="") or "", "description") or ""
    max_duration = p.integer("MaxSessionDuration", 3600, 3600, 43200) or 3600
    tags = tags_from(ctx)
    parse_document(document, kind="trust")
    _check_trust_size(document)
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:CreateRole", role_arn(ctx.caller.account_id, name, path))
        if await uow.roles.by_name(ctx.caller.account_id, name) is not None:
            raise EntityAlreadyExists(f"Role with name {name} already exists.")
        role = IamRole(id=ids.new_iam_id("AROA"), account_id=ctx.caller.account_id, name=name,
                       name_lower=name.lower(), path=path, description=description, trust_policy=document,
                       max_session_duration=max_duration, created_at=ctx.deps.clock())
        try:
            await uow.roles.add(role)
        except Conflict:
            raise EntityAlreadyExists(f"Role with name {name} already exists.") from None
        for key, value in tags:
            await uow.tags.put("role", role.id, key, value)
        return {"Role": role_shape(role, [{"Key": k, "Value": v} for k, v in tags])}


@operation("iam", "GetRole")
async def get_role(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        role = await require_role(ctx, uow, "iam:GetRole")
        tags = [{"Key": t.key, "Value": t.value} for t in await uow.tags.of("role", role.id)]
    return {"Role": role_shape(role, tags)}


@operation("iam", "ListRoles")
async def list_roles(ctx: CallContext) -> Result:
    prefix = ctx.params.text("PathPrefix", low=1, high=512, default="/") or "/"
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListRoles", f"arn:aws:iam::{ctx.caller.account_id}:role{prefix}*")
        roles = list(await uow.roles.list(ctx.caller.account_id, prefix))
    page, extra = paginate(ctx, roles)
    return {"Roles": [role_shape(r) for r in page], **extra}


@operation("iam", "UpdateRole")
async def update_role(ctx: CallContext) -> Result:
    description = xml_safe(ctx.params.text("Description", low=0, high=1000), "description")
    max_duration = ctx.params.integer("MaxSessionDuration", None, 3600, 43200)
    async with ctx.deps.store.unit() as uow:
        role = await require_role(ctx, uow, "iam:UpdateRole")
        if description is not None:
            role.description = description
        if max_duration is not None:
            role.max_session_duration = max_duration
    return {}  # the model has an (empty) UpdateRoleResult, which botocore's parser requires


@operation("iam", "UpdateRoleDescription")
async def update_role_description(ctx: CallContext) -> Result:
    description = xml_safe(ctx.params.text("Description", low=0, high=1000, required=True) or "", "description") or ""
    async with ctx.deps.store.unit() as uow:
        role = await require_role(ctx, uow, "iam:UpdateRoleDescription")
        role.description = description
        return {"Role": role_shape(role)}


@operation("iam", "UpdateAssumeRolePolicy")
async def update_assume_role_policy(ctx: CallContext) -> Result:
    document = ctx.params.text("PolicyDocument", low=1, high=131072, required=True) or ""
    parse_document(document, kind="trust")
    _check_trust_size(document)
    async with ctx.deps.store.unit() as uow:
        role = await require_role(ctx, uow, "iam:UpdateAssumeRolePolicy")
        role.trust_policy = document
    return None


@operation("iam", "DeleteRole")
async def delete_role(ctx: CallContext) -> Result:
    async with ctx.deps.store.unit() as uow:
        role = await require_role(ctx, uow, "iam:DeleteRole")
        if await uow.policies.attached_to("role", role.id) or await uow.policies.inline_of("role", role.id):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        await uow.tags.remove_all("role", role.id)
        await uow.roles.delete(role)
    return None
