"""Managed policies (built-in and customer), attachments, and inline policies of users, groups and roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ...core import arns
from ...core import identifiers as ids
from ...core.pagination import Key, Page, PageRequest
from ...errors import AlreadyExists, InUse, InvalidInput, LimitExceeded, NotFound
from ...store.models import ManagedPolicy, ManagedPolicyVersion
from ...store.repositories import Conflict, UnitOfWork
from .. import authorization
from ..api_call import ApiCall, Target
from . import quotas
from . import service_linked_roles as linked
from .common import TagPairs, markers, named_group, named_role, named_user, put_tags, tag_key, tags_of
from .documents import checked_document

BUILTIN_CREATED = 1_420_070_400.0  # 2015-01-01, the creation date reported for built-in policies
Scope = Literal["All", "AWS", "Local"]
Usage = Literal["PermissionsPolicy", "PermissionsBoundary"]
EntityKind = quotas.EntityKind
TAG_KIND = "policy"


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    policy_id: str
    arn: str
    path: str
    description: str
    created_at: float
    updated_at: float
    attachments: int
    document: str
    default_version: str = "v1"
    tags: TagPairs = field(default_factory=list)
    boundary_uses: int = 0  # users and roles of the account that have it as their permissions boundary


@dataclass(frozen=True)
class PolicyEntity:
    """A user, group or role a managed policy is attached to (ListEntitiesForPolicy)."""

    kind: EntityKind
    entity_id: str
    name: str
    path: str


@dataclass(frozen=True)
class InlinePolicy:
    entity_name: str
    name: str
    document: str


async def _find(uow: UnitOfWork, account_id: str, arn: str, *, with_tags: bool = False,
                boundary_uses: int | None = None) -> PolicyInfo:
    """A built-in policy or one of this account's (with its tags when asked); `boundary_uses` when the caller
    counted them already (ListPolicies counts all at once)."""
    builtin = authorization.BUILTIN_POLICIES.get(arn)
    if builtin is None and _POLICY_ARN.fullmatch(arn) is None:
        raise InvalidInput("policyArn", f"ARN {arn[:64]} is not valid.")  # as AWS answers a value that is no ARN
    row = None if builtin is not None else await uow.policies.get(arn)
    if builtin is None and (row is None or row.account_id != account_id):
        raise NotFound(f"Policy {arn} does not exist or is not attachable.")
    count = await uow.policies.attachment_count(arn, account_id)
    if boundary_uses is None:
        boundary_uses = await uow.policies.boundary_count(arn, account_id)
    if row is None:
        assert builtin is not None
        return PolicyInfo(builtin.name, builtin.policy_id, arn, builtin.path, builtin.description, BUILTIN_CREATED,
                          BUILTIN_CREATED, count, builtin.document, boundary_uses=boundary_uses)
    tags = await tags_of(uow, TAG_KIND, row.id) if with_tags else []
    return PolicyInfo(row.name, row.id, row.arn, row.path, row.description, row.created_at, row.updated_at, count,
                      row.document, row.default_version, tags, boundary_uses)


# ---- permissions boundaries ---------------------------------------------------------------------

_POLICY_ARN = re.compile(r"arn:aws:iam::(?:aws|[0-9]{12}):policy/.+", re.DOTALL)


async def require_boundary(uow: UnitOfWork, account_id: str, arn: str) -> None:
    """`arn` may be a permissions boundary in `account_id`: a built-in policy or one of the account's own (the
    error AWS gives otherwise). A customer policy's row is held until the unit ends, so a DeletePolicy running
    at the same time either finishes first (and this answers NoSuchEntity) or sees the boundary and refuses."""
    if _POLICY_ARN.fullmatch(arn) is None:
        raise InvalidInput("permissionsboundary", f"ARN {arn[:64]} is not valid.")
    if arn in authorization.BUILTIN_POLICIES:
        return
    row = await uow.policies.get(arn, lock=True) if arns.account_of(arn) == account_id else None
    if row is None or row.account_id != account_id:
        raise NotFound(f"Scope ARN: {arn} does not exist or is not attachable.")


def boundary_key(arn: str | None) -> dict[str, str]:
    """The request context of a call that sets the permissions boundary `arn` (iam:PermissionsBoundary)."""
    return {} if arn is None else {"iam:PermissionsBoundary": arn}


async def create_policy(call: ApiCall, name: str, path: str, document: str, description: str,
                        tags: TagPairs) -> PolicyInfo:
    checked_document(document)
    quotas.check_managed_size(document)
    arn = arns.policy_arn(call.account_id, name, path)
    now = call.now()
    async with call.unit() as uow:
        await call.authorize(uow, arn)
        row = ManagedPolicy(arn=arn, id=ids.new_iam_id("ANPA"), account_id=call.account_id, name=name, path=path,
                            description=description, document=document, default_version="v1", created_at=now,
                            updated_at=now)
        try:
            await uow.policies.add(row)
        except Conflict:
            raise AlreadyExists("policy", f"A policy called {name} already exists. "
                                "Duplicate names are not allowed.") from None
        await uow.policies.add_version(ManagedPolicyVersion(policy_arn=arn, version_id="v1", document=document,
                                                            created_at=now))
        await put_tags(uow, call.account_id, TAG_KIND, row.id, tags)
        await call.record(uow, policy=arn, tag_keys=",".join(k for k, _ in tags))
    return PolicyInfo(name, row.id, arn, path, description, now, now, 0, document, "v1", tags)


async def _target(uow: UnitOfWork, account_id: str, arn: str) -> Target | None:
    """The customer policy `arn` names, for aws:ResourceTag (built-in policies have no tags)."""
    row = None if arn in authorization.BUILTIN_POLICIES else await uow.policies.get(arn)
    return Target(TAG_KIND, row.id) if row is not None and row.account_id == account_id else None


async def get_policy(call: ApiCall, arn: str) -> PolicyInfo:
    async with call.unit() as uow:
        await call.authorize(uow, arn, target=await _target(uow, call.account_id, arn))
        return await _find(uow, call.account_id, arn, with_tags=True)


async def list_policies(call: ApiCall, scope: Scope, only_attached: bool, path_prefix: str,
                        usage: Usage, request: PageRequest) -> Page[PolicyInfo]:
    """Built-in policies first (in their table's order), then the account's by name, one page of them;
    `only_attached`: those attached to an entity, or with `usage` PermissionsBoundary, those that are some
    entity's permissions boundary. Counts are read for the page's policies, in one statement per kind."""
    codec = markers(call, "ListPolicies", scope, str(only_attached), path_prefix, usage)
    after = codec.after(request)
    boundaries = usage == "PermissionsBoundary"
    found: list[tuple[Key, PolicyInfo]] = []
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        details = uow.account_details
        if scope in {"All", "AWS"} and (after is None or after[0] == "aws"):
            start = int(after[1]) + 1 if after is not None else 0
            builtins = [(index, b) for index, b in enumerate(authorization.BUILTIN_POLICIES.values())
                        if index >= start and b.path.startswith(path_prefix)]
            arns_ = [b.arn for _, b in builtins]
            counts = await details.attachment_counts(call.account_id, arns_)
            uses = await details.boundary_counts(call.account_id, arns_)
            for index, b in builtins:
                info = PolicyInfo(b.name, b.policy_id, b.arn, b.path, b.description, BUILTIN_CREATED, BUILTIN_CREATED,
                                  counts.get(b.arn, 0), b.document, boundary_uses=uses.get(b.arn, 0))
                if not only_attached or (info.boundary_uses if boundaries else info.attachments) > 0:
                    found.append((("aws", str(index)), info))
        if scope in {"All", "Local"} and len(found) <= request.limit:
            local_after = after[1:] if after is not None and after[0] == "local" else None
            rows = await uow.policies.page(call.account_id, path_prefix, local_after, request.limit - len(found),
                                           attached=only_attached and not boundaries,
                                           boundary=only_attached and boundaries)
            arns_ = [row.arn for row in rows]
            counts = await details.attachment_counts(call.account_id, arns_)
            uses = await details.boundary_counts(call.account_id, arns_)
            found.extend((("local", row.name, row.id), PolicyInfo(
                row.name, row.id, row.arn, row.path, row.description, row.created_at, row.updated_at,
                counts.get(row.arn, 0), row.document, row.default_version, [], uses.get(row.arn, 0)))
                for row in rows)
    listed = codec.page(found, request, lambda entry: entry[0])
    return Page([info for _, info in listed.items], listed.next_marker)


async def delete_policy(call: ApiCall, arn: str) -> None:
    async with call.unit() as uow:
        await call.authorize(uow, arn, target=await _target(uow, call.account_id, arn))
        row = await uow.policies.get(arn, lock=True)
        if row is None or row.account_id != call.account_id:
            raise NotFound(f"Policy {arn} was not found.")
        if (await uow.policies.attachment_count(arn, call.account_id)
                or await uow.policies.boundary_count(arn, call.account_id)):
            raise InUse("Cannot delete a policy attached to entities.")
        if len(await uow.policies.versions(arn)) > 1:
            raise InUse("This policy has more than one version. Before you delete a policy, you must delete the "
                        "policy's versions.")
        await uow.tags.remove_all(TAG_KIND, row.id)
        await uow.policies.delete(row)
        await call.record(uow, policy=arn)


_ENTITY_ORDER: tuple[EntityKind, ...] = ("user", "group", "role")


async def list_entities(call: ApiCall, arn: str, kinds: frozenset[EntityKind], path_prefix: str,
                        boundaries: bool, request: PageRequest) -> Page[PolicyEntity]:
    """The users, groups and roles of `kinds` under `path_prefix` this policy is attached to as a permissions
    policy, or with `boundaries`, the users and roles that have it as their permissions boundary: users, then
    groups, then roles, each by name, one page of them."""
    codec = markers(call, "ListEntitiesForPolicy", arn, ",".join(sorted(kinds)), path_prefix, str(boundaries))
    after = codec.after(request)
    found: list[tuple[Key, PolicyEntity]] = []
    async with call.unit() as uow:
        await call.authorize(uow, arn)
        await _find(uow, call.account_id, arn)
        for position, kind in enumerate(_ENTITY_ORDER):
            phase = str(position)
            if (kind not in kinds or (boundaries and kind == "group") or len(found) > request.limit
                    or (after is not None and after[0] > phase)):
                continue
            kind_after = after[1:] if after is not None and after[0] == phase else None
            rows = await uow.policies.entities_page(arn, call.account_id, kind, path_prefix, kind_after,
                                                    request.limit - len(found), boundaries=boundaries)
            found.extend(((phase, lower, entity_id), PolicyEntity(kind, entity_id, name, path))
                         for entity_id, name, lower, path in rows)
    listed = codec.page(found, request, lambda entry: entry[0])
    return Page([entity for _, entity in listed.items], listed.next_marker)


# ---- tags of customer managed policies ----------------------------------------------------------

async def _own(call: ApiCall, uow: UnitOfWork, arn: str, *, lock: bool = False) -> ManagedPolicy:
    """This account's policy; `lock` when changing its tags, so concurrent tag changes count one another."""
    await call.authorize(uow, arn, target=await _target(uow, call.account_id, arn))
    row = await uow.policies.get(arn, lock=lock)
    if row is None or row.account_id != call.account_id:
        raise NotFound(f"The policy with ARN {arn} cannot be found.")
    return row


async def tag_policy(call: ApiCall, arn: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        row = await _own(call, uow, arn, lock=True)
        await put_tags(uow, call.account_id, TAG_KIND, row.id, tags)
        await call.record(uow, policy=arn, keys=",".join(k for k, _ in tags))


async def untag_policy(call: ApiCall, arn: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        row = await _own(call, uow, arn)
        await uow.tags.remove(TAG_KIND, row.id, keys)
        await call.record(uow, policy=arn, keys=",".join(keys))


async def list_policy_tags(call: ApiCall, arn: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        row = await _own(call, uow, arn)
        tags = await tags_of(uow, TAG_KIND, row.id)
    return markers(call, "ListPolicyTags", row.id).page_in_memory(tags, request, tag_key)


# ---- attachments and inline policies, the same for users, groups and roles ----------------------

async def _entity(call: ApiCall, uow: UnitOfWork, kind: EntityKind, name: str, *,
                  changing: bool = False) -> tuple[str, str]:
    """(id, name) of the user, group or role, after authorizing the call on it; `changing` refuses a
    service-linked role (its policies are the service's)."""
    if kind == "user":
        user = await named_user(call, uow, name)
        return user.id, user.name
    if kind == "group":
        group = await named_group(call, uow, name)
        return group.id, group.name
    role = await named_role(call, uow, name)
    if changing:
        linked.refuse_if_service_linked(role)
    return role.id, role.name


async def attach(call: ApiCall, kind: EntityKind, name: str, arn: str) -> None:
    async with call.unit() as uow:
        entity_id, stored = await _entity(call, uow, kind, name, changing=True)
        # Attachments are counted one after another (the account's row), and a customer policy's row is held
        # as DeletePolicy holds it: a concurrent delete either ends first (NoSuchEntity here) or sees this
        # attachment (DeleteConflict there), never leaving an attachment to a deleted policy.
        await uow.credential_owners.lock_account(call.account_id)
        if arn not in authorization.BUILTIN_POLICIES:
            await uow.policies.get(arn, lock=True)
        await _find(uow, call.account_id, arn)
        attached = await uow.policies.attached_to(kind, entity_id)
        if arn not in attached and len(attached) >= quotas.ATTACHED_POLICIES:
            raise LimitExceeded(f"Cannot exceed quota for PoliciesPerUser: {quotas.ATTACHED_POLICIES}")
        await uow.policies.attach(call.account_id, arn, kind, entity_id)
        await call.record(uow, entity_kind=kind, entity=stored, policy=arn)


async def detach(call: ApiCall, kind: EntityKind, name: str, arn: str) -> None:
    async with call.unit() as uow:
        entity_id, stored = await _entity(call, uow, kind, name, changing=True)
        if not await uow.policies.detach(arn, kind, entity_id):
            raise NotFound(f"Policy {arn} was not found.")
        await call.record(uow, entity_kind=kind, entity=stored, policy=arn)


async def list_attached(call: ApiCall, kind: EntityKind, name: str, path_prefix: str,
                        request: PageRequest) -> Page[PolicyInfo]:
    """A page of the policies attached to the entity (at most the attachment quota: cut in memory) under
    `path_prefix`, by (name, policy ID): a short key, where the ARN could pass the Marker's 320 characters."""
    async with call.unit() as uow:
        entity_id, _ = await _entity(call, uow, kind, name)
        codec = markers(call, f"ListAttached{kind}Policies", entity_id, path_prefix)
        codec.after(request)  # a bad marker fails before the policies are read
        found = []
        for arn in await uow.policies.attached_to(kind, entity_id):
            try:
                policy = await _find(uow, call.account_id, arn)
            except NotFound:
                continue
            if policy.path.startswith(path_prefix):
                found.append(policy)
    return codec.page_in_memory(found, request, lambda p: (p.name, p.policy_id))


async def put_inline(call: ApiCall, kind: EntityKind, name: str, policy_name: str, document: str) -> None:
    checked_document(document)
    quotas.check_inline_size(kind, [document])
    async with call.unit() as uow:
        entity_id, stored = await _entity(call, uow, kind, name, changing=True)
        others = [row.document for row in await uow.policies.inline_of(kind, entity_id) if row.name != policy_name]
        quotas.check_inline_size(kind, [*others, document])
        await uow.policies.put_inline(call.account_id, kind, entity_id, policy_name, document)
        await call.record(uow, entity_kind=kind, entity=stored, policy_name=policy_name)


async def get_inline(call: ApiCall, kind: EntityKind, name: str, policy_name: str) -> InlinePolicy:
    async with call.unit() as uow:
        entity_id, entity_name = await _entity(call, uow, kind, name)
        row = await uow.policies.get_inline(kind, entity_id, policy_name)
    if row is None:
        raise NotFound(f"The {kind} policy with name {policy_name} cannot be found.")
    return InlinePolicy(entity_name, policy_name, row.document)


async def delete_inline(call: ApiCall, kind: EntityKind, name: str, policy_name: str) -> None:
    async with call.unit() as uow:
        entity_id, stored = await _entity(call, uow, kind, name, changing=True)
        row = await uow.policies.get_inline(kind, entity_id, policy_name)
        if row is None:
            raise NotFound(f"The {kind} policy with name {policy_name} cannot be found.")
        await uow.policies.delete_inline(row)
        await call.record(uow, entity_kind=kind, entity=stored, policy_name=policy_name)


async def list_inline(call: ApiCall, kind: EntityKind, name: str, request: PageRequest) -> Page[str]:
    """A page of the entity's inline policy names (bounded by the inline size quota: cut in memory), by name."""
    async with call.unit() as uow:
        entity_id, _ = await _entity(call, uow, kind, name)
        names = [row.name for row in await uow.policies.inline_of(kind, entity_id)]
    return markers(call, f"List{kind}Policies", entity_id).page_in_memory(names, request, lambda n: (n,))
