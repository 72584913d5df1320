"""The Identity Center directory: users, groups and memberships of one identity store, one use-case set behind
Identity Store (SigV4, `identity_store.py`), SCIM (bearer tokens) and the access portal. Nothing here knows
who calls: the callers authorize and audit; `actor` is what CreatedBy and UpdatedBy show.

User names are unique per store without case (as AWS), group display names too; an external ID (issuer, ID)
names at most one user and one group per store. Deleting a user or group deletes its memberships and runs
`on_principal_deleted` (account assignments of the principal go with it)."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from ...core.flows.portal_signin import directory_user_ref
from ...errors import AlreadyExists, InvalidValue, NotFound, StaleRevision
from ...store.models import DirectoryGroup as GroupRow
from ...store.models import DirectoryMembership as MembershipRow
from ...store.models import DirectoryUser as UserRow
from ...store.models.directory import lookup_key
from ...store.repositories import Conflict, UnitOfWork
from .directory_profile import AttributeOperation as AttributeOperation
from .directory_profile import UserProfile as UserProfile
from .directory_profile import apply, profile_of, stored, text

PrincipalType = Literal["USER", "GROUP"]
Status = Literal["ENABLED", "DISABLED"]
PAGE_MAX = 100
Key = tuple[str, ...]  # a page's sort key: users (user_name_lower, id), groups (display_name_lower, id)
USER_NAME_MAX = 128


@dataclass(frozen=True)
class ExternalId:
    issuer: str
    id: str


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    identity_store_id: str
    user_name: str
    profile: UserProfile
    external_ids: tuple[ExternalId, ...]
    status: Status
    password_hash: str | None
    password_must_change: bool
    revision: int
    created_at: float
    created_by: str
    updated_at: float
    updated_by: str

    @property
    def arn(self) -> str:
        return f"arn:aws:identitystore:::user/{self.id}"

    @property
    def display_name(self) -> str | None:
        return self.profile.display_name

    @property
    def email(self) -> str | None:
        return self.profile.primary_email

    @property
    def enabled(self) -> bool:
        return self.status == "ENABLED"


@dataclass(frozen=True)
class DirectoryGroup:
    id: str
    identity_store_id: str
    display_name: str
    description: str | None
    external_ids: tuple[ExternalId, ...]
    revision: int
    created_at: float
    created_by: str
    updated_at: float
    updated_by: str

    @property
    def arn(self) -> str:
        return f"arn:aws:identitystore:::group/{self.id}"


@dataclass(frozen=True)
class Membership:
    id: str
    identity_store_id: str
    group_id: str
    user_id: str
    created_at: float
    created_by: str

    @property
    def arn(self) -> str:
        return f"arn:aws:identitystore:::membership/{self.id}"


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the key the next page starts after (None: this was the last)."""

    items: tuple[T, ...]
    next_after: Key | None


def user_key(row: UserRow) -> Key:
    return (row.user_name_lower, row.id)


def group_key(row: GroupRow) -> Key:
    return (row.display_name_lower, row.id)


PrincipalDeleted = Callable[[UnitOfWork, str, PrincipalType, str], Awaitable[None]]
principal_deleted_hooks: list[PrincipalDeleted] = []  # e.g. SSO Admin's removal of account assignments


async def on_principal_deleted(uow: UnitOfWork, identity_store_id: str, principal_type: PrincipalType,
                               principal_id: str) -> None:
    """Run in the deleting transaction, after the user or group and its memberships are gone."""
    for hook in principal_deleted_hooks:
        await hook(uow, identity_store_id, principal_type, principal_id)


async def delete_store(uow: UnitOfWork, identity_store_id: str) -> None:
    """Every user, group, membership and external ID of the store, when its instance is deleted (no hooks run:
    the instance's assignments go with it)."""
    await uow.directory.delete_store(identity_store_id)


