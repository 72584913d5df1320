"""Before a password is checked: the attempt is reserved on its counters (throttling, the CAPTCHA); after the
check: a right password takes it back, a wrong one leaves it counted and is audited.

Keys: the principal (`root:<account ID>`, `user:<account ID>:<name>`; for unknown ones what was typed, so
unknown and known are throttled alike), the account (every IAM user of it together; an alias counts as its
account ID) and the client address."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.principals import PrincipalKind
from ...core.throttle import Scope, ThrottleDecision, ThrottleKey, decide, wait_without_captcha
from ...errors import CaptchaInvalid, CaptchaRequired, TooManyAttempts
from ...store.sql.hot import ThrottleSettle
from .. import metrics
from ..audit import record
from ..captcha import CaptchaService
from ..context import Client, Deps


def root_keys(account_id: str | None, email: str, client: Client) -> list[ThrottleKey]:
    """The root user of `account_id`; `email` (normalised) when no active account has that address."""
    who = f"root:{account_id}" if account_id else f"root-email:{email}"
    return [ThrottleKey(Scope.PRINCIPAL, who), ThrottleKey(Scope.CLIENT, client.ip)]


def iam_keys(account: str, username: str, client: Client) -> list[ThrottleKey]:
    """`account`: the account ID when the reference names an account, else the reference as typed."""
    return [ThrottleKey(Scope.PRINCIPAL, f"user:{account}:{username.lower()}"), ThrottleKey(Scope.ACCOUNT, account),
            ThrottleKey(Scope.CLIENT, client.ip)]


def password_keys(account_id: str, username: str, client: Client) -> list[ThrottleKey]:
    """An IAM user's password checked outside sign-in (ChangePassword): the user's own counter, as at sign-in,
    and the client address."""
    principal, _account, address = iam_keys(account_id, username, client)
    return [principal, address]


async def risk(deps: Deps, keys: list[ThrottleKey]) -> ThrottleDecision:
    """Whether an attempt now would need a CAPTCHA or a wait (for the page, before any attempt)."""
    now = deps.clock()
    states = await deps.throttle.states(keys, now)
    return decide([(k.rule, s) for k, s in zip(keys, states, strict=True)], now)


@dataclass(frozen=True)
class Admission:
    """A reserved password attempt: counted as a failure on `keys` until `succeeded` takes it back."""

    keys: tuple[ThrottleKey, ...]
    risky: bool  # a CAPTCHA was needed: risk is raised


async def admit(deps: Deps, client: Client, keys: list[ThrottleKey], captcha: CaptchaService,
                answer: str) -> Admission:
    """Reserve the attempt, or raise while throttled or when a required CAPTCHA is missing or wrong."""
    refused = await deps.throttle.reserve(keys, deps.clock(), captcha_solved=False)
    if refused is None:
        metrics.record_throttle("password", "allowed")
        return Admission(tuple(keys), risky=False)
    if refused.retry_after > 0:
        metrics.record_throttle("password", "delayed")
        raise TooManyAttempts(refused.retry_after)
    metrics.record_throttle("password", "captcha")
    if not answer.strip():
        raise CaptchaRequired()
    if not await captcha.check(client.browser_hash, answer):
        raise CaptchaInvalid()
    refused = await deps.throttle.reserve(keys, deps.clock(), captcha_solved=True)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    return Admission(tuple(keys), risky=True)


async def admit_without_captcha(deps: Deps, keys: list[ThrottleKey]) -> Admission:
    """For a caller that cannot be shown a CAPTCHA (an API call): a required CAPTCHA is a refusal, until the
    counts asking for it are forgotten."""
    now = deps.clock()
    refused = await deps.throttle.reserve(keys, now, captcha_solved=False)
    metrics.record_throttle("password", "allowed" if refused is None else "delayed")
    if refused is not None:
        raise TooManyAttempts(max(1, wait_without_captcha(keys, await deps.throttle.states(keys, now), now)))
    return Admission(tuple(keys), risky=False)


async def succeeded(deps: Deps, admission: Admission) -> None:
    """The password was right: the principal's count is cleared (it proved itself); the account and address
    counters only take this attempt back, so a user's own sign-ins cannot wash out an attacker's failures."""
    clear = [k for k in admission.keys if k.scope is Scope.PRINCIPAL]
    await deps.throttle.settle(clear, [k for k in admission.keys if k.scope is not Scope.PRINCIPAL])


def success_settlement(deps: Deps, admission: Admission) -> ThrottleSettle | None:
    """`succeeded` as a change the sign-in's last transaction makes too (`complete_sign_in(settle=...)`),
    when the counters are in the database; None when the caller must await `succeeded` instead."""
    clear = [k for k in admission.keys if k.scope is Scope.PRINCIPAL]
    return deps.throttle.settlement(clear, [k for k in admission.keys if k.scope is not Scope.PRINCIPAL])


async def record_failure(deps: Deps, client: Client, *, kind: PrincipalKind, account_id: str | None, principal: str,
                         method: str, reason: str, mfa_used: bool = False, event: str = "ConsoleLogin") -> None:
    """The audit event of a failed attempt (already counted when it was reserved); `kind`: who was signing in
    (root, IAM user, directory user, profile), also when no such principal exists; `event`: a personal profile's
    is ProfileLogin."""
    metrics.record_sign_in(kind, method, success=False)
    async with deps.store.unit() as uow:
        await record(uow, at=deps.clock(), event=event, result="Failure", client=client,
                     account_id=account_id, principal=principal, method=method, mfa_used=mfa_used, reason=reason)
