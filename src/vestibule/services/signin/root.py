"""Root user console sign-in: email -> password (+CAPTCHA when risky) -> MFA code, or a mailed
one-time code when the browser is new to the user or risk is raised -> session."""

from __future__ import annotations

from dataclasses import replace

from ...core import identifiers as ids
from ...core.attempt_origin import describe as describe_origin
from ...core.flows.base import FlowOutOfOrder
from ...core.flows.console_signin import SPEC, Audience, ConsoleSignIn, ConsoleSignInFlow
from ...core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, EmailCode
from ...core.outbox import MailKind
from ...core.principals import PrincipalKind, PrincipalRef
from ...core.throttle import ThrottleDecision
from ...core.tokens import hash_token, new_numeric_code
from ...errors import CodeExpired, InvalidCode, InvalidCredentials, InvalidInput, TooManyAttempts
from ...store.models import Account
from ...store.repositories import UnitOfWork
from .. import flows, mail_templates, mfa, outbox, webauthn
from ..account_lifecycle import Standing
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import hash_password
from ..principals import root_principal
from ..throttling import guess
from .completion import complete_sign_in
from .gate import admit, record_failure, risk, root_keys, succeeded
from .methods import Attempt, Credential, Verified, ask_in_turn
from .standing import load_for_flow, refuse_unless_active, to_reopen_page
from .steps import (
    Continue,
    Outcome,
    State,
    attempt_failed,
    console_methods,
    failure_reason,
    load_flow,
    reserve_flow_attempt,
)


async def start_root(deps: Deps, client: Client, email: str) -> ConsoleSignInFlow:
    try:
        normalized = ids.normalize_email(email)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None
    async with deps.store.unit() as uow:
        return await flows.create(uow, SPEC, client.browser_hash, deps.clock(),
                                  ConsoleSignIn(Audience.ROOT, email=normalized))


async def _account(deps: Deps, email: str) -> Account | None:
    """The account of this root email, whatever its status (a closed or suspended one is refused only after
    the right password, so a stranger sees the same answer for every address)."""
    async with deps.store.unit() as uow:
        return await uow.accounts.by_email(email)


async def root_risk(deps: Deps, client: Client, email: str) -> ThrottleDecision:
    """Whether the root password page should show a CAPTCHA now."""
    account = await _account(deps, email)
    return await risk(deps, root_keys(account.id if account else None, email, client))


async def submit_root_password(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str,
                               password: str, captcha_answer: str = "", previous_session: str = "") -> Outcome:
    flow = await load_flow(deps, client, flow_id, State.PASSWORD)
    if flow.payload.audience != Audience.ROOT:
        raise FlowOutOfOrder()
    email = flow.payload.email
    account = await _account(deps, email)
    admission = await admit(deps, client, root_keys(account.id if account else None, email, client), captcha,
                            captcha_answer)
    risky = admission.risky
    ref = PrincipalRef.root(account.id) if account else None
    attempt = Attempt(Credential.PASSWORD, password, ref, deps.clock(),
                      password_hash=account.root_password_hash if account else None)
    result = await ask_in_turn(console_methods(deps), attempt, None)
    if not isinstance(result, Verified) or account is None:
        await record_failure(deps, client, kind=PrincipalKind.ROOT, account_id=account.id if account else None,
                             principal=ids.root_arn(account.id) if account else "", method="password",
                             reason=failure_reason(result, "unknown email"))
        raise InvalidCredentials()
    await succeeded(deps, admission)
    state = await refuse_unless_active(deps, client, account, kind=PrincipalKind.ROOT,
                                       principal_arn=ids.root_arn(account.id), may_reopen=True)
    reopening = state.standing is Standing.CLOSED  # every step still asked, then the reopen page
    rehashed = await hash_password(deps, password) if deps.hasher.needs_rehash(account.root_password_hash) else None
    async with deps.store.unit() as uow:
        fresh = await uow.accounts.get(account.id)
        if fresh is None:
            raise InvalidCredentials()
        if rehashed is not None:
            fresh.root_password_hash = rehashed
        principal = root_principal(fresh)
        flow.payload = replace(flow.payload.password_verified(principal.ref, account.id, risky=risky),
                               reopening=reopening)
        if await uow.mfa.enabled_for(principal.key) or await webauthn.has_credentials(uow, principal.key):
            flow.advance(State.MFA)
        elif risky or reopening or not await uow.browsers.known(principal.key, client.browser_hash):
            code = new_numeric_code()
            flow.payload = replace(flow.payload, email_code=EmailCode(hash_token(code),
                                                                      deps.clock() + EMAIL_CODE_LIFETIME))
            flow.advance(State.EMAIL_CODE)
            await _queue_code(deps, uow, client, fresh.root_email, fresh.id, code)
        else:
            return await complete_sign_in(deps.session_ports, within=uow, principal=principal, client=client,
                                          method="password", mfa_used=False, flow=flow,
                                          previous_session=previous_session)
        await flows.save(uow, flow)
    return Continue(flow)


