"""Closing, reopening, suspending and reinstating an account.

`accounts.status` says what an account is now: `active`, `closed` or `suspended`; `account_lifecycle` says
since when and why. A closed account can be reopened by its root user for `REOPEN_WINDOW` after it was
closed, then it stays closed for good. Its root email is never freed (the row and its unique address stay),
so no new account can take it. Closing or suspending ends every session of the account and tells every
node's key cache to forget (the `account` topic), so sign-in, access keys, temporary credentials and
sessions all stop at their next request."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import StrEnum

from ..core import identifiers as ids
from ..core.outbox import NOTICE_LIFETIME, MailKind
from ..core.principals import PrincipalRef
from ..core.throttle import Scope, ThrottleKey
from ..core.tokens import hash_token, new_numeric_code, token_matches
from ..errors import CodeExpired, InvalidCode, InvalidInput, NotFound, TooManyAttempts, VestibuleError
from ..store.models import Account
from ..store.repositories import UnitOfWork
from . import audit, mail_templates, mfa, outbox
from .context import Client, Deps
from .invalidation import ACCOUNT, SESSION
from .throttling import guess

REOPEN_WINDOW = 90 * 86400
CLOSURE_CODE_LIFETIME = 600
CLOSURE_CODE_ATTEMPTS = 5
CLOSURE_CODE_RESEND_WAIT = 60  # seconds between two closure-code mails of one account


def _closure_mail_key(account_id: str) -> ThrottleKey:
    """The budget of closure-code mails of one account (every node counts on it): 5 freely, then a growing
    wait, none for an hour after 10 in a day (the one-time-code rule, as the root email change's)."""
    return ThrottleKey(Scope.CODES, f"closure-code-mail:{account_id}")
ACTIVE, CLOSED, SUSPENDED = "active", "closed", "suspended"


class Standing(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"  # its root user may still reopen it
    CLOSED_FOR_GOOD = "closed_for_good"


@dataclass(frozen=True)
class AccountState:
    account_id: str
    standing: Standing
    closed_at: float | None = None
    contact: str | None = None  # suspended: whom its users contact (the operator's choice)

    @property
    def reopen_until(self) -> float | None:
        return self.closed_at + REOPEN_WINDOW if self.closed_at is not None else None


class AccountUnavailable(VestibuleError):
    """The password was right but the account is suspended or closed: the page says so (only to someone
    who knew the password)."""

    code = "lifecycle.unavailable"

    def __init__(self, state: AccountState) -> None:
        super().__init__(state.standing.value)
        self.state = state


class WrongStanding(VestibuleError):
    """An operator's or a root user's change that does not apply to the account as it is now."""

    code = "lifecycle.wrong_standing"


async def state_of(uow: UnitOfWork, account: Account, now: float) -> AccountState:
    if account.status == ACTIVE:
        return AccountState(account.id, Standing.ACTIVE)
    row = await uow.lifecycle.get(account.id)
    if account.status == SUSPENDED:
        return AccountState(account.id, Standing.SUSPENDED, contact=row.suspension_contact if row else None)
    closed_at = row.closed_at if row is not None else None
    if closed_at is not None and now < closed_at + REOPEN_WINDOW:
        return AccountState(account.id, Standing.CLOSED, closed_at)
    return AccountState(account.id, Standing.CLOSED_FOR_GOOD, closed_at)


async def is_usable(uow: UnitOfWork, account_id: str) -> bool:
    account = await uow.accounts.get(account_id)
    return account is not None and account.status == ACTIVE


def _ended_everywhere(deps: Deps, uow: UnitOfWork, account_id: str, ended: list[str]) -> None:
    """Once committed: every node forgets the account's cached keys and each ended session."""
    for id_hash in ended:
        uow.after_commit(functools.partial(deps.bus.publish, SESSION, id_hash))
    uow.after_commit(functools.partial(deps.bus.publish, ACCOUNT, account_id))


async def _notice(deps: Deps, uow: UnitOfWork, account: Account, client: Client, name: str, *, by_root: bool,
                  **values: str | int) -> None:
    """A notice to the root email: in the page's language when the root user caused it (kept), else (an
    operator's command) in the root user's kept language."""
    mail = await mail_templates.compose(deps, uow, name, to=account.root_email, language=client.language,
                                        principal=PrincipalRef.root(account.id).key, remember=by_root,
                                        account_id=ids.format_account_id(account.id), **values)
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.ACCOUNT_NOTICE, lifetime=NOTICE_LIFETIME)


# ---- closing (the root user, on the console) -------------------------------------------------------


async def close(deps: Deps, uow: UnitOfWork, account: Account, client: Client, *, method: str) -> None:
    """The account becomes closed now: every session ends, keys stop working, the root email is told."""
    if account.status != ACTIVE:
        raise WrongStanding("only an active account can be closed")
    now = deps.clock()
    row = await uow.lifecycle.get_or_add(account.id)
    row.closed_at = now
    row.closure_code_hash = row.closure_code_expires_at = row.closure_code_session = None
    row.closure_code_attempts = 0
    account.status = CLOSED
    await uow.accounts.save()
    _ended_everywhere(deps, uow, account.id, await uow.lifecycle.end_sessions(account.id, now))
    await audit.record(uow, at=now, event="AccountClosed", result="Success", client=client, account_id=account.id,
                       principal=ids.root_arn(account.id), method=method)
    days = REOPEN_WINDOW // 86400
    await _notice(deps, uow, account, client, "account_closed", by_root=True, days=days)


async def closure_needs_code(deps: Deps, principal_key: str) -> bool:
    """True when the root user has no MFA device: a code mailed to the root email confirms the closure."""
    async with deps.store.unit() as uow:
        return not await uow.mfa.enabled_for(principal_key)


async def close_with_mfa(deps: Deps, client: Client, account_id: str, code: str) -> None:
    """After the password was confirmed again: the root user's MFA code, then the closure."""
    who = mfa.CodeAttempt(f"root:{account_id}", client, account_id, ids.root_arn(account_id), "CloseAccount",
                          "console")
    if await mfa.verify_principal_code(deps, who, code.strip()) is None:
        raise InvalidCode()
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFound("no such account")
        await close(deps, uow, account, client, method="password+mfa")


async def send_closure_code(deps: Deps, client: Client, account_id: str, session_hash: str) -> None:
    """After the password was confirmed again (no MFA): a 6-digit code mailed to the root email, valid in
    this session for `CLOSURE_CODE_LIFETIME`, `CLOSURE_CODE_ATTEMPTS` tries (a resend keeps the tries used).
    `TooManyAttempts` within `CLOSURE_CODE_RESEND_WAIT` of the last mail or past the account's mail budget."""
    code = new_numeric_code()
    now = deps.clock()
    async with deps.store.unit() as uow:  # read only: the throttle below may use the same database
        previous = await uow.lifecycle.get(account_id)
        expires_at = previous.closure_code_expires_at if previous is not None else None
    if expires_at is not None and now < expires_at:
        sent_at = expires_at - CLOSURE_CODE_LIFETIME
        if now - sent_at < CLOSURE_CODE_RESEND_WAIT:
            raise TooManyAttempts(max(1, math.ceil(sent_at + CLOSURE_CODE_RESEND_WAIT - now)))
    refused = await deps.throttle.reserve([_closure_mail_key(account_id)], now, captcha_solved=False)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        if account is None or account.status != ACTIVE:
            raise WrongStanding("only an active account can be closed")
        row = await uow.lifecycle.get_or_add(account_id)
        outstanding = (row.closure_code_hash is not None and row.closure_code_expires_at is not None
                       and now < row.closure_code_expires_at)
        # a new code keeps the tries the outstanding one used: a resend never buys more guesses
        attempts = row.closure_code_attempts if outstanding else 0
        row.closure_code_hash, row.closure_code_expires_at = hash_token(code), now + CLOSURE_CODE_LIFETIME
        row.closure_code_session, row.closure_code_attempts = session_hash, attempts
        await uow.lifecycle.save()
        await audit.record(uow, at=now, event="AccountClosureCodeSent", result="Success", client=client,
                           account_id=account_id, principal=ids.root_arn(account_id), method="email_code")
        mail = await mail_templates.compose(deps, uow, "account_closure_code", to=account.root_email,
                                            language=client.language, principal=PrincipalRef.root(account_id).key,
                                            remember=True, account_id=ids.format_account_id(account_id), code=code)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.ACCOUNT_CLOSURE_CODE,
                             lifetime=CLOSURE_CODE_LIFETIME)


