"""Sign-up of a personal profile: email -> name -> the code mailed to the address -> password -> signed in.

No enumeration: an address that has a profile goes through the same pages; it is mailed "you already have a
profile" instead of a code, and its flow holds the hash of a secret nobody was given, so no code is right.
Mail is budgeted per address and per client (the name step and each resend count; a CAPTCHA once the address or
the client has had a few); codes are guessed on the address's one-time-code counter, which every flow shares."""

from __future__ import annotations

import contextlib
from dataclasses import replace

from ...core import identifiers as ids
from ...core import passwords as rules
from ...core.flows.base import FlowConflict
from ...core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, EmailCode
from ...core.flows.profile_signup import SPEC, ProfileSignUp, ProfileSignUpFlow, ProfileSignUpState
from ...core.outbox import MailKind
from ...core.principals import PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...core.tokens import hash_token, new_numeric_code, new_token
from ...errors import CaptchaInvalid, CaptchaRequired, CodeExpired, InvalidCode, InvalidInput, TooManyAttempts
from ...store.models import Profile
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, flows, mail_templates, outbox
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import check_new_password
from ..principals import profile_principal
from ..signin.completion import SignedIn, complete_sign_in
from ..signin.gate import admit, risk
from ..signin.methods import Attempt, Credential, EmailCodeMethod, Failed, Verified
from ..throttling import guess
from .accounts import ProfileEmailTaken, ProfileNameInvalid, new_profile_id, principal_name, stored_email

State = ProfileSignUpState
NAME_LIMIT = 100


def mail_keys(email: str, client: Client) -> list[ThrottleKey]:
    """The mail budget of a sign-up: the address (a CAPTCHA after a few mails to it) and the client."""
    return [ThrottleKey(Scope.PRINCIPAL, f"profile-signup:{email}"),
            ThrottleKey(Scope.CLIENT, f"profile-signup:{client.ip}")]


def code_keys(email: str) -> list[ThrottleKey]:
    """The address's one-time codes, across every sign-up flow for it."""
    return [ThrottleKey(Scope.CODES, f"profile-signup:{email}")]


async def start(deps: Deps, client: Client, email: str) -> ProfileSignUpFlow:
    try:
        normalized = stored_email(ids.normalize_email(email))
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None
    async with deps.store.unit() as uow:
        return await flows.create(uow, SPEC, client.browser_hash, deps.clock(), ProfileSignUp(normalized))


async def load(deps: Deps, client: Client, flow_id: str, expected: State | set[State]) -> ProfileSignUpFlow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), expected)
    return flow


async def captcha_needed(deps: Deps, client: Client, flow: ProfileSignUpFlow) -> bool:
    """Whether the flow's page shows a CAPTCHA: the name step when the mail budget asks for one, the password
    step when the code was mailed behind one."""
    if flow.state == State.NAME:
        return (await risk(deps, mail_keys(flow.payload.email, client))).captcha_required
    return flow.state == State.PASSWORD and flow.payload.risky


def checked_name(name: str) -> str:
    value = " ".join(name.split())
    if not value or len(value) > NAME_LIMIT or not value.isprintable():
        raise ProfileNameInvalid()
    return value


async def submit_name(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str, name: str,
                      captcha_answer: str = "") -> ProfileSignUpFlow:
    """The name taken, the code mailed (counted on the mail budget first: a CAPTCHA or a wait when it is spent)."""
    flow = await load(deps, client, flow_id, State.NAME)
    value = checked_name(name)
    admission = await admit(deps, client, mail_keys(flow.payload.email, client), captcha, captcha_answer)
    now = deps.clock()
    async with deps.store.unit() as uow:
        code, code_hash = await _code_for(uow, flow.payload.email)
        flow.payload = flow.payload.named(value, EmailCode(code_hash, now + EMAIL_CODE_LIFETIME),
                                          risky=admission.risky)
        flow.advance(State.VERIFY_EMAIL)
        await flows.save(uow, flow)
        await _mail(deps, uow, client, flow.payload.email, code)
    return flow


async def _code_for(uow: UnitOfWork, email: str) -> tuple[str, str]:
    """A new code and the hash the flow keeps; for an address with a profile, the hash of a secret never shown."""
    code = new_numeric_code()
    taken = await uow.profiles.by_email(email)
    return code, hash_token(code if taken is None else new_token())


async def _mail(deps: Deps, uow: UnitOfWork, client: Client, email: str, code: str) -> None:
    """The code, or (the address has a profile) the notice; in the profile's remembered language for the notice
    (a stranger may have typed the address), else this page's."""
    taken = await uow.profiles.by_email(email)
    if taken is not None:
        mail = await mail_templates.compose(deps, uow, "profile_signup_taken", to=email, language=client.language,
                                            principal=PrincipalRef.profile(taken.id).key)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.PROFILE_SIGNUP_TAKEN, lifetime=EMAIL_CODE_LIFETIME)
    else:
        # (a principal nobody has: the same language look-up as for a taken address, for timing)
        mail = await mail_templates.compose(deps, uow, "profile_signup_code", to=email, language=client.language,
                                            principal=PrincipalRef.profile("~").key, code=code)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.PROFILE_SIGNUP_CODE, lifetime=EMAIL_CODE_LIFETIME)


