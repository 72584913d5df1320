"""What root and IAM console sign-in share: the flow, the methods, the MFA and new-password steps."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from ...core.flows.base import FlowConflict
from ...core.flows.console_signin import SPEC, ConsoleSignInFlow, ConsoleSignInState
from ...errors import InvalidCode, InvalidCredentials
from .. import audit, flows, metrics, mfa, sessions, webauthn
from ..context import Client, Deps
from ..passwords import check_new_password, policy_of, store_user_password, verify_password
from ..principals import Principal, load_ref
from .completion import SignedIn, complete_sign_in
from .methods import (
    Attempt,
    Credential,
    EmailCodeMethod,
    Failed,
    PasswordMethod,
    SignInMethod,
    TotpMethod,
    Verified,
    WebAuthnAttempt,
    WebAuthnMethod,
    ask_in_turn,
)
from .standing import load_for_flow, to_reopen_page

State = ConsoleSignInState


@dataclass(frozen=True)
class Continue:
    """The sign-in needs another step: show the flow's page."""

    flow: ConsoleSignInFlow


Outcome = Continue | SignedIn


def console_methods(deps: Deps) -> tuple[SignInMethod, ...]:
    """The methods a console sign-in asks, in turn."""

    async def check(stored: str | None, password: str) -> bool:
        return await verify_password(deps, stored, password)

    return (PasswordMethod(check), EmailCodeMethod(), TotpMethod(deps), WebAuthnMethod(deps))


def failure_reason(result: object, default: str) -> str:
    return result.reason if isinstance(result, Failed) else default


async def load_flow(deps: Deps, client: Client, flow_id: str, expected: State | set[State]) -> ConsoleSignInFlow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), expected)
    return flow


async def reserve_flow_attempt(deps: Deps, client: Client, flow: ConsoleSignInFlow | str,
                               expected: State) -> ConsoleSignInFlow:
    """The flow (or its ID), with one of its attempts counted before a code is checked (compare-and-set)."""
    if isinstance(flow, str):
        flow = await load_flow(deps, client, flow, expected)
    return await flows.reserve_attempt(deps.store, SPEC, flow,
                                       lambda again: again.check(client.browser_hash, deps.clock(), expected))


async def attempt_failed(deps: Deps, flow: ConsoleSignInFlow) -> None:
    """After the flow's last attempt failed it expires (a lost race changes nothing: no attempt is left)."""
    if not flow.reserved_attempt_failed(deps.clock()):
        async with deps.store.unit() as uow:
            with contextlib.suppress(FlowConflict):
                await flows.save(uow, flow)


async def submit_mfa(deps: Deps, client: Client, flow_id: str, code: str, previous_session: str = "") -> Outcome:
    flow = await reserve_flow_attempt(deps, client, flow_id, State.MFA)
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        loaded = await load_for_flow(uow, ref, flow.payload.reopening)
    if loaded is None:
        raise InvalidCredentials()
    principal = loaded.principal
    who = mfa.CodeAttempt(principal.key, client, principal.account_id, principal.arn, "ConsoleLogin", "mfa")
    result = await ask_in_turn(console_methods(deps), Attempt(Credential.TOTP, code, ref, deps.clock(),
                                                              code_attempt=who), None)
    if not isinstance(result, Verified):
        await attempt_failed(deps, flow)
        raise InvalidCode()
    return await _after_mfa(deps, client, flow, principal, "password+mfa", previous_session)


async def _after_mfa(deps: Deps, client: Client, flow: ConsoleSignInFlow, principal: Principal, method: str,
                     previous_session: str) -> Outcome:
    """The MFA step passed (a TOTP code or a WebAuthn assertion): reopen page, forced new password, or done."""
    if flow.payload.reopening:
        flow.payload = replace(flow.payload, mfa_used=True)
        return Continue(await to_reopen_page(deps, flow))
    if flow.payload.must_change_password:
        flow.payload = replace(flow.payload, mfa_used=True)
        flow.advance(State.NEW_PASSWORD)
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)
        return Continue(flow)
    return await complete_sign_in(deps.session_ports, principal=principal, client=client, method=method,
                                  mfa_used=True, flow=flow, previous_session=previous_session)


