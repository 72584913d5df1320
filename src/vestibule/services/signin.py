"""Console sign-in for root users and IAM users, as a stored multi-step flow.

root: email -> password (+CAPTCHA when risky) -> MFA code, or a mailed one-time code
      when the browser is new to the user or risk is raised -> session
iam:  account + user name + password (+CAPTCHA) -> MFA code -> forced new password -> session
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import identifiers as ids
from ..core import passwords as rules
from ..core import throttle as throttle_rules
from ..core import totp
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
    CaptchaRequired,
    CodeExpired,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    PasswordExpired,
    TooManyAttempts,
)
from ..store.repositories import UnitOfWork
from . import accounts, audit, flows, sessions
from .captcha import CaptchaService
from .context import Client, Deps
from .mail import Mail
from .passwords import (
    check_new_password,
    policy_of,
    store_user_password,
    verify_password,
)
from .principals import Principal, root_principal, user_principal
from .principals import load as load_principal


@dataclass(frozen=True)
class Outcome:
    """Either the flow moved to a further step, or the user is signed in."""

    flow: Flow | None = None
    session: sessions.NewSession | None = None
    principal: Principal | None = None


def root_keys(email: str, client: Client) -> list[str]:
    return [f"root:{email}", f"ip:{client.ip}"]


def iam_keys(account_ref: str, username: str, client: Client) -> list[str]:
    return [f"iam:{ids.parse_account_reference(account_ref)}:{username.lower()}", f"ip:{client.ip}"]


async def risk(deps: Deps, keys: list[str]) -> throttle_rules.ThrottleDecision:
    return throttle_rules.decide(await deps.throttle.states(keys), deps.clock())


async def _gate(deps: Deps, client: Client, keys: list[str], captcha: CaptchaService, answer: str) -> tuple[bool, bool]:
    """Throttle and CAPTCHA before any password is checked.

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


async def _fail(deps: Deps, client: Client, keys: list[str], *, account_id: str | None, principal: str,
                method: str, reason: str, mfa_used: bool = False) -> None:
    now = deps.clock()
    await deps.throttle.fail(keys, now)
    async with deps.store.unit() as uow:
        await audit.record(uow, at=now, event="ConsoleLogin", result="Failure", client=client, account_id=account_id,
                           principal=principal, method=method, mfa_used=mfa_used, reason=reason)


async def _finish(deps: Deps, uow: UnitOfWork, flow: Flow | None, principal: Principal, client: Client,
                  method: str, mfa_used: bool) -> Outcome:
    now = deps.clock()
    if flow is not None:
        flow.advance(FlowState.DONE)
        await flows.save(uow, flow)
    if principal.kind == "root":  # only root sign-in asks whether the browser is new
        await uow.browsers.remember(principal.key, client.browser_hash, now)
    session = await sessions.start(deps, uow, principal, client, mfa_used)
    await audit.record(uow, at=now, event="ConsoleLogin", result="Success", client=client,
                       account_id=principal.account_id, principal=principal.arn, method=method, mfa_used=mfa_used)
    return Outcome(session=session, principal=principal)


# ---- root user -------------------------------------------------------------------------------

async def start_root(deps: Deps, client: Client, email: str) -> Flow:
    try:
        normalized = ids.normalize_email(email)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None
    async with deps.store.unit() as uow:
        return await flows.create(uow, FlowKind.SIGNIN, client.browser_hash, deps.clock(),
                                  {"type": "root", "email": normalized})


async def load_flow(deps: Deps, client: Client, flow_id: str, expected: FlowState | set[FlowState]) -> Flow:
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, flow_id, FlowKind.SIGNIN)
    flow.check(client.browser_hash, deps.clock(), expected)
    return flow