async def close_with_code(deps: Deps, client: Client, account_id: str, session_hash: str, code: str) -> None:
    """The mailed code, in the session that asked for it: one of its few attempts is taken first, and one
    guess on the root user's one-time-code counter (shared with sign-in)."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        row = await uow.lifecycle.get(account_id)
        if row is None or row.closure_code_hash is None or row.closure_code_session != session_hash:
            raise InvalidInput("verification_code", "Ask for a new code.")
        if row.closure_code_expires_at is None or now >= row.closure_code_expires_at:
            raise CodeExpired()
        if row.closure_code_attempts >= CLOSURE_CODE_ATTEMPTS:
            raise TooManyAttempts(int(row.closure_code_expires_at - now))
        row.closure_code_attempts += 1
        stored = row.closure_code_hash
        await uow.lifecycle.save()

    async def check() -> bool | None:
        return True if token_matches(code.strip(), stored) else None

    if await guess(deps.throttle, deps.clock, mfa.code_keys(f"root:{account_id}"), check) is None:
        async with deps.store.unit() as uow:
            await audit.record(uow, at=deps.clock(), event="AccountClosed", result="Failure", client=client,
                               account_id=account_id, principal=ids.root_arn(account_id), method="email_code",
                               reason="wrong verification code")
        raise InvalidCode()
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFound("no such account")
        await close(deps, uow, account, client, method="password+email_code")


# ---- reopening (the root user, at sign-in) ---------------------------------------------------------


async def reopen(deps: Deps, uow: UnitOfWork, account: Account, client: Client, *, method: str) -> None:
    state = await state_of(uow, account, deps.clock())
    if state.standing is not Standing.CLOSED:
        raise AccountUnavailable(state)
    row = await uow.lifecycle.get_or_add(account.id)
    row.closed_at = None
    account.status = ACTIVE
    await uow.accounts.save()
    uow.after_commit(functools.partial(deps.bus.publish, ACCOUNT, account.id))  # a cached refusal is forgotten
    now = deps.clock()
    await audit.record(uow, at=now, event="AccountReopened", result="Success", client=client, account_id=account.id,
                       principal=ids.root_arn(account.id), method=method)
    await _notice(deps, uow, account, client, "account_reopened", by_root=True)


# ---- suspending and reinstating (the operator, on the command line) --------------------------------


async def _operated(uow: UnitOfWork, account_id: str) -> Account:
    account = await uow.accounts.get(ids.parse_account_reference(account_id))
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    return account


async def suspend(deps: Deps, account_id: str, *, reason: str | None, contact: str | None,
                  client: Client = Client()) -> AccountState:
    if contact is not None:
        try:
            contact = ids.normalize_email(contact)
        except ids.InvalidIdentifier as exc:
            raise InvalidInput("contact", str(exc)) from None
    if reason is not None and len(reason) > 1000:
        raise InvalidInput("reason", "The reason is at most 1000 characters.")
    now = deps.clock()
    async with deps.store.unit() as uow:
        account = await _operated(uow, account_id)
        if account.status != ACTIVE:
            raise WrongStanding(f"the account is {account.status}, not active")
        row = await uow.lifecycle.get_or_add(account.id)
        row.suspended_at, row.suspension_reason, row.suspension_contact = now, reason, contact
        account.status = SUSPENDED
        await uow.accounts.save()
        _ended_everywhere(deps, uow, account.id, await uow.lifecycle.end_sessions(account.id, now))
        await audit.record(uow, at=now, event="AccountSuspended", result="Success", client=client,
                           account_id=account.id, principal="operator", method="cli", reason=reason or "",
                           contact=contact or "")
        await _notice(deps, uow, account, client, "account_suspended", by_root=False, contact=contact or "")
        return await state_of(uow, account, now)


async def reinstate(deps: Deps, account_id: str, *, client: Client = Client()) -> AccountState:
    now = deps.clock()
    async with deps.store.unit() as uow:
        account = await _operated(uow, account_id)
        if account.status != SUSPENDED:
            raise WrongStanding(f"the account is {account.status}, not suspended")
        row = await uow.lifecycle.get_or_add(account.id)
        row.suspended_at = row.suspension_reason = row.suspension_contact = None
        account.status = ACTIVE
        await uow.accounts.save()
        uow.after_commit(functools.partial(deps.bus.publish, ACCOUNT, account.id))
        await audit.record(uow, at=now, event="AccountReinstated", result="Success", client=client,
                           account_id=account.id, principal="operator", method="cli")
        await _notice(deps, uow, account, client, "account_reinstated", by_root=False)
        return await state_of(uow, account, now)


async def describe(deps: Deps, account_id: str) -> dict[str, str | float | None]:
    """The operator's view (`vestibule account status`): standing, since when, reason and contact."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        account = await _operated(uow, account_id)
        state = await state_of(uow, account, now)
        row = await uow.lifecycle.get(account.id)
    return {"AccountId": account.id, "Status": state.standing.value,
            "ClosedAt": state.closed_at, "ReopenUntil": state.reopen_until,
            "SuspendedAt": row.suspended_at if row else None,
            "SuspensionReason": row.suspension_reason if row else None, "Contact": state.contact}


async def reopen_until(deps: Deps, account_id: str) -> float | None:
    """Until when a closed account can be reopened (for the reopen page)."""
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        return (await state_of(uow, account, deps.clock())).reopen_until if account is not None else None
