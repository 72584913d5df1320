"""IAM user console sign-in: account + user name + password (+CAPTCHA) -> MFA code -> forced new password."""

from __future__ import annotations

from ...core import identifiers as ids
from ...core import passwords as rules
from ...core.flows.console_signin import SPEC, Audience, ConsoleSignIn
from ...core.principals import PrincipalKind, PrincipalRef
from ...core.throttle import ThrottleDecision
from ...errors import InvalidCredentials, PasswordExpired
from ...store.models import Account, IamUser
from ...store.sql import hot
from .. import flows
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import hash_password, policy_of
from ..principals import user_principal
from .completion import PasswordUse, complete_sign_in
from .gate import admit, iam_keys, record_failure, risk, succeeded, success_settlement
from .methods import Attempt, Credential, Verified, ask_in_turn
from .standing import refuse_unless_active
from .steps import Continue, Outcome, State, console_methods, failure_reason


async def _lookup(deps: Deps, account_ref: str, username: str) -> tuple[str, Account | None, IamUser | None, bool]:
    """The account key (its ID when the reference names an active account, else the reference as typed), the
    account, the user and whether it has MFA: one statement, the same whether or not they exist."""
    reference = ids.parse_account_reference(account_ref or "-")
    account, user, has_mfa = await deps.store.run(hot.iam_sign_in_lookup, reference, ids.is_account_id(reference),
                                                  username)
    return (account.id if account is not None else reference), account, user, has_mfa


async def iam_risk(deps: Deps, client: Client, account_ref: str, username: str = "") -> ThrottleDecision:
    """Whether the IAM sign-in form should show a CAPTCHA now (without a user name: the account and address)."""
    account_key, _account, _user, _mfa = await _lookup(deps, account_ref, username)
    keys = iam_keys(account_key, username, client)
    return await risk(deps, keys if username else keys[1:])


async def submit_iam_password(deps: Deps, client: Client, captcha: CaptchaService, account_ref: str,
                              username: str, password: str, captcha_answer: str = "",
                              previous_session: str = "") -> Outcome:
    account_key, account, user, has_mfa = await _lookup(deps, account_ref, username)
    admission = await admit(deps, client, iam_keys(account_key, username, client), captcha, captcha_answer)
    ref = PrincipalRef.iam_user(user.id) if user is not None and account is not None else None
    stored = user.password_hash if user else None
    attempt = Attempt(Credential.PASSWORD, password, ref, deps.clock(), password_hash=stored)
    result = await ask_in_turn(console_methods(deps), attempt, None)
    if not isinstance(result, Verified) or account is None or user is None or ref is None:
        await record_failure(deps, client, kind=PrincipalKind.IAM_USER, account_id=account.id if account else None,
                             principal=ids.user_arn(account.id, username) if account and user else "",
                             method="password",
                             reason=failure_reason(result, "wrong password") if user else "unknown account or user")
        raise InvalidCredentials()
    if account.status != "active":
        await succeeded(deps, admission)
        await refuse_unless_active(deps, client, account, kind=PrincipalKind.IAM_USER,
                                   principal_arn=ids.user_arn(account.id, user.name, user.path))
    risky = admission.risky
    principal = user_principal(user, account)
    now = deps.clock()
    policy = policy_of(account)
    expired = rules.is_expired(policy, user.password_changed_at, now)
    must_change = user.password_reset_required or expired
    if not has_mfa and not must_change:
        # The usual sign-in: the right password's attempt is taken back in the transaction that signs in.
        rehashed = await hash_password(deps, password) if deps.hasher.needs_rehash(stored or "") else None
        settle = success_settlement(deps, admission)
        if settle is None:
            await succeeded(deps, admission)
        return await complete_sign_in(deps.session_ports, principal=principal, client=client, method="password",
                                      mfa_used=False, previous_session=previous_session,
                                      password_use=PasswordUse(user.id, now, rehashed), settle=settle)
    await succeeded(deps, admission)
    if expired and policy.hard_expiry and not user.password_reset_required:
        await record_failure(deps, client, kind=PrincipalKind.IAM_USER,
                             account_id=account.id, principal=principal.arn, method="password",
                             reason="password expired (hard expiry)")
        raise PasswordExpired()
    rehashed = await hash_password(deps, password) if deps.hasher.needs_rehash(stored or "") else None
    async with deps.store.unit() as uow:
        await uow.users.note_password_use(user.id, now, rehashed)
        payload = ConsoleSignIn(Audience.IAM).password_verified(
            ref, account.id, risky=risky, must_change_password=must_change, password_expired=expired)
        flow = await flows.create(uow, SPEC, client.browser_hash, now, payload)
        flow.advance(State.MFA if has_mfa else State.NEW_PASSWORD)
        await flows.save(uow, flow)
    return Continue(flow)