async def submit_root_password(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str,
                               password: str, captcha_answer: str = "") -> Outcome:
    flow = await load_flow(deps, client, flow_id, FlowState.PASSWORD)
    email = str(flow.data["email"])
    keys = root_keys(email, client)
    risky, had_failures = await _gate(deps, client, keys, captcha, captcha_answer)
    async with deps.store.unit() as uow:
        account = await uow.accounts.by_email(email)
        if account is not None and account.status != "active":
            account = None
    ok = await verify_password(deps, account.root_password_hash if account else None, password)
    if not ok or account is None:
        await _fail(deps, client, keys, account_id=account.id if account else None,
                    principal=ids.root_arn(account.id) if account else "", method="password",
                    reason="wrong password" if account else "unknown email")
        raise InvalidCredentials()
    if had_failures:
        await deps.throttle.reset(keys[:1])
    principal = root_principal(account)
    mail: Mail | None = None
    async with deps.store.unit() as uow:
        fresh = await uow.accounts.get(account.id)
        assert fresh is not None
        if deps.hasher.needs_rehash(fresh.root_password_hash):
            fresh.root_password_hash = await _rehash(deps, password)
        flow.data.update(principal_key=principal.key, account_id=account.id, risky=risky)
        if await uow.mfa.enabled_for(principal.key):
            flow.advance(FlowState.MFA)
        elif risky or not await uow.browsers.known(principal.key, client.browser_hash):
            code = new_numeric_code()
            flow.data.update(code_hash=hash_token(code), code_expires_at=deps.clock() + EMAIL_CODE_LIFETIME, attempts=0)
            flow.advance(FlowState.EMAIL_CODE)
            mail = _sign_in_code_mail(deps, account.root_email, account.id, code)
        else:
            return await _finish(deps, uow, flow, principal, client, "password", False)
        await flows.save(uow, flow)
    if mail is not None:
        await deps.mailer.send(mail)
    return Outcome(flow=flow, principal=principal)


def _sign_in_code_mail(deps: Deps, to: str, account_id: str, code: str) -> Mail:
    body = (
        f"Your Vestibule sign-in verification code is: {code}\n\n"
        f"It expires in 10 minutes. Someone (hopefully you) signed in as the root user of account "
        f"{ids.format_account_id(account_id)} from a browser we have not seen before.\n"
        f"If this was not you, change your root password now: {deps.settings.public_origin}/recovery\n\n"
        "Your account ID is shown in this mail and on the console home page after you sign in.\n"
    )
    return Mail(to=to, subject="Your Vestibule sign-in verification code", body=body)


async def _rehash(deps: Deps, password: str) -> str:
    from .passwords import hash_password

    return await hash_password(deps, password)


async def resend_email_code(deps: Deps, client: Client, flow_id: str) -> Flow:
    flow = await load_flow(deps, client, flow_id, FlowState.EMAIL_CODE)
    sent = int(flow.data.get("resent", 0))
    if sent >= 3:
        raise TooManyAttempts(int(flow.expires_at - deps.clock()))
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(str(flow.data["account_id"]))
        if account is None:
            raise InvalidCredentials()
        code = new_numeric_code()
        flow.data.update(code_hash=hash_token(code), code_expires_at=deps.clock() + EMAIL_CODE_LIFETIME,
                         resent=sent + 1)
        await flows.save(uow, flow)
    await deps.mailer.send(_sign_in_code_mail(deps, account.root_email, account.id, code))
    return flow


async def submit_email_code(deps: Deps, client: Client, flow_id: str, code: str) -> Outcome:
    flow = await load_flow(deps, client, flow_id, FlowState.EMAIL_CODE)
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, str(flow.data["principal_key"]))
        if loaded is None:
            raise InvalidCredentials()
        principal = loaded[0]
        now = deps.clock()
        if now >= float(flow.data["code_expires_at"]):
            raise CodeExpired()
        if token_matches(code.strip(), str(flow.data["code_hash"])):
            return await _finish(deps, uow, flow, principal, client, "password+email_code", False)
        flow.data["attempts"] = int(flow.data.get("attempts", 0)) + 1
        if flow.data["attempts"] >= MAX_CODE_ATTEMPTS:
            flow.expires_at = now
        await flows.save(uow, flow)
    await _fail(deps, client, [f"ip:{client.ip}"], account_id=principal.account_id, principal=principal.arn,
                method="email_code", reason="wrong verification code")
    raise InvalidCode()


