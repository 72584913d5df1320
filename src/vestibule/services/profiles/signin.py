"""Sign-in of a personal profile: email -> password (+CAPTCHA when risky, "This is a trusted device") -> the
second factor when the profile has one, unless this browser is trusted -> signed in.

Throttled like the root sign-in (the typed address and the client; a CAPTCHA after a few failures), an unknown
address checked against the dummy hash and answered the same. The MFA step asks the profile's methods in turn
(`profile_methods`): TOTP now; a passkey or security key joins as one more method and ends through
`finish_after_mfa` like the TOTP code."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ...core import identifiers as ids
from ...core.flows.base import FlowConflict, FlowOutOfOrder
from ...core.flows.profile_signin import SPEC, ProfileSignIn, ProfileSignInFlow, ProfileSignInState
from ...core.principals import PrincipalKind, PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...errors import InvalidCode, InvalidCredentials, InvalidInput
from ...store.models import Profile
from ...store.repositories import UnitOfWork
from .. import audit, flows, mfa, webauthn
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import hash_password, verify_password
from ..principals import Principal, profile_principal
from ..signin.completion import SignedIn, complete_sign_in
from ..signin.gate import admit, record_failure, risk, succeeded
from ..signin.methods import (
    Attempt,
    Credential,
    Failed,
    PasswordMethod,
    SignInMethod,
    TotpMethod,
    Verified,
    WebAuthnMethod,
    ask_in_turn,
)
from . import trusted_browsers
from .accounts import principal_name, stored_email

State = ProfileSignInState
EVENT = "ProfileLogin"


@dataclass(frozen=True)
class Continue:
    """Another step: show the flow's page."""

    flow: ProfileSignInFlow


@dataclass(frozen=True)
class Done:
    """Signed in; `trust_token` is the new trusted-browser cookie when this sign-in made one."""

    signed_in: SignedIn
    trust_token: str | None = None


Outcome = Continue | Done


def signin_keys(email: str, client: Client) -> list[ThrottleKey]:
    """The typed address (known or not: throttled alike) and the client address."""
    return [ThrottleKey(Scope.PRINCIPAL, f"profile-email:{email}"), ThrottleKey(Scope.CLIENT, client.ip)]


def profile_methods(deps: Deps) -> tuple[SignInMethod, ...]:
    """The methods a profile sign-in asks, in turn: the password, a TOTP code, a passkey's or security key's answer
    (services/profiles/passkeys.py)."""

    async def check(stored: str | None, password: str) -> bool:
        return await verify_password(deps, stored, password)

    return (PasswordMethod(check), TotpMethod(deps), WebAuthnMethod(deps))


async def has_second_factor(uow: UnitOfWork, principal_key: str) -> bool:
    return bool(await uow.mfa.enabled_for(principal_key)) or await webauthn.has_credentials(uow, principal_key)


async def start(deps: Deps, client: Client, email: str) -> ProfileSignInFlow:
    try:
        normalized = stored_email(ids.normalize_email(email))
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None
    async with deps.store.unit() as uow:
        return await flows.create(uow, SPEC, client.browser_hash, deps.clock(), ProfileSignIn(normalized))


async def load(deps: Deps, client: Client, flow_id: str, expected: State | set[State]) -> ProfileSignInFlow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), expected)
    return flow


async def captcha_needed(deps: Deps, client: Client, flow: ProfileSignInFlow) -> bool:
    """Whether the password page shows a CAPTCHA now."""
    return (await risk(deps, signin_keys(flow.payload.email, client))).captcha_required


async def _profile(deps: Deps, email: str) -> Profile | None:
    async with deps.store.unit() as uow:
        return await uow.profiles.by_email(email)


