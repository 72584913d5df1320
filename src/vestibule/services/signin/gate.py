"""Before a password is checked: throttling and the CAPTCHA; after a failure: the counters and the audit event."""

from __future__ import annotations

from ...core import identifiers as ids
from ...core import throttle as throttle_rules
from ...errors import CaptchaInvalid, CaptchaRequired, TooManyAttempts
from ..audit import record
from ..captcha import CaptchaService
from ..context import Client, Deps


def root_keys(email: str, client: Client) -> list[str]:
    return [f"root:{email}", f"ip:{client.ip}"]


def iam_keys(account_ref: str, username: str, client: Client) -> list[str]:
    return [f"iam:{ids.parse_account_reference(account_ref)}:{username.lower()}", f"ip:{client.ip}"]


async def risk(deps: Deps, keys: list[str]) -> throttle_rules.ThrottleDecision:
    return throttle_rules.decide(await deps.throttle.states(keys), deps.clock())


async def admit(deps: Deps, client: Client, keys: list[str], captcha: CaptchaService, answer: str) -> tuple[bool, bool]:
    """Raise while throttled or when a required CAPTCHA is missing or wrong.

    Returns (risk raised, the identifier has failures on record to clear after a success)."""
    states = await deps.throttle.states(keys)
    decision = throttle_rules.decide(states, deps.clock())
    if decision.retry_after > 0:
        raise TooManyAttempts(decision.retry_after)
    if decision.captcha_required:
        if not answer.strip():
            raise CaptchaRequired()
        if not await captcha.check(client.browser_hash, answer):
            raise CaptchaInvalid()
    return decision.captcha_required, states[0].failures > 0


async def record_failure(deps: Deps, client: Client, keys: list[str], *, account_id: str | None, principal: str,
                         method: str, reason: str, mfa_used: bool = False) -> None:
    now = deps.clock()
    await deps.throttle.fail(keys, now)
    async with deps.store.unit() as uow:
        await record(uow, at=now, event="ConsoleLogin", result="Failure", client=client, account_id=account_id,
                     principal=principal, method=method, mfa_used=mfa_used, reason=reason)
