"""Managed policies (built-in and customer), attachments, and inline policies of users, groups and roles."""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import quote

from ...core import identifiers as ids
from ...services import authorization
from ...store.models import ManagedPolicy
from ...store.repositories import Conflict, UnitOfWork
from ..errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from ..registry import CallContext, Result, operation
from ..xml import Timestamp
from .common import PATH, authorize, paginate, parse_document, require_user, xml_safe
from .groups import require_group
from .roles import require_role

POLICY_NAME = r"[\w+=,.@-]+"
POLICY_ARN = r"arn:aws:iam::(aws|[0-9]{12}):policy/[\u0021-\u007F]+"
ATTACH_LIMIT = 10
BUILTIN_CREATED = 1_420_070_400.0  # 2015-01-01, the creation date reported for built-in policies
INLINE_SIZE = {"user": 2048, "group": 5120, "role": 10240}


def policy_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def _check_size(document: str, limit: int) -> None:
    if len("".join(document.split())) > limit:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {limit}")


def _shape(*, name: str, policy_id: str, arn: str, path: str, description: str, created: float, updated: float,
           attachments: int) -> dict[str, Any]:
    shape: dict[str, Any] = {"PolicyName": name, "PolicyId": policy_id, "Arn": arn, "Path": path,
                             "DefaultVersionId": "v1", "AttachmentCount": attachments,
                             "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
                             "CreateDate": Timestamp(created), "UpdateDate": Timestamp(updated)}
    if description:
        shape["Description"] = description
    return shape


async def _find(uow: UnitOfWork, ctx: CallContext, arn: str) -> tuple[dict[str, Any], str]:
    """The policy's shape and its document, for a built-in or this account's policy."""
    builtin = authorization.BUILTIN_POLICIES.get(arn)
    if builtin is not None:
        count = await uow.policies.attachment_count(arn, ctx.caller.account_id)
        return _shape(name=builtin.name, policy_id=builtin.policy_id, arn=arn, path=builtin.path,
                      description=builtin.description, created=BUILTIN_CREATED, updated=BUILTIN_CREATED,
                      attachments=count), builtin.document
    row = await uow.policies.get(arn)
    if row is None or row.account_id != ctx.caller.account_id:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    count = await uow.policies.attachment_count(arn, ctx.caller.account_id)
    return _shape(name=row.name, policy_id=row.id, arn=row.arn, path=row.path, description=row.description,
                  created=row.created_at, updated=row.updated_at, attachments=count), row.document


@operation("iam", "CreatePolicy")
async def create_policy(ctx: CallContext) -> Result:
    p = ctx.params
    name = p.text("PolicyName", pattern=POLICY_NAME, low=1, high=128, required=True) or ""
    path = p.text("Path", pattern=PATH, low=1, high=512, default="/") or "/"
    document = p.text("PolicyDocument", low=1, high=131072, required=True) or ""
    description = xml_safe(p.text("Description", low=0, high=1000, default="") or "", "description") or ""
    parse_document(document)
    _check_size(document, 6144)
    arn = policy_arn(ctx.caller.account_id, name, path)
    now = ctx.deps.clock()
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:CreatePolicy", arn)
        row = ManagedPolicy(arn=arn, id=ids.new_iam_id("ANPA"), account_id=ctx.caller.account_id, name=name,
                            path=path, description=description, document=document, default_version="v1",
                            created_at=now, updated_at=now)
        try:
            await uow.policies.add(row)
        except Conflict:
            raise EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.") from None
    return {"Policy": _shape(name=name, policy_id=row.id, arn=arn, path=path, description=description, created=now,
                             updated=now, attachments=0)}