async def resend(deps: Deps, client: Client, flow_id: str) -> ProfileSignUpFlow:
    """A new code (the last one stops working) RESEND_WAIT seconds after the last, at most MAX_RESENDS times a
    flow, each one counted on the mail budget (a wait, never a CAPTCHA: the flow passed one if it was asked)."""
    flow = await load(deps, client, flow_id, State.VERIFY_EMAIL)
    now = deps.clock()
    pending = flow.payload.pending_code()
    if pending.resent >= MAX_RESENDS:
        raise TooManyAttempts(max(1, int(flow.expires_at - now)))
    wait = pending.resend_wait(now)
    if wait:
        raise TooManyAttempts(wait)
    refused = await deps.throttle.reserve(mail_keys(flow.payload.email, client), now, captcha_solved=True)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    async with deps.store.unit() as uow:
        code, code_hash = await _code_for(uow, flow.payload.email)
        flow.payload = replace(flow.payload, email_code=EmailCode(code_hash, now + EMAIL_CODE_LIFETIME,
                                                                  pending.resent + 1))
        await flows.save(uow, flow)  # (compare-and-set: two resends at once mail one code)
        await _mail(deps, uow, client, flow.payload.email, code)
        await audit.record(uow, at=now, event="ProfileSignUpCodeResent", result="Success", client=client,
                           method="email_code")
    return flow


async def verify(deps: Deps, client: Client, flow_id: str, code: str) -> ProfileSignUpFlow:
    """The mailed code: one of the flow's few attempts (compare-and-set) and one guess on the address's counter."""
    flow = await load(deps, client, flow_id, State.VERIFY_EMAIL)
    if flow.payload.pending_code().expired(deps.clock()):
        raise CodeExpired()
    flow = await flows.reserve_attempt(deps.store, SPEC, flow, lambda again: again.check(
        client.browser_hash, deps.clock(), State.VERIFY_EMAIL))
    attempt = Attempt(Credential.EMAIL_CODE, code.strip(), None, deps.clock(), email_code=flow.payload.email_code)
    expired = False

    async def check() -> Verified | None:
        nonlocal expired
        result = await EmailCodeMethod().verify(attempt, None)
        expired = isinstance(result, Failed) and result.expired
        return result if isinstance(result, Verified) else None

    if await guess(deps.throttle, deps.clock, code_keys(flow.payload.email), check) is not None:
        flow.advance(State.PASSWORD)
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)
        return flow
    if expired:
        raise CodeExpired()
    now = deps.clock()
    async with deps.store.unit() as uow:
        if not flow.reserved_attempt_failed(now):
            with contextlib.suppress(FlowConflict):  # (a lost race changes nothing: no attempt is left)
                await flows.save(uow, flow)
        await audit.record(uow, at=now, event="ProfileSignUp", result="Failure", client=client,
                           method="email_code", reason="wrong verification code")
    raise InvalidCode()


async def finish(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str, password: str, confirm: str,
                 captcha_answer: str = "", previous_session: str = "") -> SignedIn:
    """The password (PROFILE_POLICY) and its confirmation: the profile is created and signed in, one transaction."""
    flow = await load(deps, client, flow_id, State.PASSWORD)
    if flow.payload.risky:
        if not captcha_answer.strip():
            raise CaptchaRequired()
        if not await captcha.check(client.browser_hash, captcha_answer):
            raise CaptchaInvalid()
    profile_id = new_profile_id()
    ref = PrincipalRef.profile(profile_id)
    now = deps.clock()
    proven = mail_keys(flow.payload.email, client)[:1]  # the address proved itself: its mail count is cleared
    settle = deps.throttle.settlement(proven, ())
    try:
        async with deps.store.unit() as uow:
            password_hash = await check_new_password(deps, uow, rules.PROFILE_POLICY, ref.key, password, confirm, None)
            profile = Profile(id=profile_id, email=flow.payload.email, name=flow.payload.name, nickname=None,
                              password_hash=password_hash, password_changed_at=now, created_at=now)
            await uow.profiles.add(profile)
            await mail_templates.remember_language(uow, ref.key, client.language, now)
            await audit.record(uow, at=now, event="ProfileCreated", result="Success", client=client,
                               principal=principal_name(profile_id), method="signup")
            signed_in = await complete_sign_in(deps.session_ports, within=uow, principal=profile_principal(profile),
                                               client=client, method="signup", mfa_used=False, flow=flow,
                                               previous_session=previous_session, settle=settle)
    except Conflict:
        # the address got a profile while this flow ran (another sign-up of its owner): its mailbox was proven
        raise ProfileEmailTaken() from None
    if settle is None:  # the counters are in Redis
        await deps.throttle.settle(proven, ())
    return signed_in

