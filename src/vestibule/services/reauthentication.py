"""Re-authentication in a signed-in session: the password is asked again before a credential is added or removed
(an MFA device, an access key, the password itself), so a stolen session cookie alone cannot enrol its own
device or mint keys.

The password check goes through the sign-in throttle on the principal's own sign-in counter and the client
address (`signin.gate`): guesses here and at sign-in share one budget, with the same CAPTCHA and delays. A
success is recorded on the session with the browser it was typed in; for `FRESH_SECONDS` after it that session,
in that browser only, may change credentials without being asked again (a copy of the session cookie used
elsewhere is asked). Signing in does not count: only the prompt sets it."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.throttle import ThrottleDecision, ThrottleKey
from ..errors import InvalidCredentials, ReauthenticationRequired
from . import audit
from .captcha import CaptchaService
from .context import Client, Deps
from .passwords import verify_password
from .principals import Principal
from .principals import load as load_principal
from .sessions import SessionView
from .signin import gate

FRESH_SECONDS = 300
EVENT = "ConsoleReauthentication"


@dataclass(frozen=True)
class Reauthenticated:
    """What a credential change asks for: this session confirmed its password at `at` (now, or recently)."""

    session_hash: str
    at: float


def is_fresh(session: SessionView, client: Client, now: float) -> bool:
    at = session.reauthenticated_at
    return (at is not None and 0 <= now - at < FRESH_SECONDS and bool(client.browser_hash)
            and session.reauthenticated_browser == client.browser_hash)


def _keys(principal: Principal, client: Client) -> list[ThrottleKey]:
    if principal.kind == "root":
        return gate.root_keys(principal.account_id, "", client)
    return gate.password_keys(principal.account_id, principal.name, client)


async def risk(deps: Deps, principal: Principal, client: Client) -> ThrottleDecision:
    """Whether a password typed now would need a CAPTCHA (or a wait): for the prompt, before any attempt."""
    return await gate.risk(deps, _keys(principal, client))


async def require(deps: Deps, client: Client, principal: Principal, session: SessionView, password: str,
                  captcha: CaptchaService, captcha_answer: str, *, action: str) -> Reauthenticated:
    """A submitted password is always checked (throttled, audited, recorded on the session when right); with
    none, a confirmation in the last `FRESH_SECONDS` is enough. Raises ReauthenticationRequired (ask for the
    password), InvalidCredentials (wrong; counted), CaptchaRequired, CaptchaInvalid or TooManyAttempts."""
    now = deps.clock()
    if not password:
        if is_fresh(session, client, now) and session.reauthenticated_at is not None:
            return Reauthenticated(session.id_hash, session.reauthenticated_at)
        raise ReauthenticationRequired()
    await confirm_password(deps, client, principal, session.id_hash, password, captcha, captcha_answer,
                           action=action)
    return Reauthenticated(session.id_hash, deps.clock())


async def confirm_password(deps: Deps, client: Client, principal: Principal, session_hash: str, password: str,
                           captcha: CaptchaService, captcha_answer: str, *, action: str) -> None:
    """Check the principal's password as sign-in does (reserved on its counters first); a right one marks the
    session re-authenticated now."""
    admission = await gate.admit(deps, client, _keys(principal, client), captcha, captcha_answer)
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, principal.key)
    if not await verify_password(deps, loaded.password_hash if loaded is not None else None, password):
        async with deps.store.unit() as uow:
            await audit.record(uow, at=deps.clock(), event=EVENT, result="Failure", client=client,
                               account_id=principal.account_id, principal=principal.arn, method="password",
                               reason="wrong password", action=action)
        raise InvalidCredentials()
    await gate.succeeded(deps, admission)
    now = deps.clock()
    async with deps.store.unit() as uow:
        await uow.sessions.mark_reauthenticated(session_hash, now, client.browser_hash)
        await audit.record(uow, at=now, event=EVENT, result="Success", client=client,
                           account_id=principal.account_id, principal=principal.arn, method="password",
                           action=action)
