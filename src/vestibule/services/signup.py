"""Public sign-up: details + CAPTCHA -> a code mailed to the email -> account and root session."""

from __future__ import annotations

import contextlib
from dataclasses import replace

from ..core import identifiers as ids
from ..core import passwords as rules
from ..core.flows.base import FlowConflict
from ..core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, EmailCode
from ..core.flows.signup import SPEC, SignUp, SignUpFlow, SignUpState
from ..core.outbox import MailKind
from ..core.principals import PrincipalRef
from ..core.tokens import hash_token, new_numeric_code
from ..errors import (
    CaptchaInvalid,
    CodeExpired,
    InvalidCode,
    InvalidInput,
    PasswordsDiffer,
    SignupDisabled,
    TooManyAttempts,
)
from ..store.repositories import UnitOfWork
from . import accounts, audit, flows, mail_templates, outbox
from .captcha import CaptchaService
from .context import Client, Deps
from .passwords import check_new_password
from .principals import root_principal
from .signin.completion import SignedIn, complete_sign_in
from .signin.methods import Attempt, Credential, EmailCodeMethod, Failed, Verified


async def start(deps: Deps, client: Client, captcha: CaptchaService, *, email: str, account_name: str,
                password: str, confirm: str, captcha_answer: str) -> SignUpFlow:
    if not deps.settings.signup_enabled:
        raise SignupDisabled()
    try:
        normalized = ids.normalize_email(email)
        name = ids.validate_account_name(account_name)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput(exc.field, str(exc)) from None
    if password != confirm:
        raise PasswordsDiffer()
    if not await captcha.check(client.browser_hash, captcha_answer):
        raise CaptchaInvalid()
    async with deps.store.unit() as uow:
        password_hash = await check_new_password(deps, uow, rules.ROOT_POLICY, "", password, None, None)
        code = new_numeric_code()
        now = deps.clock()
        flow = await flows.create(uow, SPEC, client.browser_hash, now, SignUp(
            normalized, name, password_hash, EmailCode(hash_token(code), now + EMAIL_CODE_LIFETIME)))
        await _mail_code(deps, uow, client, normalized, code)
    return flow


async def _mail_code(deps: Deps, uow: UnitOfWork, client: Client, normalized: str, code: str) -> None:
    """Mailed whether or not the address is taken; a taken address learns it only by mail, in its root
    user's remembered language (a stranger may have typed it), else in this page's."""
    taken = await uow.accounts.by_email(normalized)
    kept_for = await uow.root_email_changes.reserved_for(normalized, deps.clock())  # a root email's undo link
    if taken is None and kept_for is not None:
        taken = await uow.accounts.get(kept_for)
    if taken is not None:
        mail = await mail_templates.compose(deps, uow, "signup_taken", to=normalized, language=client.language,
                                            principal=PrincipalRef.root(taken.id).key)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.SIGNUP_TAKEN, lifetime=EMAIL_CODE_LIFETIME)
    else:
        # (a principal no account has: the same language look-up as for a taken address, for timing)
        mail = await mail_templates.compose(deps, uow, "signup_code", to=normalized, language=client.language,
                                            principal=PrincipalRef.root("~").key, code=code)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.SIGNUP_CODE, lifetime=EMAIL_CODE_LIFETIME)


async def resend(deps: Deps, client: Client, flow_id: str) -> SignUpFlow:
    """A new code (the old one stops working), RESEND_WAIT seconds after the last and at most MAX_RESENDS times
    a flow; each flow cost a solved CAPTCHA, so one browser cannot flood an address. A taken address gets the
    'already used' notice again: the page is the same either way."""
    flow = await load(deps, client, flow_id)
    now = deps.clock()
    pending = flow.payload.email_code
    if pending.resent >= MAX_RESENDS:
        raise TooManyAttempts(int(flow.expires_at - now))
    wait = pending.resend_wait(now)
    if wait:
        raise TooManyAttempts(wait)
    code = new_numeric_code()
    flow.payload = replace(flow.payload, email_code=EmailCode(hash_token(code), now + EMAIL_CODE_LIFETIME,
                                                              pending.resent + 1))
    async with deps.store.unit() as uow:
        await flows.save(uow, flow)  # (compare-and-set: two resends at once mail one code)
        await _mail_code(deps, uow, client, flow.payload.email, code)
        await audit.record(uow, at=now, event="SignUpCodeResent", result="Success", client=client,
                           method="email_code")
    return flow


async def load(deps: Deps, client: Client, flow_id: str) -> SignUpFlow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), SignUpState.VERIFY_EMAIL)
    return flow


async def verify(deps: Deps, client: Client, flow_id: str, code: str,
                 previous_session: str = "") -> tuple[SignedIn, accounts.NewAccount]:
    flow = await load(deps, client, flow_id)
    if flow.payload.email_code.expired(deps.clock()):
        raise CodeExpired()
    # one of the flow's attempts is counted (compare-and-set) before the code is checked
    flow = await flows.reserve_attempt(deps.store, SPEC, flow, lambda again: again.check(
        client.browser_hash, deps.clock(), SignUpState.VERIFY_EMAIL))
    now = deps.clock()
    # The address has no principal yet: the code proves it belongs to whoever holds the flow.
    attempt = Attempt(Credential.EMAIL_CODE, code, None, now, email_code=flow.payload.email_code)
    result = await EmailCodeMethod().verify(attempt, None)
    if isinstance(result, Failed) and result.expired:
        raise CodeExpired()
    async with deps.store.unit() as uow:
        if isinstance(result, Verified):
            created = await accounts.create_account(
                deps, uow, email=flow.payload.email, password="", name=flow.payload.account_name,
                client=client, via="signup", password_hash=flow.payload.password_hash,
            )
            account = await uow.accounts.get(created.account_id)
            assert account is not None
            # the sign-up page's language becomes the new root user's mail language
            await mail_templates.remember_language(uow, PrincipalRef.root(account.id).key, client.language, now)
            signed_in = await complete_sign_in(deps.session_ports, within=uow, principal=root_principal(account),
                                               client=client, method="signup", mfa_used=False, flow=flow,
                                               previous_session=previous_session)
            return signed_in, created
        if not flow.reserved_attempt_failed(now):
            with contextlib.suppress(FlowConflict):  # (a lost race changes nothing: no attempt is left)
                await flows.save(uow, flow)
        await audit.record(uow, at=now, event="SignUp", result="Failure", client=client, reason="wrong code")
    raise InvalidCode()