def new_resource_id(identity_store_id: str) -> str:
    """`<the store's 10 hex>-<uuid4>`, as the Identity Store shows user, group and membership IDs."""
    return f"{identity_store_id.removeprefix('d-')}-{uuid.uuid4()}"


def check_user_name(value: object) -> str:
    """The model's `[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+`, 1-128 characters."""
    name = text(value, "userName", USER_NAME_MAX)
    if any(unicodedata.category(c)[0] not in "LMSNP" for c in name):
        raise InvalidValue("userName must contain only letters, marks, symbols, numbers and punctuation.")
    return name


def check_external_ids(pairs: Sequence[ExternalId]) -> tuple[ExternalId, ...]:
    if len(pairs) > 10:
        raise InvalidValue("ExternalIds must have at most 10 items.")
    for pair in pairs:
        for at, value in (("issuer", pair.issuer), ("id", pair.id)):
            if not 1 <= len(value) <= 256:
                raise InvalidValue(f"ExternalIds.{at} must have length between 1 and 256.")
    if len({(p.issuer, p.id) for p in pairs}) < len(pairs):
        raise InvalidValue("ExternalIds must not repeat an external ID.")
    return tuple(pairs)


def _user(row: UserRow, external: Sequence[tuple[str, str]]) -> DirectoryUser:
    status: Status = "DISABLED" if row.status == "DISABLED" else "ENABLED"
    return DirectoryUser(row.id, row.identity_store_id, row.user_name, profile_of(row.attributes),
                         tuple(ExternalId(i, e) for i, e in external), status, row.password_hash,
                         row.password_must_change, row.revision, row.created_at, row.created_by, row.updated_at,
                         row.updated_by)


def _group(row: GroupRow, external: Sequence[tuple[str, str]]) -> DirectoryGroup:
    return DirectoryGroup(row.id, row.identity_store_id, row.display_name, row.description,
                          tuple(ExternalId(i, e) for i, e in external), row.revision, row.created_at,
                          row.created_by, row.updated_at, row.updated_by)


def _membership(row: MembershipRow) -> Membership:
    return Membership(row.id, row.identity_store_id, row.group_id, row.user_id, row.created_at, row.created_by)


async def _users(uow: UnitOfWork, rows: Sequence[UserRow]) -> list[DirectoryUser]:
    external = await uow.directory.external_ids("user", [r.id for r in rows])
    return [_user(r, external.get(r.id, [])) for r in rows]


async def _groups(uow: UnitOfWork, rows: Sequence[GroupRow]) -> list[DirectoryGroup]:
    external = await uow.directory.external_ids("group", [r.id for r in rows])
    return [_group(r, external.get(r.id, [])) for r in rows]


def _duplicate_user() -> AlreadyExists:
    return AlreadyExists("UserName", "Duplicate UserName or ExternalId: a user of this identity store has it.")


def _duplicate_group() -> AlreadyExists:
    return AlreadyExists("DisplayName", "Duplicate DisplayName or ExternalId: a group of this identity store has it.")


async def _external_ids_free(uow: UnitOfWork, store: str, kind: str, pairs: Sequence[ExternalId],
                             owner: str | None = None) -> bool:
    for pair in pairs:
        found = await uow.directory.owner_of_external_id(store, kind, pair.issuer, pair.id)
        if found is not None and found != owner:
            return False
    return True


def _expect(revision: int, expected: int | None) -> None:
    if expected is not None and expected != revision:
        raise StaleRevision(f"The resource is at revision {revision}, not {expected}.")


# users