async def submit_password(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str, password: str, *,
                          trust: bool = False, trust_token: str = "", captcha_answer: str = "",
                          previous_session: str = "") -> Outcome:
    flow = await load(deps, client, flow_id, State.PASSWORD)
    email = flow.payload.email
    if not email:  # a passkey sign-in's flow: no password is asked in it
        raise FlowOutOfOrder()
    profile = await _profile(deps, email)
    admission = await admit(deps, client, signin_keys(email, client), captcha, captcha_answer)
    ref = PrincipalRef.profile(profile.id) if profile else None
    attempt = Attempt(Credential.PASSWORD, password, ref, deps.clock(),
                      password_hash=profile.password_hash if profile else None)
    result = await ask_in_turn(profile_methods(deps), attempt, None)
    if not isinstance(result, Verified) or profile is None or ref is None:
        await record_failure(deps, client, kind=PrincipalKind.PROFILE, account_id=None,
                             principal=principal_name(profile.id) if profile else "", method="password",
                             reason=result.reason if isinstance(result, Failed) else "unknown email", event=EVENT)
        raise InvalidCredentials()
    await succeeded(deps, admission)
    rehashed = await hash_password(deps, password) if deps.hasher.needs_rehash(profile.password_hash) else None
    async with deps.store.unit() as uow:
        fresh = await uow.profiles.by_id(profile.id)
        if fresh is None:  # deleted meanwhile
            raise InvalidCredentials()
        if rehashed is not None:
            fresh.password_hash = rehashed
        principal = profile_principal(fresh)
        flow.payload = flow.payload.password_verified(ref, trust=trust, risky=admission.risky)
        if not await has_second_factor(uow, ref.key):
            # (nothing to skip: a ticked box makes no trusted browser, see trusted_browsers.py)
            return Done(await complete_sign_in(deps.session_ports, within=uow, principal=principal, client=client,
                                               method="password", mfa_used=False, flow=flow,
                                               previous_session=previous_session))
        if await trusted_browsers.matches(uow, fresh.id, trust_token, client, deps.clock()):
            return Done(await complete_sign_in(deps.session_ports, within=uow, principal=principal, client=client,
                                               method="password+trusted_browser", mfa_used=False, flow=flow,
                                               previous_session=previous_session))
        flow.advance(State.MFA)
        await flows.save(uow, flow)
    return Continue(flow)


async def _attempt_failed(deps: Deps, flow: ProfileSignInFlow) -> None:
    """After the flow's last attempt failed it expires (a lost race changes nothing: no attempt is left)."""
    if not flow.reserved_attempt_failed(deps.clock()):
        async with deps.store.unit() as uow:
            with contextlib.suppress(FlowConflict):
                await flows.save(uow, flow)


async def _principal(deps: Deps, ref: PrincipalRef) -> Principal:
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_id(ref.id)
    if profile is None:
        raise InvalidCredentials()
    return profile_principal(profile)


async def submit_mfa(deps: Deps, client: Client, flow_id: str, code: str, previous_session: str = "") -> Done:
    """A TOTP code from one of the profile's devices (one of the flow's attempts, and the one TOTP path's
    counters and audit)."""
    flow = await load(deps, client, flow_id, State.MFA)
    flow = await flows.reserve_attempt(deps.store, SPEC, flow, lambda again: again.check(
        client.browser_hash, deps.clock(), State.MFA))
    ref = flow.payload.verified_principal()
    principal = await _principal(deps, ref)
    who = mfa.CodeAttempt(ref.key, client, None, principal.arn, EVENT, "mfa")
    result = await ask_in_turn(profile_methods(deps), Attempt(Credential.TOTP, code.strip(), ref, deps.clock(),
                                                              code_attempt=who), None)
    if not isinstance(result, Verified):
        await _attempt_failed(deps, flow)
        raise InvalidCode()
    return await finish_after_mfa(deps, client, flow, principal, "password+mfa", previous_session)


async def finish_after_mfa(deps: Deps, client: Client, flow: ProfileSignInFlow, principal: Principal, method: str,
                           previous_session: str = "") -> Done:
    """The second factor passed: trust this browser when it was asked for, and sign in (one transaction)."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        token = await trusted_browsers.trust(uow, principal.ref.id, client, now) if flow.payload.trust else None
        if token is not None:
            await audit.record(uow, at=now, event="ProfileTrustedBrowserAdded", result="Success", client=client,
                               principal=principal.arn, method=method)
        signed_in = await complete_sign_in(deps.session_ports, within=uow, principal=principal, client=client,
                                           method=method, mfa_used=True, flow=flow, previous_session=previous_session)
    return Done(signed_in, token)
