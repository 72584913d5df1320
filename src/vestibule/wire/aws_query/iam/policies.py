"""Managed policies (built-in and customer), attachments, and inline policies of users, groups and roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote

from ....services.iam import policies, policy_versions
from ....services.iam.policies import EntityKind, PolicyEntity, Scope, Usage
from ....services.iam.policy_versions import PolicyVersionInfo
from ...members import Member, boolean, enum, text
from ..request import QueryRequest
from ..xml import Result, Timestamp, XmlValue
from .members import (
    EXISTING_USER_NAME,
    GROUP_NAME,
    PATH,
    POLICY_ARN,
    POLICY_DOCUMENT,
    POLICY_NAME,
    POLICY_PATH,
    POLICY_PATH_PREFIX,
    ROLE_NAME,
    TAG_KEYS,
    TAGS,
    USER_NAME,
    listing,
)
from .shapes import Shape, page_request, page_shape, policy_shape, tags_of, tags_shape
from .table import IAM

ARN = POLICY_ARN.required()
NAME = POLICY_NAME.required()
VERSION_ID = text("VersionId", None, None, r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?").required()
SCOPES: dict[str, Scope] = {"All": "All", "AWS": "AWS", "Local": "Local"}
USAGES: dict[str, Usage] = {"PermissionsPolicy": "PermissionsPolicy", "PermissionsBoundary": "PermissionsBoundary"}
ENTITY_FILTERS: dict[str, frozenset[EntityKind]] = {
    "User": frozenset({"user"}), "Role": frozenset({"role"}), "Group": frozenset({"group"}),
    "LocalManagedPolicy": frozenset(), "AWSManagedPolicy": frozenset()}
ALL_ENTITIES: frozenset[EntityKind] = frozenset({"user", "group", "role"})


@IAM.operation("CreatePolicy", action="iam:CreatePolicy", audit="CreatePolicy", inputs=(
    NAME, POLICY_PATH, POLICY_DOCUMENT.required(), text("Description", None, 1000), TAGS))
async def create_policy(q: QueryRequest) -> Result:
    created = await policies.create_policy(q.call, q.input.required("PolicyName"), q.input.text("Path") or "/",
                                           q.input.required("PolicyDocument"), q.input.text("Description") or "",
                                           tags_of(q))
    return {"Policy": policy_shape(created)}


@IAM.operation("GetPolicy", action="iam:GetPolicy", inputs=(ARN,))
async def get_policy(q: QueryRequest) -> Result:
    return {"Policy": policy_shape(await policies.get_policy(q.call, q.input.required("PolicyArn")))}


def _version_shape(version: PolicyVersionInfo, *, document: bool) -> Shape:
    shape: Shape = {"VersionId": version.version_id, "IsDefaultVersion": version.is_default,
                    "CreateDate": Timestamp(version.created_at)}
    if document:
        shape["Document"] = quote(version.document, safe="")
    return shape


@IAM.operation("CreatePolicyVersion", action="iam:CreatePolicyVersion", audit="CreatePolicyVersion", inputs=(
    ARN, POLICY_DOCUMENT.required(), boolean("SetAsDefault")))
async def create_policy_version(q: QueryRequest) -> Result:
    created = await policy_versions.create_version(q.call, q.input.required("PolicyArn"),
                                                   q.input.required("PolicyDocument"),
                                                   bool(q.input.boolean("SetAsDefault")))
    return {"PolicyVersion": _version_shape(created, document=False)}


@IAM.operation("SetDefaultPolicyVersion", action="iam:SetDefaultPolicyVersion", audit="SetDefaultPolicyVersion",
               inputs=(ARN, VERSION_ID))
async def set_default_policy_version(q: QueryRequest) -> Result:
    await policy_versions.set_default(q.call, q.input.required("PolicyArn"), q.input.required("VersionId"))
    return None


@IAM.operation("DeletePolicyVersion", action="iam:DeletePolicyVersion", audit="DeletePolicyVersion",
               inputs=(ARN, VERSION_ID))
async def delete_policy_version(q: QueryRequest) -> Result:
    await policy_versions.delete_version(q.call, q.input.required("PolicyArn"), q.input.required("VersionId"))
    return None


@IAM.operation("GetPolicyVersion", action="iam:GetPolicyVersion", inputs=(ARN, VERSION_ID))
async def get_policy_version(q: QueryRequest) -> Result:
    found = await policy_versions.get_version(q.call, q.input.required("PolicyArn"), q.input.required("VersionId"))
    return {"PolicyVersion": _version_shape(found, document=True)}


@IAM.operation("ListPolicyVersions", action="iam:ListPolicyVersions", inputs=listing(ARN))
async def list_policy_versions(q: QueryRequest) -> Result:
    listed = await policy_versions.list_versions(q.call, q.input.required("PolicyArn"), page_request(q))
    return {"Versions": [_version_shape(v, document=False) for v in listed.items], **page_shape(listed)}


@IAM.operation("ListEntitiesForPolicy", action="iam:ListEntitiesForPolicy", inputs=listing(
    ARN, enum("EntityFilter", *ENTITY_FILTERS), PATH.named("PathPrefix"),
    enum("PolicyUsageFilter", "PermissionsPolicy", "PermissionsBoundary")))
async def list_entities_for_policy(q: QueryRequest) -> Result:
    entity_filter = q.input.text("EntityFilter")
    found = await policies.list_entities(
        q.call, q.input.required("PolicyArn"), ENTITY_FILTERS[entity_filter] if entity_filter else ALL_ENTITIES,
        q.input.text("PathPrefix") or "/", q.input.text("PolicyUsageFilter") == "PermissionsBoundary", page_request(q))
    items = found.items
    return {"PolicyGroups": _entities(items, "group", "Group"), "PolicyUsers": _entities(items, "user", "User"),
            "PolicyRoles": _entities(items, "role", "Role"), **page_shape(found)}


def _entities(items: Sequence[PolicyEntity], kind: EntityKind, noun: str) -> list[XmlValue]:
    return [{f"{noun}Name": e.name, f"{noun}Id": e.entity_id} for e in items if e.kind == kind]


@IAM.operation("TagPolicy", action="iam:TagPolicy", audit="TagPolicy", inputs=(ARN, TAGS.required()))
async def tag_policy(q: QueryRequest) -> Result:
    await policies.tag_policy(q.call, q.input.required("PolicyArn"), tags_of(q))
    return None


@IAM.operation("UntagPolicy", action="iam:UntagPolicy", audit="UntagPolicy", inputs=(ARN, TAG_KEYS.required()))
async def untag_policy(q: QueryRequest) -> Result:
    await policies.untag_policy(q.call, q.input.required("PolicyArn"), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListPolicyTags", action="iam:ListPolicyTags", inputs=listing(ARN))
async def list_policy_tags(q: QueryRequest) -> Result:
    listed = await policies.list_policy_tags(q.call, q.input.required("PolicyArn"), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}


@IAM.operation("ListPolicies", action="iam:ListPolicies", inputs=listing(
    enum("Scope", "All", "AWS", "Local"), boolean("OnlyAttached"), POLICY_PATH_PREFIX,
    enum("PolicyUsageFilter", "PermissionsPolicy", "PermissionsBoundary")))
async def list_policies(q: QueryRequest) -> Result:
    usage = USAGES[q.input.text("PolicyUsageFilter") or "PermissionsPolicy"]
    listed = await policies.list_policies(q.call, SCOPES[q.input.text("Scope") or "All"],
                                          bool(q.input.boolean("OnlyAttached")), q.input.text("PathPrefix") or "/",
                                          usage, page_request(q))
    return {"Policies": [policy_shape(p) for p in listed.items], **page_shape(listed)}


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
        listed = await policies.list_attached(q.call, kind, q.input.required(name), q.input.text("PathPrefix") or "/",
                                              page_request(q))
        return {"AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": p.arn} for p in listed.items],
                **page_shape(listed)}

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
        listed = await policies.list_inline(q.call, kind, q.input.required(name), page_request(q))
        return {"PolicyNames": list(listed.items), **page_shape(listed)}

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
