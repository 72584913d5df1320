"""Public sign-up: details + CAPTCHA -> a code mailed to the email -> account and root session."""

from __future__ import annotations

from ..core import identifiers as ids
from ..core import passwords as rules
from ..core.flows import (
    EMAIL_CODE_LIFETIME,
    MAX_CODE_ATTEMPTS,
    Flow,
    FlowKind,
    FlowState,
)
from ..core.tokens import hash_token, new_numeric_code, token_matches
from ..errors import (
    CaptchaInvalid,
    CodeExpired,
    InvalidCode,
    InvalidInput,
    PasswordsDiffer,
    SignupDisabled,
)
from . import accounts, audit, flows, sessions
from .captcha import CaptchaService
from .context import Client, Deps
from .mail import Mail
from .passwords import check_new_password
from .principals import root_principal
from .signin import Outcome


async def start(deps: Deps, client: Client, captcha: CaptchaService, *, email: str, account_name: str,
                password: str, confirm: str, captcha_answer: str) -> Flow:
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
        password_hash = await check_new_password(deps, uow, rules.DEFAULT_POLICY, "", password, None, None)
        code = new_numeric_code()
        now = deps.clock()
        flow = await flows.create(uow, FlowKind.SIGNUP, client.browser_hash, now, {
            "email": normalized, "account_name": name, "password_hash": password_hash,
            "code_hash": hash_token(code), "code_expires_at": now + EMAIL_CODE_LIFETIME, "attempts": 0,
        })
    # Sent whether or not the address is taken; a taken address learns it only by mail.
    async with deps.store.unit() as uow:
        taken = await uow.accounts.by_email(normalized) is not None
    if taken:
        body = ("Someone tried to create a new Vestibule account with this email address, which is already "
                "used by an account. If this was you, sign in instead, or use 'Forgot password?' on the "
                f"sign-in page: {deps.settings.public_origin}/\n")
        await deps.mailer.send(Mail(to=normalized, subject="Your Vestibule sign-up", body=body))
    else:
        await deps.mailer.send(Mail(
            to=normalized, subject="Verify your email address for Vestibule",
            body=(f"Your verification code is: {code}\n\nEnter it on the sign-up page within 10 minutes "
                  "to finish creating your Vestibule account.\n"),
        ))
    return flow


async def load(deps: Deps, client: Client, flow_id: str) -> Flow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, flow_id, FlowKind.SIGNUP)
    flow.check(client.browser_hash, deps.clock(), FlowState.VERIFY_EMAIL)
    return flow


async def verify(deps: Deps, client: Client, flow_id: str, code: str) -> tuple[Outcome, accounts.NewAccount]:
    flow = await load(deps, client, flow_id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        if now >= float(flow.data["code_expires_at"]):
            raise CodeExpired()
        if not token_matches(code.strip(), str(flow.data["code_hash"])):
            flow.data["attempts"] = int(flow.data.get("attempts", 0)) + 1
            if flow.data["attempts"] >= MAX_CODE_ATTEMPTS:
                flow.expires_at = now
            await flows.save(uow, flow)
            await audit.record(uow, at=now, event="SignUp", result="Failure", client=client, reason="wrong code")
            ok = False
        else:
            ok = True
            created = await accounts.create_account(
                deps, uow, email=str(flow.data["email"]), password="", name=str(flow.data["account_name"]),
                client=client, via="signup", password_hash=str(flow.data["password_hash"]),
            )
            account = await uow.accounts.get(created.account_id)
            assert account is not None
            principal = root_principal(account)
            flow.advance(FlowState.DONE)
            await flows.save(uow, flow)
            await uow.browsers.remember(principal.key, client.browser_hash, now)
            session = await sessions.start(deps, uow, principal, client, mfa_used=False)
            await audit.record(uow, at=now, event="ConsoleLogin", result="Success", client=client,
                               account_id=account.id, principal=principal.arn, method="signup")
    if not ok:
        raise InvalidCode()
    return Outcome(session=session, principal=principal), created
