"""Access keys of root and IAM users: created with the secret shown once, sealed at rest."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from ..errors import LimitExceeded, NotFound
from ..store.models import AccessKey
from ..store.repositories import UnitOfWork
from . import audit
from .context import Client, Deps
from .invalidation import ACCESS_KEY

MAX_KEYS = 2
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_key_id(prefix: str = "AKIA") -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret() -> str:
    """40 characters of base64 alphabet, like AWS secrets (240 bits)."""
    return secrets.token_urlsafe(30).replace("-", "+").replace("_", "/")[:40]


@dataclass(frozen=True)
class NewKey:
    access_key_id: str
    secret_access_key: str
    status: str
    created_at: float


async def create(deps: Deps, uow: UnitOfWork, account_id: str, principal_key: str, *, client: Client = Client(),
                 actor: str = "", via: str = "cli", audited: bool = True) -> NewKey:
    """`audited=False` when the caller records the change itself (the IAM API's operation table)."""
    # Requests at the same moment are counted one after another: the owner's row is held first
    if principal_key.startswith("user:"):
        if not await uow.credential_owners.lock_user(principal_key.removeprefix("user:")):
            raise NotFound("The user cannot be found (it was deleted).")
    else:
        await uow.credential_owners.lock_account(account_id)
    if len(await uow.access_keys.for_principal(principal_key)) >= MAX_KEYS:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
    key_id, secret = new_key_id(), new_secret()
    now = deps.clock()
    await uow.access_keys.add(AccessKey(id=key_id, account_id=account_id, principal_key=principal_key,
                                        secret_sealed=deps.box.seal(secret.encode(), f"access-key:{key_id}"),
                                        status="Active", created_at=now))
    if audited:
        await audit.record(uow, at=now, event="CreateAccessKey", result="Success", client=client,
                           account_id=account_id, principal=actor, method=via, access_key_id=key_id,
                           owner=principal_key)
    return NewKey(key_id, secret, "Active", now)


def _forget_everywhere(deps: Deps, uow: UnitOfWork, key_id: str) -> None:
    """Once committed, every process's key cache forgets `key_id` (at once here, over Redis elsewhere)."""
    uow.after_commit(functools.partial(deps.bus.publish, ACCESS_KEY, key_id))


async def require(uow: UnitOfWork, key_id: str, principal_key: str) -> AccessKey:
    key = await uow.access_keys.get(key_id)
    if key is None or key.principal_key != principal_key:
        raise NotFound(f"The Access Key with id {key_id} cannot be found.")
    return key


async def list_for(deps: Deps, principal_key: str) -> list[AccessKey]:
    async with deps.store.unit() as uow:
        return list(await uow.access_keys.for_principal(principal_key))


async def set_status(deps: Deps, uow: UnitOfWork, key_id: str, principal_key: str, status: str, *,
                     client: Client = Client(), actor: str = "", via: str = "console", audited: bool = True) -> None:
    if status not in {"Active", "Inactive"}:
        raise NotFound("Status must be Active or Inactive.")
    key = await require(uow, key_id, principal_key)
    key.status = status
    _forget_everywhere(deps, uow, key_id)
    if audited:
        await audit.record(uow, at=deps.clock(), event="UpdateAccessKey", result="Success", client=client,
                           account_id=key.account_id, principal=actor, method=via, access_key_id=key_id,
                           status=status)


async def delete(deps: Deps, uow: UnitOfWork, key_id: str, principal_key: str, *, client: Client = Client(),
                 actor: str = "", via: str = "console", audited: bool = True) -> None:
    key = await require(uow, key_id, principal_key)
    await uow.access_keys.delete(key)
    _forget_everywhere(deps, uow, key_id)
    if audited:
        await audit.record(uow, at=deps.clock(), event="DeleteAccessKey", result="Success", client=client,
                           account_id=key.account_id, principal=actor, method=via, access_key_id=key_id)
