"""IAM roles and their trust policies."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import arns
from ...core import identifiers as ids
from ...core.pagination import Page, PageRequest
from ...core.policy_conditions import glob_match
from ...errors import AlreadyExists, InUse, InvalidPolicy
from ...store.models import IamRole
from ...store.repositories import Conflict
from ..api_call import ApiCall
from . import quotas
from . import service_linked_roles as linked
from .common import TagPairs, markers, named_role, put_tags, tag_key, tags_of
from .documents import checked_document
from .policies import boundary_key, require_boundary

# What a trust policy may allow or deny: the STS actions that start or shape a role session.
TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession",
                 "sts:SetSourceIdentity", "sts:SetContext")
_TRUST_ACTIONS_LOWER = frozenset(action.lower() for action in TRUST_ACTIONS)


@dataclass(frozen=True)
class NewRole:
    name: str
    path: str
    trust_policy: str
    description: str | None  # None: not given (an empty one is kept, as AWS keeps it)
    max_session_duration: int
    tags: TagPairs
    permissions_boundary: str | None = None  # the ARN of the managed policy that bounds the role's permissions


def _exists(name: str) -> AlreadyExists:
    return AlreadyExists("role", f"Role with name {name} already exists.")


def _trust_action(action: str) -> bool:
    """An STS action a trust policy may name, or a wildcard of them (`*`, `sts:*`, `sts:Assume*`)."""
    if action.lower() in _TRUST_ACTIONS_LOWER:
        return True
    wildcard = "*" in action or "?" in action
    return wildcard and (action == "*" or action.lower().startswith("sts:")) and any(
        glob_match(action, known, ignore_case=True) for known in TRUST_ACTIONS)


def _trust(document: str) -> str:
    """A trust policy as CreateRole and UpdateAssumeRolePolicy accept it: the trust grammar (a Principal, no
    Resource), actions that are STS's, and the size quota."""
    policy = checked_document(document, kind="trust")
    for statement in policy.statements:
        if not all(_trust_action(action) for action in statement.actions):
            raise InvalidPolicy("Trust Policy statement actions can only be sts:AssumeRole, "
                                "sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity, sts:TagSession, "
                                "sts:SetSourceIdentity and sts:SetContext")
    quotas.check_trust_size(document)
    return document


async def create_role(call: ApiCall, new: NewRole) -> IamRole:
    _trust(new.trust_policy)
    linked.refuse_reserved_path(new.path)
    linked.refuse_reserved_name(new.name)
    async with call.unit() as uow:
        await call.authorize(uow, arns.role_arn(call.account_id, new.name, new.path),
                             context=boundary_key(new.permissions_boundary))
        if new.permissions_boundary is not None:
            await require_boundary(uow, call.account_id, new.permissions_boundary)
        if await uow.roles.by_name(call.account_id, new.name) is not None:
            raise _exists(new.name)
        role = IamRole(id=ids.new_iam_id("AROA"), account_id=call.account_id, name=new.name,
                       name_lower=new.name.lower(), path=new.path, description=new.description,
                       trust_policy=new.trust_policy, max_session_duration=new.max_session_duration,
                       created_at=call.now(), permissions_boundary=new.permissions_boundary)
        try:
            await uow.roles.add(role)
        except Conflict:
            raise _exists(new.name) from None
        await put_tags(uow, call.account_id, "role", role.id, new.tags)
        await call.record(uow, role=new.name, permissions_boundary=new.permissions_boundary)
        return role


async def get_role(call: ApiCall, name: str) -> tuple[IamRole, TagPairs]:
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        return role, await tags_of(uow, "role", role.id)


async def list_roles(call: ApiCall, path_prefix: str, request: PageRequest) -> Page[IamRole]:
    codec = markers(call, "ListRoles", path_prefix)
    after = codec.after(request)
    async with call.unit() as uow:
        await call.authorize(uow, arns.all_of_kind(call.account_id, "role", path_prefix))
        rows = await uow.roles.page(call.account_id, path_prefix, after, request.limit)
    return codec.page(rows, request, role_key)


def role_key(role: IamRole) -> tuple[str, str]:
    """The order roles are listed in: by name without regard to case (unique in an account), then ID."""
    return role.name_lower, role.id


async def update_role(call: ApiCall, name: str, description: str | None, max_duration: int | None) -> IamRole:
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        if max_duration is not None:  # a service-linked role's description may change, nothing else
            linked.refuse_if_service_linked(role)
        linked.refuse_if_reserved(role)
        if description is not None:
            role.description = description
        if max_duration is not None:
            role.max_session_duration = max_duration
        await call.record(uow, role=role.name, max_session_duration=max_duration)
        return role


async def update_trust_policy(call: ApiCall, name: str, document: str) -> None:
    _trust(document)
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        linked.refuse_if_service_linked(role)
        role.trust_policy = document
        await call.record(uow, role=role.name)


async def put_boundary(call: ApiCall, name: str, boundary: str) -> None:
    """PutRolePermissionsBoundary: sets or replaces the role's permissions boundary; its sessions are bounded
    from their next request."""
    async with call.unit() as uow:
        role = await named_role(call, uow, name, context=boundary_key(boundary))
        linked.refuse_if_service_linked(role)
        await require_boundary(uow, call.account_id, boundary)
        previous, role.permissions_boundary = role.permissions_boundary, boundary
        await call.record(uow, role=role.name, permissions_boundary=boundary, previous=previous)


async def delete_boundary(call: ApiCall, name: str) -> None:
    """DeleteRolePermissionsBoundary: the role has no boundary afterwards (also when it had none)."""
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        linked.refuse_if_service_linked(role)
        previous, role.permissions_boundary = role.permissions_boundary, None
        await call.record(uow, role=role.name, previous=previous)


async def delete_role(call: ApiCall, name: str) -> None:
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        linked.refuse_if_service_linked(role)
        if await uow.instance_profiles.holding_page(role.id, None, 0):  # one row tells
            raise InUse("Cannot delete entity, must remove roles from instance profile first.")
        if await uow.policies.attached_to("role", role.id) or await uow.policies.inline_of("role", role.id):
            raise InUse("Cannot delete entity, must detach all policies first.")
        await uow.tags.remove_all("role", role.id)
        await uow.roles.delete(role)
        await call.record(uow, role=role.name)


async def tag_role(call: ApiCall, name: str, tags: TagPairs) -> None:
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        linked.refuse_if_reserved(role)
        await put_tags(uow, call.account_id, "role", role.id, tags)
        await call.record(uow, role=role.name, keys=",".join(k for k, _ in tags))


async def untag_role(call: ApiCall, name: str, keys: list[str]) -> None:
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        linked.refuse_if_reserved(role)
        await uow.tags.remove("role", role.id, keys)
        await call.record(uow, role=role.name, keys=",".join(keys))


async def list_role_tags(call: ApiCall, name: str, request: PageRequest) -> Page[tuple[str, str]]:
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        tags = await tags_of(uow, "role", role.id)
    return markers(call, "ListRoleTags", role.id).page_in_memory(tags, request, tag_key)