async def _queue_code(deps: Deps, uow: UnitOfWork, client: Client, to: str, account_id: str, code: str) -> None:
    """Queued in the transaction that stores the code's hash (sent by the mail sender). The password was
    just proven, so this page's language is the root user's choice and is remembered."""
    mail = await mail_templates.compose(deps, uow, "signin_code", to=to, language=client.language,
                                        principal=PrincipalRef.root(account_id).key, remember=True, code=code,
                                        account_id=ids.format_account_id(account_id),
                                        **describe_origin(client.ip, client.user_agent).mail_values(deps.clock()))
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.SIGNIN_CODE, lifetime=EMAIL_CODE_LIFETIME)


async def resend_email_code(deps: Deps, client: Client, flow_id: str) -> ConsoleSignInFlow:
    flow = await load_flow(deps, client, flow_id, State.EMAIL_CODE)
    sent = flow.payload.pending_code().resent
    if sent >= MAX_RESENDS:
        raise TooManyAttempts(int(flow.expires_at - deps.clock()))
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(flow.payload.account_id)
        if account is None:
            raise InvalidCredentials()
        code = new_numeric_code()
        flow.payload = replace(flow.payload, email_code=EmailCode(hash_token(code), deps.clock() + EMAIL_CODE_LIFETIME,
                                                                  sent + 1))
        await flows.save(uow, flow)
        await _queue_code(deps, uow, client, account.root_email, account.id, code)
    return flow


async def submit_email_code(deps: Deps, client: Client, flow_id: str, code: str,
                            previous_session: str = "") -> Outcome:
    """One attempt of the flow's few (counted compare-and-set before the code is checked), and one guess on
    the principal's one-time-code counter, which every flow shares."""
    flow = await load_flow(deps, client, flow_id, State.EMAIL_CODE)
    if flow.payload.pending_code().expired(deps.clock()):
        raise CodeExpired()
    flow = await reserve_flow_attempt(deps, client, flow, State.EMAIL_CODE)
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        loaded = await load_for_flow(uow, ref, flow.payload.reopening)
    if loaded is None:
        raise InvalidCredentials()
    attempt = Attempt(Credential.EMAIL_CODE, code, ref, deps.clock(), email_code=flow.payload.pending_code())

    async def check() -> Verified | None:
        answer = await ask_in_turn(console_methods(deps), attempt, None)
        return answer if isinstance(answer, Verified) else None

    if await guess(deps.throttle, deps.clock, mfa.code_keys(loaded.principal.key), check) is not None:
        if flow.payload.reopening:
            return Continue(await to_reopen_page(deps, flow))
        return await complete_sign_in(deps.session_ports, principal=loaded.principal, client=client,
                                      method="password+email_code", mfa_used=False, flow=flow,
                                      previous_session=previous_session)
    await attempt_failed(deps, flow)
    await record_failure(deps, client, kind=PrincipalKind.ROOT,
                         account_id=loaded.principal.account_id, principal=loaded.principal.arn,
                         method="email_code", reason="wrong verification code")
    raise InvalidCode()
