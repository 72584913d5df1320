"""Setting and changing passwords under the account's policy, with reuse prevention."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from ..core import passwords as rules
from ..errors import PasswordRejected, PasswordsDiffer
from ..store.models import Account, IamUser
from ..store.repositories import UnitOfWork
from .context import Deps

HISTORY_KEEP = 24


def policy_of(account: Account) -> rules.PasswordPolicy:
    return rules.PasswordPolicy.from_dict(account.password_policy)


# argon2id runs in its own pool, one thread per CPU: the hashes never wait behind other blocking
# work, and each process keeps at most that many 19 MiB work areas.
_HASHING = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


async def hash_password(deps: Deps, password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, deps.hasher.hash, password)


async def verify_password(deps: Deps, stored: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, deps.hasher.verify, stored, password)


async def check_new_password(
    deps: Deps,
    uow: UnitOfWork,
    policy: rules.PasswordPolicy,
    principal_key: str,
    new_password: str,
    confirm: str | None,
    current_hash: str | None,
    *,
    must_differ: bool = False,
) -> str:
    """Validate a new password and return its hash; raises PasswordRejected / PasswordsDiffer.

    `must_differ`: refuse the current password even without reuse prevention (a forced change
    that accepted the same password would change nothing)."""
    if confirm is not None and new_password != confirm:
        raise PasswordsDiffer()
    problems = rules.violations(policy, new_password)
    if problems:
        raise PasswordRejected(problems)
    previous: list[str] = []
    if policy.reuse_prevention:
        previous = list(await uow.password_history.recent(principal_key, policy.reuse_prevention))
        if current_hash and current_hash not in previous:
            previous = [current_hash, *previous][: policy.reuse_prevention]
    if must_differ and current_hash and current_hash not in previous:
        previous.append(current_hash)
    for old in previous:
        if await verify_password(deps, old, new_password):
            raise PasswordRejected(["password.reused"])
    return await hash_password(deps, new_password)


async def store_root_password(deps: Deps, uow: UnitOfWork, account: Account, new_hash: str) -> None:
    now = deps.clock()
    await uow.password_history.add(f"root:{account.id}", account.root_password_hash, now)
    account.root_password_hash = new_hash
    account.root_password_changed_at = now
    await uow.accounts.save()


async def store_user_password(deps: Deps, uow: UnitOfWork, user: IamUser, new_hash: str,
                              reset_required: bool = False) -> None:
    now = deps.clock()
    if user.password_hash:
        await uow.password_history.add(f"user:{user.id}", user.password_hash, now)
    user.password_hash = new_hash
    user.password_changed_at = now
    user.password_reset_required = reset_required
    await uow.accounts.save()