async def create_user(uow: UnitOfWork, identity_store_id: str, user_name: str, profile: UserProfile,
                      external_ids: Sequence[ExternalId] = (), *, actor: str, now: float,
                      password_hash: str | None = None, password_must_change: bool = False,
                      status: Status = "ENABLED") -> DirectoryUser:
    """AlreadyExists when the user name (any case) or an external ID is taken in the store."""
    user_name, pairs = check_user_name(user_name), check_external_ids(external_ids)
    if (await uow.directory.user_by_name(identity_store_id, user_name) is not None
            or not await _external_ids_free(uow, identity_store_id, "user", pairs)):
        raise _duplicate_user()
    row = UserRow(id=new_resource_id(identity_store_id), identity_store_id=identity_store_id, user_name=user_name,
                  user_name_lower=user_name.lower(), display_name=profile.display_name,
                  email_lower=_lower(profile.primary_email), attributes=stored(profile), status=status,
                  password_hash=password_hash, password_must_change=password_must_change, revision=1,
                  created_at=now, created_by=actor, updated_at=now, updated_by=actor)
    try:
        await uow.directory.add(row)
        await uow.directory.set_external_ids(identity_store_id, "user", row.id,
                                             [(p.issuer, p.id) for p in pairs])
    except Conflict:
        raise _duplicate_user() from None
    return _user(row, [(p.issuer, p.id) for p in pairs])


def _lower(value: str | None) -> str | None:
    return lookup_key(value) if value is not None else None


async def get_user(uow: UnitOfWork, identity_store_id: str, user_id: str) -> DirectoryUser | None:
    row = await uow.directory.user(identity_store_id, user_id)
    return None if row is None else (await _users(uow, [row]))[0]


