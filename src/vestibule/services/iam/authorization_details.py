"""GetAccountAuthorizationDetails: the account's users, groups, roles and managed policies with everything that
decides their permissions, in four sections paged together (MaxItems counts entries of all four).

Each section is read in name order after a key, one page at a time, and what belongs to a page (inline and
attached policies, groups, tags, instance profiles, policy versions) in one statement per kind, so a page costs
the same whatever the size of the account. The marker names the section and the last name handed out, signed
for the account and the Filter (`MarkerCodec`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ...core.pagination import MarkerCodec
from ...errors import InvalidMarker
from ...store.models import (
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    InstanceProfile,
    ManagedPolicyVersion,
    PolicyAttachment,
)
from ...store.repositories import UnitOfWork
from .. import authorization
from ..api_call import ApiCall
from .common import TagPairs, markers
from .instance_profiles import TAG_KIND as PROFILE_TAGS
from .policies import BUILTIN_CREATED

Section = Literal["User", "Group", "Role", "AWSManagedPolicy", "LocalManagedPolicy"]
SECTIONS: tuple[Section, ...] = ("User", "Group", "Role", "AWSManagedPolicy", "LocalManagedPolicy")
_CODES: dict[Section, str] = {"User": "U", "Group": "G", "Role": "R", "AWSManagedPolicy": "A",
                              "LocalManagedPolicy": "L"}
_BY_CODE: dict[str, Section] = {code: section for section, code in _CODES.items()}


@dataclass(frozen=True)
class Inline:
    name: str
    document: str


@dataclass(frozen=True)
class Attached:
    name: str
    arn: str


def _attached(arn: str) -> Attached:
    return Attached(arn.rsplit("/", 1)[1], arn)


@dataclass(frozen=True)
class UserDetail:
    user: IamUser
    inline: list[Inline]
    groups: list[str]
    attached: list[Attached]
    tags: TagPairs


@dataclass(frozen=True)
class GroupDetail:
    group: IamGroup
    inline: list[Inline]
    attached: list[Attached]


@dataclass(frozen=True)
class ProfileDetail:
    profile: InstanceProfile
    tags: TagPairs


@dataclass(frozen=True)
class RoleDetail:
    role: IamRole
    inline: list[Inline]
    attached: list[Attached]
    profiles: list[ProfileDetail]
    tags: TagPairs


@dataclass(frozen=True)
class Version:
    version_id: str
    document: str
    is_default: bool
    created_at: float


@dataclass(frozen=True)
class PolicyDetail:
    name: str
    policy_id: str
    arn: str
    path: str
    default_version: str
    attachments: int
    boundary_uses: int
    description: str
    created_at: float
    updated_at: float
    versions: list[Version]


@dataclass
class Details:
    users: list[UserDetail] = field(default_factory=list)
    groups: list[GroupDetail] = field(default_factory=list)
    roles: list[RoleDetail] = field(default_factory=list)
    policies: list[PolicyDetail] = field(default_factory=list)
    marker: str | None = None  # set when there is more


def encode_marker(codec: MarkerCodec, section: Section, name: str) -> str:
    return codec.encode((_CODES[section], name))


def decode_marker(codec: MarkerCodec, marker: str) -> tuple[Section, str]:
    key = codec.decode(marker)
    if len(key) != 2 or key[0] not in _BY_CODE:
        raise InvalidMarker(marker)  # signed by us, so never
    return _BY_CODE[key[0]], key[1]


def _inline(rows: Sequence[InlinePolicy], target: str) -> list[Inline]:
    return [Inline(r.name, r.document) for r in rows if r.target_id == target]


def _by_target(attachments: Sequence[PolicyAttachment]) -> dict[str, list[Attached]]:
    found: dict[str, list[Attached]] = {}
    for row in attachments:
        found.setdefault(row.target_id, []).append(_attached(row.policy_arn))
    return found


async def _tags(uow: UnitOfWork, kind: str, ids: Sequence[str]) -> dict[str, TagPairs]:
    found: dict[str, TagPairs] = {}
    for tag in await uow.account_details.tags_of(kind, ids):
        found.setdefault(tag.target_id, []).append((tag.key, tag.value))
    return found


async def _users(uow: UnitOfWork, users: Sequence[IamUser]) -> list[UserDetail]:
    ids = [u.id for u in users]
    inline = await uow.account_details.inline_of("user", ids)
    attached = _by_target(await uow.account_details.attached_of("user", ids))
    groups: dict[str, list[str]] = {}
    for user_id, group in await uow.account_details.groups_of_users(ids):
        groups.setdefault(user_id, []).append(group.name)
    tags = await _tags(uow, "user", ids)
    return [UserDetail(u, _inline(inline, u.id), groups.get(u.id, []), attached.get(u.id, []), tags.get(u.id, []))
            for u in users]


async def _groups(uow: UnitOfWork, groups: Sequence[IamGroup]) -> list[GroupDetail]:
    ids = [g.id for g in groups]
    inline = await uow.account_details.inline_of("group", ids)
    attached = _by_target(await uow.account_details.attached_of("group", ids))
    return [GroupDetail(g, _inline(inline, g.id), attached.get(g.id, [])) for g in groups]


async def _roles(uow: UnitOfWork, roles: Sequence[IamRole]) -> list[RoleDetail]:
    ids = [r.id for r in roles]
    inline = await uow.account_details.inline_of("role", ids)
    attached = _by_target(await uow.account_details.attached_of("role", ids))
    tags = await _tags(uow, "role", ids)
    profiles = await uow.account_details.profiles_of_roles(ids)
    profile_tags = await _tags(uow, PROFILE_TAGS, [p.id for p in profiles])
    held: dict[str, list[ProfileDetail]] = {}
    for profile in profiles:
        if profile.role_id is not None:
            held.setdefault(profile.role_id, []).append(ProfileDetail(profile, profile_tags.get(profile.id, [])))
    return [RoleDetail(r, _inline(inline, r.id), attached.get(r.id, []), held.get(r.id, []), tags.get(r.id, []))
            for r in roles]


async def _aws_policies(uow: UnitOfWork, account_id: str, after: str | None, limit: int) -> list[PolicyDetail]:
    """The AWS managed policies attached to something in the account, by name."""
    in_use = await uow.account_details.attached_aws_managed(account_id)
    chosen = sorted((b for arn, b in authorization.BUILTIN_POLICIES.items() if arn in in_use),
                    key=lambda b: b.name)
    chosen = [b for b in chosen if after is None or b.name > after][:limit]
    arns_ = [b.arn for b in chosen]
    counts = await uow.account_details.attachment_counts(account_id, arns_)
    boundaries = await uow.account_details.boundary_counts(account_id, arns_)
    return [PolicyDetail(b.name, b.policy_id, b.arn, b.path, "v1", counts.get(b.arn, 0), boundaries.get(b.arn, 0),
                         b.description, BUILTIN_CREATED, BUILTIN_CREATED,
                         [Version("v1", b.document, True, BUILTIN_CREATED)]) for b in chosen]


def _versions(rows: Sequence[ManagedPolicyVersion], arn: str, default: str) -> list[Version]:
    return [Version(v.version_id, v.document, v.version_id == default, v.created_at) for v in rows
            if v.policy_arn == arn]


async def _local_policies(uow: UnitOfWork, account_id: str, after: str | None, limit: int) -> list[PolicyDetail]:
    rows = await uow.account_details.policies_after(account_id, after, limit)
    arns_ = [p.arn for p in rows]
    counts = await uow.account_details.attachment_counts(account_id, arns_)
    boundaries = await uow.account_details.boundary_counts(account_id, arns_)
    versions = await uow.account_details.versions_of(arns_)
    return [PolicyDetail(p.name, p.id, p.arn, p.path, p.default_version, counts.get(p.arn, 0),
                         boundaries.get(p.arn, 0), p.description, p.created_at, p.updated_at,
                         _versions(versions, p.arn, p.default_version)) for p in rows]


async def _section(uow: UnitOfWork, account_id: str, section: Section, after: str | None, limit: int,
                   into: Details) -> list[str]:
    """Fill `into` with up to `limit` entries of `section` after `after`; their names, in order."""
    if section == "User":
        users = await uow.account_details.users_after(account_id, after, limit)
        into.users += await _users(uow, users)
        return [u.name_lower for u in users]
    if section == "Group":
        groups = await uow.account_details.groups_after(account_id, after, limit)
        into.groups += await _groups(uow, groups)
        return [g.name_lower for g in groups]
    if section == "Role":
        roles = await uow.account_details.roles_after(account_id, after, limit)
        into.roles += await _roles(uow, roles)
        return [r.name_lower for r in roles]
    policies = await (_aws_policies if section == "AWSManagedPolicy" else _local_policies)(
        uow, account_id, after, limit)
    into.policies += policies
    return [p.name for p in policies]


async def details(call: ApiCall, wanted: Sequence[str], max_items: int, marker: str | None) -> Details:
    """`wanted`: the Filter's entity types (all when empty)."""
    sections = [s for s in SECTIONS if not wanted or s in wanted]
    codec = markers(call, "GetAccountAuthorizationDetails", ",".join(sections))
    start, after = (decode_marker(codec, marker) if marker else (sections[0] if sections else "User", None))
    found = Details()
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        if start not in sections:
            return found
        left = max_items
        for section in sections[sections.index(start):]:
            names = await _section(uow, call.account_id, section, after if section == start else None, left + 1,
                                   found)
            if len(names) > left:  # one more than asked: there is more after the last one kept
                _drop_last(found, section)
                found.marker = encode_marker(codec, section, names[left - 1])
                return found
            left -= len(names)
            if left == 0:
                if await _more_after(uow, call.account_id, sections, section):
                    found.marker = encode_marker(codec, section, names[-1]) if names else None
                return found
    return found


def _drop_last(found: Details, section: Section) -> None:
    if section == "User":
        found.users.pop()
    elif section == "Group":
        found.groups.pop()
    elif section == "Role":
        found.roles.pop()
    else:
        found.policies.pop()


async def _more_after(uow: UnitOfWork, account_id: str, sections: Sequence[Section], section: Section) -> bool:
    """Whether a section after `section` has anything (the page ended exactly at a section's end)."""
    for later in sections[sections.index(section) + 1:]:
        probe = Details()
        if await _section(uow, account_id, later, None, 1, probe):
            return True
    return False
