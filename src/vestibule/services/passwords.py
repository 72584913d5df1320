"""Setting and changing passwords under the account's policy, with reuse prevention and the breached-password
check."""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core import passwords as rules
from ..core.breached_passwords import BreachedListError
from ..errors import PasswordRejected, PasswordsDiffer
from ..store.models import Account, IamUser
from ..store.repositories import UnitOfWork
from .context import Deps

HISTORY_KEEP = 24
log = logging.getLogger("vestibule.passwords")

# The account's "refuse breached passwords" option for its IAM users: kept in `accounts.password_policy` beside
# the IAM policy's fields, which UpdateAccountPasswordPolicy replaces and DeleteAccountPasswordPolicy removes
# without touching it. On for every account that never set it (new accounts included).
BREACHED_OPTION = "refuse_breached"
ACCOUNT_REFUSES_BREACHED = True
_NOT_IAM_FIELDS = (BREACHED_OPTION, "maximum_length")


def policy_of(account: Account) -> rules.PasswordPolicy:
    """The IAM users' password rules: the account's IAM policy (defaults without one) and its breached option."""
    stored = dict(account.password_policy or {})
    stored.setdefault(BREACHED_OPTION, ACCOUNT_REFUSES_BREACHED)
    stored.pop("maximum_length", None)
    return rules.PasswordPolicy.from_dict(stored)


def has_iam_policy(account: Account) -> bool:
    """Whether GetAccountPasswordPolicy finds a policy: the breached option alone is none."""
    return any(key not in _NOT_IAM_FIELDS for key in account.password_policy or {})


def stored_policy(account: Account, policy: rules.PasswordPolicy | None,
                  refuse_breached: bool | None = None) -> dict[str, Any] | None:
    """What `accounts.password_policy` holds after the IAM policy becomes `policy` (None: removed): its IAM
    fields, and the breached option, `refuse_breached` when given, else the one the account had set (the
    policy's own `refuse_breached` is not the option: an API caller cannot see or send it)."""
    kept = (account.password_policy or {}).get(BREACHED_OPTION) if refuse_breached is None else refuse_breached
    out = {k: v for k, v in policy.to_dict().items() if k not in _NOT_IAM_FIELDS} if policy is not None else {}
    if kept is not None:
        out[BREACHED_OPTION] = bool(kept)
    return out or None


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
        raise PasswordRejected(problems, policy.maximum_length)
    if policy.refuse_breached and await is_breached(deps, new_password):
        raise PasswordRejected(["password.breached"])
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


async def is_breached(deps: Deps, password: str) -> bool:
    """The bundled list, then the operator's file (its few page reads off the event loop). A file that turns
    out malformed where a look-up reads it is logged and skipped: the bundled list still answers."""
    breached = deps.breached
    if breached.bundled.is_common(password):
        return True
    if breached.corpus is None:
        return False
    try:
        return await asyncio.get_running_loop().run_in_executor(None, breached.in_corpus, password)
    except BreachedListError as exc:
        log.error("breached_passwords_file: %s (only the bundled list was checked)", exc)
        return False


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