async def require_user(uow: UnitOfWork, identity_store_id: str, user_id: str) -> DirectoryUser:
    user = await get_user(uow, identity_store_id, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def user_exists(uow: UnitOfWork, identity_store_id: str, user_id: str) -> bool:
    return await uow.directory.user(identity_store_id, user_id) is not None


async def user_by_name(uow: UnitOfWork, identity_store_id: str, user_name: str) -> DirectoryUser | None:
    """The user with this name in any case (the portal's sign-in lookup)."""
    row = await uow.directory.user_by_name(identity_store_id, user_name)
    return None if row is None else (await _users(uow, [row]))[0]


async def find_users(uow: UnitOfWork, identity_store_id: str, *, user_name: str | None = None,
                     display_name: str | None = None, email: str | None = None,
                     external_id: ExternalId | None = None, after: Key | None = None,
                     limit: int = PAGE_MAX) -> Page[DirectoryUser]:
    """Users in (user name without case, ID) order after `after`, narrowed by user name (any case), display
    name, primary email (any case) or an external ID; `limit + 1` rows read."""
    if external_id is not None:
        owner = await uow.directory.owner_of_external_id(identity_store_id, "user", external_id.issuer,
                                                         external_id.id)
        row = None if owner is None else await uow.directory.user(identity_store_id, owner)
        rows: Sequence[UserRow] = [] if row is None else [row]
    elif email is not None:
        rows = sorted(await uow.directory.users_by_email(identity_store_id, email), key=user_key)
    else:
        rows = await uow.directory.users(identity_store_id, after=after, limit=limit, user_name=user_name,
                                         display_name=display_name)
    rows = [r for r in rows if (user_name is None or r.user_name_lower == user_name.lower())
            and (display_name is None or r.display_name == display_name) and (after is None or user_key(r) > after)]
    more = len(rows) > limit
    users = await _users(uow, rows[:limit])
    return Page(tuple(users), user_key(rows[limit - 1]) if more and users else None)


async def _user_row(uow: UnitOfWork, identity_store_id: str, user_id: str) -> UserRow:
    row = await uow.directory.user(identity_store_id, user_id)
    if row is None:
        raise NotFound("User not found.")
    return row


async def _save_user(uow: UnitOfWork, row: UserRow, profile: UserProfile, user_name: str, *, actor: str,
                     now: float, expected_revision: int | None) -> DirectoryUser:
    _expect(row.revision, expected_revision)
    if user_name.lower() != row.user_name_lower:
        other = await uow.directory.user_by_name(row.identity_store_id, user_name)
        if other is not None and other.id != row.id:
            raise _duplicate_user()
    if not await uow.directory.bump(row, row.revision):
        raise StaleRevision("The user changed while this change was made; try again.")
    row.user_name, row.user_name_lower = user_name, user_name.lower()
    row.display_name, row.email_lower = profile.display_name, _lower(profile.primary_email)
    row.attributes, row.updated_at, row.updated_by = stored(profile), now, actor
    try:
        await uow.directory.flush()
    except Conflict:
        raise _duplicate_user() from None
    return (await _users(uow, [row]))[0]


async def update_user(uow: UnitOfWork, identity_store_id: str, user_id: str,
                      operations: Sequence[AttributeOperation], *, actor: str, now: float,
                      expected_revision: int | None = None) -> DirectoryUser:
    """Apply attribute operations (`userName`, `displayName`, `name.givenName`, `emails`, ...)."""
    row = await _user_row(uow, identity_store_id, user_id)
    profile, user_name = apply(profile_of(row.attributes), operations)
    name = check_user_name(user_name) if user_name is not None else row.user_name
    return await _save_user(uow, row, profile, name, actor=actor, now=now, expected_revision=expected_revision)


async def replace_user(uow: UnitOfWork, identity_store_id: str, user_id: str, user_name: str,
                       profile: UserProfile, external_ids: Sequence[ExternalId] | None = None, *, actor: str,
                       now: float, status: Status | None = None) -> DirectoryUser:
    """Replace every attribute at once (SCIM's PUT); external IDs and status only when given."""
    row = await _user_row(uow, identity_store_id, user_id)
    if external_ids is not None:
        pairs = check_external_ids(external_ids)
        if not await _external_ids_free(uow, identity_store_id, "user", pairs, owner=row.id):
            raise _duplicate_user()
        await uow.directory.set_external_ids(identity_store_id, "user", row.id, [(p.issuer, p.id) for p in pairs])
    if status is not None:
        row.status = status
    return await _save_user(uow, row, profile, check_user_name(user_name), actor=actor, now=now,
                            expected_revision=None)


async def set_user_status(uow: UnitOfWork, identity_store_id: str, user_id: str, status: Status, *, actor: str,
                          now: float) -> DirectoryUser:
    row = await _user_row(uow, identity_store_id, user_id)
    row.status = status
    return await _save_user(uow, row, profile_of(row.attributes), row.user_name, actor=actor, now=now,
                            expected_revision=None)


async def set_password(uow: UnitOfWork, identity_store_id: str, user_id: str, password_hash: str | None, *,
                       must_change: bool, now: float) -> DirectoryUser:
    """The portal's sign-in password (None: none set); no revision change, as it is no Identity Store attribute."""
    row = await _user_row(uow, identity_store_id, user_id)
    row.password_hash, row.password_must_change = password_hash, must_change
    await uow.directory.flush()
    return (await _users(uow, [row]))[0]


async def delete_user(uow: UnitOfWork, identity_store_id: str, user_id: str, *,
                      expected_revision: int | None = None) -> DirectoryUser:
    """The user as it was; its memberships and external IDs go with it, then `on_principal_deleted` runs."""
    row = await _user_row(uow, identity_store_id, user_id)
    _expect(row.revision, expected_revision)
    user = (await _users(uow, [row]))[0]
    await uow.directory.delete_user(row)
    await uow.mail_languages.forget(directory_user_ref(user_id).key)
    await uow.webauthn.delete_all_for(directory_user_ref(user_id).key)  # the portal's security keys and passkeys
    await on_principal_deleted(uow, identity_store_id, "USER", user_id)
    return user


# groups

async def create_group(uow: UnitOfWork, identity_store_id: str, display_name: str, description: str | None = None,
                       external_ids: Sequence[ExternalId] = (), *, actor: str, now: float) -> DirectoryGroup:
    display_name = text(display_name, "displayName")
    description = None if description is None else text(description, "description")
    pairs = check_external_ids(external_ids)
    if (await uow.directory.group_by_name(identity_store_id, display_name) is not None
            or not await _external_ids_free(uow, identity_store_id, "group", pairs)):
        raise _duplicate_group()
    row = GroupRow(id=new_resource_id(identity_store_id), identity_store_id=identity_store_id,
                   display_name=display_name, display_name_lower=lookup_key(display_name), description=description,
                   revision=1, created_at=now, created_by=actor, updated_at=now, updated_by=actor)
    try:
        await uow.directory.add(row)
        await uow.directory.set_external_ids(identity_store_id, "group", row.id, [(p.issuer, p.id) for p in pairs])
    except Conflict:
        raise _duplicate_group() from None
    return _group(row, [(p.issuer, p.id) for p in pairs])


async def get_group(uow: UnitOfWork, identity_store_id: str, group_id: str) -> DirectoryGroup | None:
    row = await uow.directory.group(identity_store_id, group_id)
    return None if row is None else (await _groups(uow, [row]))[0]


async def require_group(uow: UnitOfWork, identity_store_id: str, group_id: str) -> DirectoryGroup:
    group = await get_group(uow, identity_store_id, group_id)
    if group is None:
        raise NotFound("Group not found.")
    return group


async def group_exists(uow: UnitOfWork, identity_store_id: str, group_id: str) -> bool:
    return await uow.directory.group(identity_store_id, group_id) is not None


async def find_groups(uow: UnitOfWork, identity_store_id: str, *, display_name: str | None = None,
                      external_id: ExternalId | None = None, after: Key | None = None,
                      limit: int = PAGE_MAX) -> Page[DirectoryGroup]:
    """Groups in (display name without case, ID) order after `after`, narrowed by display name (any case) or an
    external ID; `limit + 1` rows read."""
    if external_id is not None:
        owner = await uow.directory.owner_of_external_id(identity_store_id, "group", external_id.issuer,
                                                         external_id.id)
        row = None if owner is None else await uow.directory.group(identity_store_id, owner)
        rows: Sequence[GroupRow] = [] if row is None else [row]
        rows = [r for r in rows if (display_name is None or r.display_name_lower == lookup_key(display_name))
                and (after is None or group_key(r) > after)]
    else:
        rows = await uow.directory.groups(identity_store_id, after=after, limit=limit, display_name=display_name)
    more = len(rows) > limit
    groups = await _groups(uow, rows[:limit])
    return Page(tuple(groups), group_key(rows[limit - 1]) if more and groups else None)


async def update_group(uow: UnitOfWork, identity_store_id: str, group_id: str,
                       operations: Sequence[AttributeOperation], *, actor: str, now: float,
                       expected_revision: int | None = None) -> DirectoryGroup:
    """Operations on `displayName` (never unset) and `description`."""
    row = await uow.directory.group(identity_store_id, group_id)
    if row is None:
        raise NotFound("Group not found.")
    _expect(row.revision, expected_revision)
    display_name, description = row.display_name, row.description
    for operation in operations:
        path = operation.path.lower()
        if path == "displayname":
            if operation.value is None:
                raise InvalidValue("displayName cannot be removed.")
            display_name = text(operation.value, operation.path)
        elif path == "description":
            description = None if operation.value is None else text(operation.value, operation.path)
        else:
            raise InvalidValue(f"{operation.path} is not an attribute path this operation can change.")
    if lookup_key(display_name) != row.display_name_lower:
        other = await uow.directory.group_by_name(identity_store_id, display_name)
        if other is not None and other.id != row.id:
            raise _duplicate_group()
    if not await uow.directory.bump(row, row.revision):
        raise StaleRevision("The group changed while this change was made; try again.")
    row.display_name, row.display_name_lower, row.description = display_name, lookup_key(display_name), description
    row.updated_at, row.updated_by = now, actor
    try:
        await uow.directory.flush()
    except Conflict:
        raise _duplicate_group() from None
    return (await _groups(uow, [row]))[0]


async def delete_group(uow: UnitOfWork, identity_store_id: str, group_id: str, *,
                       expected_revision: int | None = None) -> DirectoryGroup:
    row = await uow.directory.group(identity_store_id, group_id)
    if row is None:
        raise NotFound("Group not found.")
    _expect(row.revision, expected_revision)
    group = (await _groups(uow, [row]))[0]
    await uow.directory.delete_group(row)
    await on_principal_deleted(uow, identity_store_id, "GROUP", group_id)
    return group


# memberships

async def add_member(uow: UnitOfWork, identity_store_id: str, group_id: str, user_id: str, *, actor: str,
                     now: float) -> Membership:
    """NotFound for an unknown group or user; AlreadyExists when the user is a member already."""
    await require_group(uow, identity_store_id, group_id)
    await _user_row(uow, identity_store_id, user_id)
    if await uow.directory.membership_of(group_id, user_id) is not None:
        raise AlreadyExists("MemberId", "The user is already a member of the group.")
    row = MembershipRow(id=new_resource_id(identity_store_id), identity_store_id=identity_store_id,
                        group_id=group_id, user_id=user_id, created_at=now, created_by=actor)
    try:
        await uow.directory.add(row)
    except Conflict:
        raise AlreadyExists("MemberId", "The user is already a member of the group.") from None
    return _membership(row)


async def get_membership(uow: UnitOfWork, identity_store_id: str, membership_id: str) -> Membership | None:
    row = await uow.directory.membership(identity_store_id, membership_id)
    return None if row is None else _membership(row)


async def membership_of(uow: UnitOfWork, identity_store_id: str, group_id: str,
                        user_id: str) -> Membership | None:
    row = await uow.directory.membership_of(group_id, user_id)
    return None if row is None or row.identity_store_id != identity_store_id else _membership(row)


async def remove_member(uow: UnitOfWork, identity_store_id: str, membership_id: str) -> Membership:
    row = await uow.directory.membership(identity_store_id, membership_id)
    if row is None:
        raise NotFound("Group membership not found.")
    membership = _membership(row)
    await uow.directory.delete_membership(row)
    return membership


async def memberships_of_group(uow: UnitOfWork, identity_store_id: str, group_id: str, *,
                               after: Key | None = None, limit: int = PAGE_MAX) -> Page[Membership]:
    """Page.items are Membership, in user ID order (key (user_id,)); NotFound for an unknown group."""
    await require_group(uow, identity_store_id, group_id)
    rows = await uow.directory.memberships_of_group(group_id, after=after, limit=limit)
    items = [_membership(r) for r in rows[:limit]]
    return Page(tuple(items), (items[-1].user_id,) if len(rows) > limit else None)


async def groups_of_user(uow: UnitOfWork, identity_store_id: str, user_id: str, *, after: Key | None = None,
                         limit: int = PAGE_MAX) -> Page[Membership]:
    """The user's memberships (Page.items are Membership), in group ID order (key (group_id,)); NotFound for an
    unknown user."""
    await _user_row(uow, identity_store_id, user_id)
    rows = await uow.directory.memberships_of_user(user_id, after=after, limit=limit)
    items = [_membership(r) for r in rows[:limit]]
    return Page(tuple(items), (items[-1].group_id,) if len(rows) > limit else None)


async def group_ids_of_user(uow: UnitOfWork, identity_store_id: str, user_id: str) -> list[str]:
    """Every group the user belongs to (assignments to a group apply to its members)."""
    rows = await uow.directory.memberships_of_user(user_id, after=None, limit=10_000)
    return sorted(r.group_id for r in rows if r.identity_store_id == identity_store_id)


async def user_ids_for_principal(uow: UnitOfWork, identity_store_id: str, principal_type: str,
                                 principal_id: str) -> list[str]:
    """The users a principal stands for: the user itself, or a group's members ([] when it does not exist)."""
    if principal_type == "USER":
        return [principal_id] if await user_exists(uow, identity_store_id, principal_id) else []
    if principal_type == "GROUP" and await group_exists(uow, identity_store_id, principal_id):
        return await uow.directory.member_ids(principal_id)
    return []

