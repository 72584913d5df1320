"""SCIM use cases: Users and Groups of the token's identity store, through the directory the Identity Store API
sees. Each request is one unit of work; every write is audited in the store owner's account.

Lists read the directory a page at a time and evaluate the whole filter (scim2-models) on each resource; a
filter with an equality on an indexed attribute (`core.scim_filter.lookup`) reads only what that finds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scim2_models import Group, PatchOp, Resource, ScimFilter, User

from ...core.pagination import MarkerCodec, PageRequest
from ...core.scim_filter import Lookup, lookup
from ...errors import AlreadyExists, InvalidValue, NotFound
from ...store.models.directory import lookup_key
from ...store.repositories import UnitOfWork
from .. import audit
from ..context import Deps
from . import directory, scim_shapes
from .directory import DirectoryGroup, DirectoryUser, ExternalId
from .scim_tokens import ScimCaller

ACTOR = "SCIM"
AnyResource = User[Any] | Group


def _base(deps: Deps) -> str:
    return deps.settings.public_url.rstrip("/") + "/scim/v2"


def _scim_external_id(pairs: tuple[ExternalId, ...]) -> str | None:
    return next((p.id for p in pairs if p.issuer == scim_shapes.EXTERNAL_ID_ISSUER), None)


def _with_external_id(pairs: tuple[ExternalId, ...], external_id: str | None) -> list[ExternalId]:
    kept = [p for p in pairs if p.issuer != scim_shapes.EXTERNAL_ID_ISSUER]
    return kept + ([ExternalId(scim_shapes.EXTERNAL_ID_ISSUER, external_id)] if external_id else [])


def _user(deps: Deps, user: DirectoryUser) -> User[Any]:
    return scim_shapes.user_of(user.id, user.user_name, user.profile, _scim_external_id(user.external_ids),
                               user.enabled, scim_shapes.meta("User", _base(deps), user.id, user.created_at,
                                                              user.updated_at))


async def _group(deps: Deps, uow: UnitOfWork, group: DirectoryGroup) -> Group:
    members = sorted(await uow.directory.member_ids(group.id))
    return scim_shapes.group_of(group.id, group.display_name, _scim_external_id(group.external_ids), members,
                                _base(deps), scim_shapes.meta("Group", _base(deps), group.id, group.created_at,
                                                              group.updated_at))


async def _record(uow: UnitOfWork, deps: Deps, caller: ScimCaller, event: str, **detail: Any) -> None:
    await audit.record(uow, at=deps.clock(), event=event, result="success", client=caller.client,
                       account_id=caller.owner_account_id, principal=caller.principal, method="scim",
                       identity_store_id=caller.identity_store_id, **detail)


def _status(active: bool | None) -> directory.Status:
    return "DISABLED" if active is False else "ENABLED"


# ---- create, read, list -----------------------------------------------------------------------

async def create_resource(deps: Deps, caller: ScimCaller, given: AnyResource) -> AnyResource:
    store, now = caller.identity_store_id, deps.clock()
    async with deps.store.unit() as uow:
        if isinstance(given, User):
            user = await directory.create_user(
                uow, store, given.user_name or "", scim_shapes.profile_of(given),
                _with_external_id((), given.external_id), actor=ACTOR, now=now, status=_status(given.active))
            await _record(uow, deps, caller, "ScimCreateUser", user_id=user.id, user_name=user.user_name)
            made: AnyResource = _user(deps, user)
        else:
            group = await directory.create_group(uow, store, given.display_name or "", None,
                                                 _with_external_id((), given.external_id), actor=ACTOR, now=now)
            await _set_members(uow, store, group.id, set(), scim_shapes.member_ids(given), now)
            await _record(uow, deps, caller, "ScimCreateGroup", group_id=group.id, display_name=group.display_name)
            made = await _group(deps, uow, group)
        await uow.commit()
    return made


async def _load(deps: Deps, uow: UnitOfWork, caller: ScimCaller, kind: str, resource_id: str) -> AnyResource:
    store = caller.identity_store_id
    if kind == "User":
        user = await directory.get_user(uow, store, resource_id)
        if user is None:
            raise NotFound(f"User {resource_id} not found.")
        return _user(deps, user)
    group = await directory.get_group(uow, store, resource_id)
    if group is None:
        raise NotFound(f"Group {resource_id} not found.")
    return await _group(deps, uow, group)


async def get_resource(deps: Deps, caller: ScimCaller, kind: str, resource_id: str) -> AnyResource:
    async with deps.store.unit() as uow:
        return await _load(deps, uow, caller, kind, resource_id)


async def _candidates(deps: Deps, uow: UnitOfWork, caller: ScimCaller, kind: str,
                      found: Lookup | None) -> AsyncIterator[AnyResource]:
    store = caller.identity_store_id
    narrowed: dict[str, Any] = {}
    if found is not None and found.attribute == "externalId":
        narrowed["external_id"] = ExternalId(scim_shapes.EXTERNAL_ID_ISSUER, found.value)
    elif found is not None and kind == "User" and found.attribute == "userName":
        narrowed["user_name"] = found.value
    elif found is not None and kind == "Group" and found.attribute == "displayName":
        narrowed["display_name"] = found.value  # any case, as SCIM compares it (a user's is matched exactly)
    after: directory.Key | None = None
    while True:
        if kind == "User":
            users = await directory.find_users(uow, store, after=after, **narrowed)
            for user in users.items:
                yield _user(deps, user)
            after = users.next_after
        else:
            groups = await directory.find_groups(uow, store, after=after, **narrowed)
            for group in groups.items:
                yield await _group(deps, uow, group)
            after = groups.next_after
        if after is None:
            return


async def _unfiltered(deps: Deps, caller: ScimCaller, kind: str, start_index: int,
                      count: int) -> tuple[int, list[AnyResource]]:
    """Every resource of the kind, by name: the total from an indexed count, then the page from the name index,
    seeking the key just before `start_index` (its cost grows with startIndex in index entries, not rows:
    RFC 7644's index paging) and reading `count + 1` rows after it."""
    store = caller.identity_store_id
    async with deps.store.unit() as uow:
        users = kind == "User"
        total = await (uow.directory.count_users(store) if users else uow.directory.count_groups(store))
        if count <= 0 or start_index > total:
            return total, []
        after = (None if start_index <= 1 else await (uow.directory.user_key_at(store, start_index - 2) if users
                                                      else uow.directory.group_key_at(store, start_index - 2)))
        if users:
            found_users = await directory.find_users(uow, store, after=after, limit=count)
            return total, [_user(deps, user) for user in found_users.items]
        found_groups = await directory.find_groups(uow, store, after=after, limit=count)
        return total, [await _group(deps, uow, group) for group in found_groups.items]


async def list_resources(deps: Deps, caller: ScimCaller, kind: str, where: ScimFilter[Any] | None,
                         start_index: int, count: int) -> tuple[int, list[AnyResource]]:
    """The total of matches and the page of `count` from `start_index` (1-based). Without a filter both come
    from the name index (`_unfiltered`); a filter with an indexed equality reads what that finds; any other
    filter is evaluated on every resource of the store (O(store), as SCIM filters on free attributes are)."""
    if where is None:
        return await _unfiltered(deps, caller, kind, max(1, start_index), count)
    found = lookup(where.ast)
    if found is not None and found.attribute == "emails.value":
        found = None  # the directory indexes the primary email only; the filter may name any
    total, page = 0, []
    async with deps.store.unit() as uow:
        async for resource in _candidates(deps, uow, caller, kind, found):
            if where is not None and not where.match(resource):
                continue
            total += 1
            if start_index <= total < start_index + count:
                page.append(resource)
    return total, page


def _cursors(deps: Deps, caller: ScimCaller, kind: str, where: ScimFilter[Any] | None) -> MarkerCodec:
    """RFC 9865 cursors of one list: the last resource's sort key, signed and bound to the store, the resource
    type and the filter (a cursor of another list is refused as invalidValue)."""
    return MarkerCodec(deps.box.signing_key, "scim", caller.identity_store_id, kind,
                       "" if where is None else str(where.ast))


def _key(resource: AnyResource) -> tuple[str, str]:
    if isinstance(resource, User):
        return ((resource.user_name or "").lower(), resource.id or "")
    return (lookup_key(resource.display_name or ""), resource.id or "")


async def list_after_cursor(deps: Deps, caller: ScimCaller, kind: str, where: ScimFilter[Any] | None, cursor: str,
                            count: int) -> tuple[int, list[AnyResource], str | None]:
    """Cursor paging (RFC 9865): the total, the `count` resources after the cursor ("" for the first page) in
    name order, and the next page's cursor (None on the last). Without a filter a page reads `count + 1` rows
    from the name index after the cursor's key, so resources added or removed between pages are neither
    skipped nor repeated; with one, the filter is evaluated over the store as for index paging."""
    codec = _cursors(deps, caller, kind, where)
    page = PageRequest(cursor or None, max(1, count))
    after = codec.after(page)
    store = caller.identity_store_id
    if where is None:
        async with deps.store.unit() as uow:
            if kind == "User":
                total = await uow.directory.count_users(store)
                users = await directory.find_users(uow, store, after=after, limit=page.limit)
                rows: list[AnyResource] = [_user(deps, user) for user in users.items]
                more = users.next_after is not None
            else:
                total = await uow.directory.count_groups(store)
                groups = await directory.find_groups(uow, store, after=after, limit=page.limit)
                rows = [await _group(deps, uow, group) for group in groups.items]
                more = groups.next_after is not None
    else:
        total, matched = await list_resources(deps, caller, kind, where, 1, 1 << 30)
        rest = [r for r in matched if after is None or _key(r) > after]
        rows, more = rest[:page.limit], len(rest) > page.limit
    if count <= 0:
        return total, [], None
    return total, rows, codec.encode(_key(rows[-1])) if more and rows else None


# ---- changes ----------------------------------------------------------------------------------

async def _set_members(uow: UnitOfWork, store: str, group_id: str, before: set[str], after: list[str],
                       now: float) -> None:
    for user_id in after:
        if user_id in before:
            continue
        if not await directory.user_exists(uow, store, user_id):
            raise InvalidValue(f"Member {user_id} is not a user of this identity store.")
        await directory.add_member(uow, store, group_id, user_id, actor=ACTOR, now=now)
    for user_id in before - set(after):
        membership = await directory.membership_of(uow, store, group_id, user_id)
        if membership is not None:
            await directory.remove_member(uow, store, membership.id)


async def _write(deps: Deps, uow: UnitOfWork, caller: ScimCaller, resource_id: str,
                 wanted: AnyResource) -> AnyResource:
    store, now = caller.identity_store_id, deps.clock()
    if isinstance(wanted, User):
        current_user = await directory.require_user(uow, store, resource_id)
        user = await directory.replace_user(
            uow, store, resource_id, wanted.user_name or "", scim_shapes.profile_of(wanted),
            _with_external_id(current_user.external_ids, wanted.external_id), actor=ACTOR, now=now,
            status=_status(wanted.active))
        return _user(deps, user)
    group = await directory.require_group(uow, store, resource_id)
    name = wanted.display_name or ""
    if name != group.display_name:
        group = await directory.update_group(uow, store, resource_id,
                                             [directory.AttributeOperation("displayName", name)], actor=ACTOR,
                                             now=now)
    if wanted.external_id != _scim_external_id(group.external_ids):
        pairs = _with_external_id(group.external_ids, wanted.external_id)
        for pair in pairs:
            owner = await uow.directory.owner_of_external_id(store, "group", pair.issuer, pair.id)
            if owner is not None and owner != group.id:
                raise AlreadyExists("ExternalId", "A group of this identity store has this externalId.")
        await uow.directory.set_external_ids(store, "group", group.id, [(p.issuer, p.id) for p in pairs])
    before = set(await uow.directory.member_ids(group.id))
    await _set_members(uow, store, group.id, before, scim_shapes.member_ids(wanted), now)
    refreshed = await directory.require_group(uow, store, resource_id)
    return await _group(deps, uow, refreshed)


async def replace_resource(deps: Deps, caller: ScimCaller, resource_id: str, given: AnyResource) -> AnyResource:
    kind = "User" if isinstance(given, User) else "Group"
    async with deps.store.unit() as uow:
        done = await _write(deps, uow, caller, resource_id, given)
        await _record(uow, deps, caller, f"ScimReplace{kind}", **{f"{kind.lower()}_id": resource_id})
        await uow.commit()
    return done


async def patch_resource(deps: Deps, caller: ScimCaller, kind: str, resource_id: str,
                         patch: PatchOp[Any]) -> AnyResource:
    async with deps.store.unit() as uow:
        current = await _load(deps, uow, caller, kind, resource_id)
        wanted: Resource[Any] = current.model_copy(deep=True)
        if patch.patch(wanted):
            assert isinstance(wanted, User | Group)
            current = await _write(deps, uow, caller, resource_id, wanted)
            await _record(uow, deps, caller, f"ScimPatch{kind}", **{f"{kind.lower()}_id": resource_id},
                          operations=[op.op.value for op in patch.operations or []])
            await uow.commit()
    return current


async def delete_resource(deps: Deps, caller: ScimCaller, kind: str, resource_id: str) -> None:
    store = caller.identity_store_id
    async with deps.store.unit() as uow:
        if kind == "User":
            gone_user = await directory.delete_user(uow, store, resource_id)
            await _record(uow, deps, caller, "ScimDeleteUser", user_id=gone_user.id, user_name=gone_user.user_name)
        else:
            gone = await directory.delete_group(uow, store, resource_id)
            await _record(uow, deps, caller, "ScimDeleteGroup", group_id=gone.id, display_name=gone.display_name)
        await uow.commit()