@operation("iam", "GetPolicy")
async def get_policy(ctx: CallContext) -> Result:
    arn = ctx.params.text("PolicyArn", low=20, high=2048, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:GetPolicy", arn)
        shape, _ = await _find(uow, ctx, arn)
    return {"Policy": shape}


@operation("iam", "GetPolicyVersion")
async def get_policy_version(ctx: CallContext) -> Result:
    arn = ctx.params.text("PolicyArn", low=20, high=2048, required=True) or ""
    version = ctx.params.text("VersionId", pattern=r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?", low=1, high=64, required=True)
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:GetPolicyVersion", arn)
        shape, document = await _find(uow, ctx, arn)
    if version != "v1":
        raise NoSuchEntity(f"Policy {arn} version {version} does not exist or is not attachable.")
    return {"PolicyVersion": {"Document": quote(document, safe=""), "VersionId": "v1", "IsDefaultVersion": True,
                              "CreateDate": shape["CreateDate"]}}


@operation("iam", "ListPolicyVersions")
async def list_policy_versions(ctx: CallContext) -> Result:
    arn = ctx.params.text("PolicyArn", low=20, high=2048, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListPolicyVersions", arn)
        shape, _ = await _find(uow, ctx, arn)
    return {"Versions": [{"VersionId": "v1", "IsDefaultVersion": True, "CreateDate": shape["CreateDate"]}],
            "IsTruncated": False}


@operation("iam", "ListPolicies")
async def list_policies(ctx: CallContext) -> Result:
    scope = ctx.params.get("Scope", "All")
    only_attached = bool(ctx.params.boolean("OnlyAttached", False))
    prefix = ctx.params.text("PathPrefix", low=1, high=512, default="/") or "/"
    if scope not in {"All", "AWS", "Local"}:
        raise InvalidInput("Scope must be All, AWS or Local.")
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:ListPolicies", "*")
        shapes: list[dict[str, Any]] = []
        if scope in {"All", "AWS"}:
            for builtin in authorization.BUILTIN_POLICIES.values():
                if builtin.path.startswith(prefix):
                    shapes.append((await _find(uow, ctx, builtin.arn))[0])
        if scope in {"All", "Local"}:
            for row in await uow.policies.list(ctx.caller.account_id, prefix):
                shapes.append((await _find(uow, ctx, row.arn))[0])
    if only_attached:
        shapes = [s for s in shapes if s["AttachmentCount"] > 0]
    page, extra = paginate(ctx, shapes)
    return {"Policies": page, **extra}


@operation("iam", "DeletePolicy")
async def delete_policy(ctx: CallContext) -> Result:
    arn = ctx.params.text("PolicyArn", low=20, high=2048, required=True) or ""
    async with ctx.deps.store.unit() as uow:
        await authorize(ctx, uow, "iam:DeletePolicy", arn)
        row = await uow.policies.get(arn)
        if row is None or row.account_id != ctx.caller.account_id:
            raise NoSuchEntity(f"Policy {arn} was not found.")
        if await uow.policies.attachment_count(arn, ctx.caller.account_id):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        await uow.policies.delete(row)
    return None


# ---- attachments and inline policies, the same for users, groups and roles ----------------------

Target = Callable[[CallContext, UnitOfWork, str], Awaitable[tuple[str, str]]]


async def _user_target(ctx: CallContext, uow: UnitOfWork, action: str) -> tuple[str, str]:
    name = ctx.params.text("UserName", pattern=r"[\w+=,.@-]+", low=1, high=128, required=True) or ""
    user = await uow.users.by_name(ctx.caller.account_id, name)
    await authorize(ctx, uow, action, ids.user_arn(ctx.caller.account_id, name, user.path if user else "/"))
    user = await require_user(uow, ctx.caller.account_id, name)
    return user.id, user.name


async def _group_target(ctx: CallContext, uow: UnitOfWork, action: str) -> tuple[str, str]:
    group = await require_group(ctx, uow, action)
    return group.id, group.name


async def _role_target(ctx: CallContext, uow: UnitOfWork, action: str) -> tuple[str, str]:
    role = await require_role(ctx, uow, action)
    return role.id, role.name


_TARGETS: dict[str, tuple[str, Target]] = {
    "user": ("User", _user_target),
    "group": ("Group", _group_target),
    "role": ("Role", _role_target),
}


def _register(kind: str) -> None:
    noun, resolve = _TARGETS[kind]

    async def attach(ctx: CallContext) -> Result:
        arn = ctx.params.text("PolicyArn", low=20, high=2048, required=True) or ""
        async with ctx.deps.store.unit() as uow:
            target_id, _ = await resolve(ctx, uow, f"iam:Attach{noun}Policy")
            await _find(uow, ctx, arn)
            attached = await uow.policies.attached_to(kind, target_id)
            if arn not in attached and len(attached) >= ATTACH_LIMIT:
                raise LimitExceeded(f"Cannot exceed quota for PoliciesPerUser: {ATTACH_LIMIT}")
            await uow.policies.attach(ctx.caller.account_id, arn, kind, target_id)
        return None

    async def detach(ctx: CallContext) -> Result:
        arn = ctx.params.text("PolicyArn", low=20, high=2048, required=True) or ""
        async with ctx.deps.store.unit() as uow:
            target_id, _ = await resolve(ctx, uow, f"iam:Detach{noun}Policy")
            if not await uow.policies.detach(arn, kind, target_id):
                raise NoSuchEntity(f"Policy {arn} was not found.")
        return None

    async def list_attached(ctx: CallContext) -> Result:
        async with ctx.deps.store.unit() as uow:
            target_id, _ = await resolve(ctx, uow, f"iam:ListAttached{noun}Policies")
            arns = list(await uow.policies.attached_to(kind, target_id))
            items = []
            for arn in arns:
                try:
                    items.append({"PolicyName": (await _find(uow, ctx, arn))[0]["PolicyName"], "PolicyArn": arn})
                except NoSuchEntity:
                    continue
        page, extra = paginate(ctx, items)
        return {"AttachedPolicies": page, **extra}

    async def put_inline(ctx: CallContext) -> Result:
        name = ctx.params.text("PolicyName", pattern=POLICY_NAME, low=1, high=128, required=True) or ""
        document = ctx.params.text("PolicyDocument", low=1, high=131072, required=True) or ""
        parse_document(document)
        _check_size(document, INLINE_SIZE[kind])
        async with ctx.deps.store.unit() as uow:
            target_id, _ = await resolve(ctx, uow, f"iam:Put{noun}Policy")
            await uow.policies.put_inline(ctx.caller.account_id, kind, target_id, name, document)
        return None

    async def get_inline(ctx: CallContext) -> Result:
        name = ctx.params.text("PolicyName", pattern=POLICY_NAME, low=1, high=128, required=True) or ""
        async with ctx.deps.store.unit() as uow:
            target_id, target_name = await resolve(ctx, uow, f"iam:Get{noun}Policy")
            row = await uow.policies.get_inline(kind, target_id, name)
        if row is None:
            raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")
        return {f"{noun}Name": target_name, "PolicyName": name, "PolicyDocument": quote(row.document, safe="")}

    async def delete_inline(ctx: CallContext) -> Result:
        name = ctx.params.text("PolicyName", pattern=POLICY_NAME, low=1, high=128, required=True) or ""
        async with ctx.deps.store.unit() as uow:
            target_id, _ = await resolve(ctx, uow, f"iam:Delete{noun}Policy")
            row = await uow.policies.get_inline(kind, target_id, name)
            if row is None:
                raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")
            await uow.policies.delete_inline(row)
        return None

    async def list_inline(ctx: CallContext) -> Result:
        async with ctx.deps.store.unit() as uow:
            target_id, _ = await resolve(ctx, uow, f"iam:List{noun}Policies")
            names = [row.name for row in await uow.policies.inline_of(kind, target_id)]
        page, extra = paginate(ctx, names)
        return {"PolicyNames": page, **extra}

    operation("iam", f"Attach{noun}Policy")(attach)
    operation("iam", f"Detach{noun}Policy")(detach)
    operation("iam", f"ListAttached{noun}Policies")(list_attached)
    operation("iam", f"Put{noun}Policy")(put_inline)
    operation("iam", f"Get{noun}Policy")(get_inline)
    operation("iam", f"Delete{noun}Policy")(delete_inline)
    operation("iam", f"List{noun}Policies")(list_inline)


for _kind in _TARGETS:
    _register(_kind)