@dataclass(frozen=True)
class MfaChoices:
    """What the MFA page offers: a TOTP code when the principal has a device; a passkey or security key (the
    options for navigator.credentials.get) when it has one."""

    totp: bool
    webauthn_options: str | None


async def mfa_choices(deps: Deps, flow: ConsoleSignInFlow) -> MfaChoices:
    """With a WebAuthn credential, the flow's pending challenge again, or a new one kept hashed in the flow
    (a GET changes nothing while a challenge is pending: a reload or second tab keeps the first page's)."""
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        totp = bool(await uow.mfa.enabled_for(ref.key))
        if not await webauthn.has_credentials(uow, ref.key):
            return MfaChoices(True, None)  # only TOTP (or a device removed meanwhile: the code form anyway)
    if (options := await webauthn.kept_challenge(deps, flow, ref.key)) is None:
        return MfaChoices(True, None)  # another request changed the flow meanwhile
    return MfaChoices(totp, options)


async def submit_webauthn(deps: Deps, client: Client, flow_id: str, response: str,
                          previous_session: str = "") -> Outcome:
    """The MFA step with a passkey or security key: the flow's challenge is spent (cleared, and one of the flow's
    attempts counted, in one compare-and-set save) before the answer is checked, so it is answered once."""
    flow = await load_flow(deps, client, flow_id, State.MFA)
    pending = flow.payload.webauthn
    flow.payload = replace(flow.payload, webauthn=None)
    flow.reserve_attempt()
    async with deps.store.unit() as uow:
        await flows.save(uow, flow)  # FlowConflict: another answer raced this one
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        loaded = await load_for_flow(uow, ref, flow.payload.reopening)
    if loaded is None:
        raise InvalidCredentials()
    principal = loaded.principal
    context = webauthn.AssertionContext(principal.key, client, "ConsoleLogin", "webauthn", principal.account_id,
                                        principal.arn)
    attempt = Attempt(Credential.WEBAUTHN, response, ref, deps.clock(), webauthn=WebAuthnAttempt(pending, context))
    result = await ask_in_turn(console_methods(deps), attempt, None)
    if not isinstance(result, Verified):
        metrics.record_sign_in(ref.kind, "webauthn", success=False)
        await attempt_failed(deps, flow)
        raise webauthn.WebAuthnRejected()
    return await _after_mfa(deps, client, flow, principal, "password+webauthn", previous_session)


async def submit_new_password(deps: Deps, client: Client, flow_id: str, new_password: str, confirm: str,
                              previous_session: str = "") -> SignedIn:
    flow = await load_flow(deps, client, flow_id, State.NEW_PASSWORD)
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        loaded = await load_ref(uow, ref)
        if loaded is None or loaded.user is None:
            raise InvalidCredentials()
        principal, account, user = loaded.principal, loaded.account, loaded.user
        new_hash = await check_new_password(deps, uow, policy_of(account), principal.key, new_password, confirm,
                                            user.password_hash, must_differ=True)
        await store_user_password(deps, uow, user, new_hash, reset_required=False)
        await sessions.end_all(uow, deps.session_ports, principal.key, deps.clock())
        await audit.record(uow, at=deps.clock(), event="PasswordChanged", result="Success", client=client,
                           account_id=account.id, principal=principal.arn, method="forced_change")
        mfa_used = flow.payload.mfa_used
        return await complete_sign_in(deps.session_ports, within=uow, principal=principal, client=client,
                                      method="password+mfa" if mfa_used else "password", mfa_used=mfa_used,
                                      flow=flow, previous_session=previous_session)