async def submit_mfa(deps: Deps, client: Client, flow_id: str, code: str) -> Outcome:
    flow = await load_flow(deps, client, flow_id, FlowState.MFA)
    now = deps.clock()
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, str(flow.data["principal_key"]))
        if loaded is None:
            raise InvalidCredentials()
        principal, account, user = loaded
        for device in await uow.mfa.enabled_for(principal.key):
            secret = deps.box.open(device.secret_sealed, f"mfa:{device.serial}").decode()
            check = totp.verify(secret, code, now, device.last_used_step)
            if check.accepted and check.step is not None and await uow.mfa.mark_used(device.id, check.step):
                if flow.data.get("must_change"):
                    flow.data["mfa_used"] = True
                    flow.advance(FlowState.NEW_PASSWORD)
                    await flows.save(uow, flow)
                    return Outcome(flow=flow, principal=principal)
                return await _finish(deps, uow, flow, principal, client, "password+mfa", True)
        flow.data["attempts"] = int(flow.data.get("attempts", 0)) + 1
        if flow.data["attempts"] >= MAX_CODE_ATTEMPTS:
            flow.expires_at = now
        await flows.save(uow, flow)
    await _fail(deps, client, [f"ip:{client.ip}"], account_id=principal.account_id, principal=principal.arn,
                method="mfa", reason="wrong or reused MFA code", mfa_used=True)
    raise InvalidCode()


# ---- IAM user --------------------------------------------------------------------------------

async def submit_iam_password(deps: Deps, client: Client, captcha: CaptchaService, account_ref: str,
                              username: str, password: str, captcha_answer: str = "") -> Outcome:
    keys = iam_keys(account_ref, username, client)
    risky, had_failures = await _gate(deps, client, keys, captcha, captcha_answer)
    async with deps.store.unit() as uow:
        # The same statements run whether or not the account and user exist (no timing difference).
        account = await accounts.resolve(uow, account_ref or "-")
        user = await uow.users.by_name(account.id if account else "", username)
        has_mfa = bool(await uow.mfa.enabled_for(f"user:{user.id}" if user else "user:-"))
    stored = user.password_hash if user else None
    ok = await verify_password(deps, stored, password)
    if not ok or account is None or user is None:
        await _fail(deps, client, keys, account_id=account.id if account else None,
                    principal=ids.user_arn(account.id, username) if account and user else "",
                    method="password", reason="wrong password" if user else "unknown account or user")
        raise InvalidCredentials()
    if had_failures:
        await deps.throttle.reset(keys[:1])
    principal = user_principal(user)
    now = deps.clock()
    policy = policy_of(account)
    expired = rules.is_expired(policy, user.password_changed_at, now)
    if expired and policy.hard_expiry and not user.password_reset_required:
        await _fail(deps, client, [], account_id=account.id, principal=principal.arn, method="password",
                    reason="password expired (hard expiry)")
        raise PasswordExpired()
    must_change = user.password_reset_required or expired
    rehashed = await _rehash(deps, password) if deps.hasher.needs_rehash(stored or "") else None
    async with deps.store.unit() as uow:
        await uow.users.note_password_use(user.id, now, rehashed)
        if not has_mfa and not must_change:
            return await _finish(deps, uow, None, principal, client, "password", False)
        flow = await flows.create(uow, FlowKind.SIGNIN, client.browser_hash, now, {
            "type": "iam", "principal_key": principal.key, "account_id": account.id,
            "must_change": must_change, "risky": risky, "password_expired": expired,
        })
        flow.advance(FlowState.MFA if has_mfa else FlowState.NEW_PASSWORD)
        await flows.save(uow, flow)
    return Outcome(flow=flow, principal=principal)


async def submit_new_password(deps: Deps, client: Client, flow_id: str, new_password: str, confirm: str) -> Outcome:
    flow = await load_flow(deps, client, flow_id, FlowState.NEW_PASSWORD)
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, str(flow.data["principal_key"]))
        if loaded is None or loaded[2] is None:
            raise InvalidCredentials()
        principal, account, user = loaded
        assert user is not None
        new_hash = await check_new_password(deps, uow, policy_of(account), principal.key, new_password, confirm,
                                            user.password_hash, must_differ=True)
        await store_user_password(deps, uow, user, new_hash, reset_required=False)
        await uow.sessions.revoke_all(principal.key, deps.clock())
        await audit.record(uow, at=deps.clock(), event="PasswordChanged", result="Success", client=client,
                           account_id=account.id, principal=principal.arn, method="forced_change")
        mfa_used = bool(flow.data.get("mfa_used"))
        return await _finish(deps, uow, flow, principal, client, "password+mfa" if mfa_used else "password", mfa_used)
