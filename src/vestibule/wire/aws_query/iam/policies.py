"""Managed policies (built-in and customer), attachments, and inline policies of users, groups and roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from ....services.iam import policies
from ....services.iam.policies import EntityKind, Scope
from ...members import Member, boolean, enum, text
from ..request import QueryRequest
from ..xml import Result, Timestamp
from .members import (
    EXISTING_USER_NAME,
    GROUP_NAME,
    POLICY_ARN,
    POLICY_DOCUMENT,
    POLICY_NAME,
    POLICY_PATH,
    POLICY_PATH_PREFIX,
    ROLE_NAME,
    USER_NAME,
    listing,
)
from .shapes import page, policy_shape
from .table import IAM

ARN = POLICY_ARN.required()
NAME = POLICY_NAME.required()
SCOPES: dict[str, Scope] = {"All": "All", "AWS": "AWS", "Local": "Local"}


@IAM.operation("CreatePolicy", action="iam:CreatePolicy", audit="CreatePolicy", inputs=(
    NAME, POLICY_PATH, POLICY_DOCUMENT.required(), text("Description", None, 1000)))
async def create_policy(q: QueryRequest) -> Result:
    created = await policies.create_policy(q.call, q.input.required("PolicyName"), q.input.text("Path") or "/",
                                           q.input.required("PolicyDocument"), q.input.text("Description") or "")
    return {"Policy": policy_shape(created)}


@IAM.operation("GetPolicy", action="iam:GetPolicy", inputs=(ARN,))
async def get_policy(q: QueryRequest) -> Result:
    return {"Policy": policy_shape(await policies.get_policy(q.call, q.input.required("PolicyArn")))}


@IAM.operation("GetPolicyVersion", action="iam:GetPolicyVersion", inputs=(
    ARN, text("VersionId", None, None, r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?").required()))
async def get_policy_version(q: QueryRequest) -> Result:
    policy = await policies.get_policy_version(q.call, q.input.required("PolicyArn"), q.input.required("VersionId"))
    return {"PolicyVersion": {"Document": quote(policy.document, safe=""), "VersionId": "v1",
                              "IsDefaultVersion": True, "CreateDate": Timestamp(policy.created_at)}}


@IAM.operation("ListPolicyVersions", action="iam:ListPolicyVersions", inputs=listing(ARN))
async def list_policy_versions(q: QueryRequest) -> Result:
    policy = await policies.get_policy(q.call, q.input.required("PolicyArn"))
    return {"Versions": [{"VersionId": "v1", "IsDefaultVersion": True, "CreateDate": Timestamp(policy.created_at)}],
            "IsTruncated": False}


@IAM.operation("ListPolicies", action="iam:ListPolicies", inputs=listing(
    enum("Scope", "All", "AWS", "Local"), boolean("OnlyAttached"), POLICY_PATH_PREFIX))
async def list_policies(q: QueryRequest) -> Result:
    found = await policies.list_policies(q.call, SCOPES[q.input.text("Scope") or "All"],
                                         bool(q.input.boolean("OnlyAttached")), q.input.text("PathPrefix") or "/")
    items, extra = page(q, found)
    return {"Policies": [policy_shape(p) for p in items], **extra}


@IAM.operation("DeletePolicy", action="iam:DeletePolicy", audit="DeletePolicy", inputs=(ARN,))
async def delete_policy(q: QueryRequest) -> Result:
    await policies.delete_policy(q.call, q.input.required("PolicyArn"))
    return None


# ---- attachments and inline policies, the same seven operations for users, groups and roles -----

Handler = Callable[[QueryRequest], Awaitable[Result]]


def _register(kind: EntityKind, noun: str, entity: Member, attaching: Member) -> None:
    """`attaching` names the entity in Attach/Detach/ListAttached, `entity` in the inline policy operations
    (for users the model gives them different length limits)."""
    member, attach_member = entity.required(), attaching.required()
    name = member.name

    async def attach(q: QueryRequest) -> Result:
        await policies.attach(q.call, kind, q.input.required(name), q.input.required("PolicyArn"))
        return None

    async def detach(q: QueryRequest) -> Result:
        await policies.detach(q.call, kind, q.input.required(name), q.input.required("PolicyArn"))
        return None

    async def list_attached(q: QueryRequest) -> Result:
        prefix = q.input.text("PathPrefix") or "/"
        attached = await policies.list_attached(q.call, kind, q.input.required(name))
        items, extra = page(q, [p for p in attached if p.path.startswith(prefix)])
        return {"AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": p.arn} for p in items], **extra}

    async def put_inline(q: QueryRequest) -> Result:
        await policies.put_inline(q.call, kind, q.input.required(name), q.input.required("PolicyName"),
                                  q.input.required("PolicyDocument"))
        return None

    async def get_inline(q: QueryRequest) -> Result:
        found = await policies.get_inline(q.call, kind, q.input.required(name), q.input.required("PolicyName"))
        return {name: found.entity_name, "PolicyName": found.name,
                "PolicyDocument": quote(found.document, safe="")}

    async def delete_inline(q: QueryRequest) -> Result:
        await policies.delete_inline(q.call, kind, q.input.required(name), q.input.required("PolicyName"))
        return None

    async def list_inline(q: QueryRequest) -> Result:
        items, extra = page(q, await policies.list_inline(q.call, kind, q.input.required(name)))
        return {"PolicyNames": list(items), **extra}

    rows: tuple[tuple[str, Handler, bool, tuple[Member, ...]], ...] = (
        (f"Attach{noun}Policy", attach, True, (attach_member, ARN)),
        (f"Detach{noun}Policy", detach, True, (attach_member, ARN)),
        (f"ListAttached{noun}Policies", list_attached, False, listing(attach_member, POLICY_PATH_PREFIX)),
        (f"Put{noun}Policy", put_inline, True, (member, NAME, POLICY_DOCUMENT.required())),
        (f"Get{noun}Policy", get_inline, False, (member, NAME)),
        (f"Delete{noun}Policy", delete_inline, True, (member, NAME)),
        (f"List{noun}Policies", list_inline, False, listing(member)),
    )
    for operation, handler, changes, inputs in rows:
        IAM.operation(operation, action=f"iam:{operation}", audit=operation if changes else None,
                      inputs=inputs)(handler)


_register("user", "User", EXISTING_USER_NAME, USER_NAME)
_register("group", "Group", GROUP_NAME, GROUP_NAME)
_register("role", "Role", ROLE_NAME, ROLE_NAME)
