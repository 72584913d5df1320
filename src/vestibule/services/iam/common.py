"""What the IAM use cases share: the caller's account, named entities looked up and authorized, tags."""

from __future__ import annotations

from collections.abc import Mapping

from ...core import arns
from ...core.pagination import MarkerCodec
from ...core.policy_conditions import ContextValue
from ...errors import InvalidValue, LimitExceeded, NotFound, PermissionDenied
from ...store.models import Account, IamGroup, IamRole, IamUser
from ...store.repositories import UnitOfWork
from ..api_call import ApiCall, Target
from . import quotas

TagPairs = list[tuple[str, str]]


async def account_of(call: ApiCall, uow: UnitOfWork) -> Account:
    account = await uow.accounts.get(call.account_id)
    if account is None:
        raise PermissionDenied("The account of these credentials is closed.")
    return account


def markers(call: ApiCall, operation: str, *scope: str) -> MarkerCodec:
    """The page markers of one list: the operation's, in the caller's account, for `scope` (parent entity,
    filters), signed with the keyring's signing key."""
    return MarkerCodec(call.deps.box.signing_key, operation, call.account_id, *scope)


def moment_key(at: float) -> str:
    """A time as a part of a sort key: zero-padded, so the text order is the time order."""
    return f"{at:020.6f}"


def no_such_user(name: str) -> NotFound:
    return NotFound(f"The user with name {name} cannot be found.")


async def require_user(uow: UnitOfWork, account_id: str, name: str) -> IamUser:
    user = await uow.users.by_name(account_id, name)
    if user is None:
        raise no_such_user(name)
    return user


async def named_user(call: ApiCall, uow: UnitOfWork, name: str, *,
                     context: Mapping[str, ContextValue] | None = None) -> IamUser:
    """The user `name`, after authorizing the call on its ARN (so a denied caller learns nothing); `context`:
    condition keys of the request (such as the iam:PermissionsBoundary it asks for). Names are matched without
    regard to case, so the ARN authorized is the stored user's (its name and path as stored): a Deny on
    `user/Admin` also holds when the call names `admin`."""
    user = await uow.users.by_name(call.account_id, name)
    await call.authorize(uow, user_arn(user) if user else arns.user_arn(call.account_id, name),
                         target=Target.user(user) if user else None, context=context)
    if user is None:
        raise no_such_user(name)
    return user


async def target_user(call: ApiCall, uow: UnitOfWork, name: str | None) -> IamUser | None:
    """The named user, or the calling IAM user when no name is given (None for the root user)."""
    if name is not None:
        return await named_user(call, uow, name)
    caller = call.caller
    if caller.kind == "user" and caller.user_name:
        user = await require_user(uow, caller.account_id, caller.user_name)
        await call.authorize(uow, arns.user_arn(user.account_id, user.name, user.path), target=Target.user(user))
        return user
    if caller.is_root:
        await call.authorize(uow, arns.root_arn(caller.account_id))
        return None
    raise InvalidValue("Must specify userName when calling with non-User credentials")


async def named_group(call: ApiCall, uow: UnitOfWork, name: str) -> IamGroup:
    group = await uow.groups.by_name(call.account_id, name)
    await call.authorize(uow, arns.group_arn(call.account_id, group.name if group else name,
                                             group.path if group else "/"))
    if group is None:
        raise NotFound(f"The group with name {name} cannot be found.")
    return group


async def named_role(call: ApiCall, uow: UnitOfWork, name: str, *,
                     context: Mapping[str, ContextValue] | None = None) -> IamRole:
    role = await uow.roles.by_name(call.account_id, name)
    await call.authorize(uow, role_arn(role) if role else arns.role_arn(call.account_id, name),
                         target=Target.role(role) if role else None, context=context)
    if role is None:
        raise NotFound(f"The role with name {name} cannot be found.")
    return role


Entity = IamUser | IamGroup | IamRole


async def entity_at(uow: UnitOfWork, account_id: str, kind: str, path: str, name: str) -> Entity | None:
    """The user, group or role of `kind` named `name` (matched without regard to case, as IAM names are) whose
    stored path is exactly `path`; None when there is none."""
    found: Entity | None
    if kind == "user":
        found = await uow.users.by_name(account_id, name)
    elif kind == "group":
        found = await uow.groups.by_name(account_id, name)
    elif kind == "role":
        found = await uow.roles.by_name(account_id, name)
    else:
        return None
    return found if found is not None and found.path == path else None


def entity_arn(kind: str, entity: Entity) -> str:
    """The stored entity's own ARN (its name and path as stored): what a call about it is authorized on."""
    return f"arn:aws:iam::{entity.account_id}:{kind}{entity.path}{entity.name}"


def user_arn(user: IamUser) -> str:
    return arns.user_arn(user.account_id, user.name, user.path)


def role_arn(role: IamRole) -> str:
    return arns.role_arn(role.account_id, role.name, role.path)


async def put_tags(uow: UnitOfWork, account_id: str, kind: str, entity_id: str, tags: TagPairs) -> None:
    """Store `tags` on an entity of `account_id`, within the 50-tag quota. The account's row is held first, so
    concurrent taggings are counted one after another (tagging is rare; one lock serves every kind of entity).
    No tags: nothing to store or count (a create without Tags takes no lock)."""
    if not tags:
        return
    await uow.credential_owners.lock_account(account_id)
    for key, value in tags:
        await uow.tags.put(kind, entity_id, key, value)
    if len(await uow.tags.of(kind, entity_id)) > quotas.TAGS_PER_RESOURCE:
        raise LimitExceeded(f"Cannot exceed quota for TagsPerResource: {quotas.TAGS_PER_RESOURCE}")


async def tags_of(uow: UnitOfWork, kind: str, entity_id: str) -> TagPairs:
    return [(tag.key, tag.value) for tag in await uow.tags.of(kind, entity_id)]


def tag_key(tag: tuple[str, str]) -> tuple[str]:
    """Tags are listed by key (an entity holds at most 50, so a page is cut from them all)."""
    return (tag[0],)
