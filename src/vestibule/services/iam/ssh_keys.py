"""SSH public keys of IAM users (for CodeCommit and the like): upload, read in either encoding, list, activate or
deactivate, delete; at most five per user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ...core.pagination import Page, PageRequest
from ...core.principals import PrincipalRef
from ...errors import InvalidInput, LimitExceeded, NotFound, RejectedMaterial
from ...store.models import IamUser, SshPublicKey
from ...store.repositories import Conflict, UnitOfWork
from ..api_call import ApiCall
from .common import markers, moment_key, named_user, no_such_user, target_user
from .key_material import read_ssh_key

MAX_KEYS_PER_USER = 5
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class OwnedSshKeys:
    user_name: str | None
    keys: Page[SshPublicKey]


def _duplicate() -> RejectedMaterial:
    return RejectedMaterial("DuplicateSSHPublicKey",
                            "The SSH public key is already associated with the specified IAM user.")


async def upload(call: ApiCall, user_name: str, body: str) -> SshPublicKey:
    material = read_ssh_key(body)
    async with call.unit() as uow:
        user = await named_user(call, uow, user_name)
        if not await uow.credential_owners.lock_user(user.id):
            raise no_such_user(user.name)
        owner = PrincipalRef.iam_user(user.id).key
        existing = await uow.ssh_keys.for_principal(owner)
        if any(k.fingerprint == material.fingerprint for k in existing):
            raise _duplicate()
        if len(existing) >= MAX_KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for KeysPerUser: {MAX_KEYS_PER_USER}")
        key = SshPublicKey(id="APKA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16)),
                           account_id=call.account_id, principal_key=owner, body=material.openssh,
                           fingerprint=material.fingerprint, status="Active", uploaded_at=call.now())
        try:
            await uow.ssh_keys.add(key)
        except Conflict:
            raise _duplicate() from None
        await call.record(uow, user=user.name, ssh_public_key_id=key.id, fingerprint=key.fingerprint)
    return key


async def _owned(call: ApiCall, uow: UnitOfWork, user_name: str, key_id: str) -> tuple[IamUser, SshPublicKey]:
    user = await named_user(call, uow, user_name)
    key = await uow.ssh_keys.get(key_id)
    if key is None or key.principal_key != PrincipalRef.iam_user(user.id).key:
        raise NotFound(f"The Public Key with id {key_id} cannot be found.")
    return user, key


async def get(call: ApiCall, user_name: str, key_id: str, encoding: str) -> tuple[SshPublicKey, str]:
    """The key and its body in `encoding` (SSH or PEM)."""
    async with call.unit() as uow:
        _, key = await _owned(call, uow, user_name, key_id)
    material = read_ssh_key(key.body)
    return key, (material.pem if encoding == "PEM" else material.openssh)


async def list_keys(call: ApiCall, user_name: str | None, request: PageRequest) -> OwnedSshKeys:
    """A page of the user's keys (at most 5: cut in memory), oldest first."""
    async with call.unit() as uow:
        user = await target_user(call, uow, user_name)
        owner = PrincipalRef.iam_user(user.id).key if user is not None else f"root:{call.account_id}"
        keys = await uow.ssh_keys.for_principal(owner) if user is not None else []  # the root user has none
    listed = markers(call, "ListSSHPublicKeys", owner).page_in_memory(
        keys, request, lambda k: (moment_key(k.uploaded_at), k.id))
    return OwnedSshKeys(user.name if user is not None else None, listed)


async def update(call: ApiCall, user_name: str, key_id: str, status: str) -> None:
    if status not in ("Active", "Inactive"):
        raise InvalidInput("status", f"An SSH public key can be made Active or Inactive, not {status}.")
    async with call.unit() as uow:
        user, key = await _owned(call, uow, user_name, key_id)
        key.status = status
        await call.record(uow, user=user.name, ssh_public_key_id=key_id, status=status)


async def delete(call: ApiCall, user_name: str, key_id: str) -> None:
    async with call.unit() as uow:
        user, key = await _owned(call, uow, user_name, key_id)
        await uow.ssh_keys.delete(key)
        await call.record(uow, user=user.name, ssh_public_key_id=key_id)
