"""Access keys through the IAM API: create (secret shown once), list, activate or deactivate, delete, last used."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import arns
from ...core.pagination import Page, PageRequest
from ...core.principals import PrincipalKind, PrincipalRef
from ...errors import InvalidValue, NotFound
from ...store.models import AccessKey, IamUser
from .. import access_keys
from ..api_call import ApiCall
from .common import markers, target_user


@dataclass(frozen=True)
class OwnedKeys:
    user_name: str | None  # None: the root user's keys
    keys: Page[AccessKey]


@dataclass(frozen=True)
class LastUsed:
    user_name: str | None
    used_at: float | None
    service: str | None
    region: str | None


def _owner(call: ApiCall, user: IamUser | None) -> PrincipalRef:
    return PrincipalRef.root(call.account_id) if user is None else PrincipalRef.iam_user(user.id)


async def create_access_key(call: ApiCall, user_name: str | None) -> tuple[str | None, access_keys.NewKey]:
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        owner = _owner(call, user)
        key = await access_keys.create(call.deps, uow, call.account_id, owner.key, client=call.client,
                                       actor=call.caller.arn, via="api", audited=False)
        await call.record(uow, access_key_id=key.access_key_id, owner=owner.key)
    return (user.name if user else None), key


async def list_access_keys(call: ApiCall, user_name: str | None, request: PageRequest) -> OwnedKeys:
    """A user's keys, oldest first (at most two, so a page is cut from them all)."""
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        owner = _owner(call, user).key
        keys = await uow.access_keys.for_principal(owner)
    page = markers(call, "ListAccessKeys", owner).page_in_memory(keys, request, _key_order)
    return OwnedKeys(user.name if user else None, page)


def _key_order(key: AccessKey) -> tuple[str, str]:
    return f"{key.created_at:020.6f}", key.id


async def update_access_key(call: ApiCall, user_name: str | None, key_id: str, status: str) -> None:
    if status not in ("Active", "Inactive"):
        raise InvalidValue(f"An access key can be made Active or Inactive, not {status}.")
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        await access_keys.set_status(call.deps, uow, key_id, _owner(call, user).key, status, client=call.client,
                                     actor=call.caller.arn, via="api", audited=False)
        await call.record(uow, access_key_id=key_id, status=status)


async def delete_access_key(call: ApiCall, user_name: str | None, key_id: str) -> None:
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        await access_keys.delete(call.deps, uow, key_id, _owner(call, user).key, client=call.client,
                                 actor=call.caller.arn, via="api", audited=False)
        await call.record(uow, access_key_id=key_id)


async def last_used(call: ApiCall, key_id: str) -> LastUsed:
    async with call.unit() as uow:
        key = await uow.access_keys.get(key_id)
        if key is None or key.account_id != call.account_id:
            raise NotFound(f"The Access Key with id {key_id} cannot be found.")
        name = None
        resource = arns.root_arn(key.account_id)
        owner = PrincipalRef.parse(key.principal_key)
        if owner.kind is PrincipalKind.IAM_USER:
            user = await uow.users.get(owner.id)
            if user is not None:
                name = user.name
                resource = arns.user_arn(user.account_id, user.name, user.path)
        await call.authorize(uow, resource)
    return LastUsed(name, key.last_used_at, key.last_used_service, key.last_used_region)
