"""IAM user console sign-in: account + user name + password (+CAPTCHA) -> MFA code -> forced new password."""

from __future__ import annotations

from ...core import identifiers as ids
from ...core import passwords as rules
from ...core.flows.console_signin import SPEC, Audience, ConsoleSignIn
from ...core.principals import PrincipalRef
from ...errors import InvalidCredentials, PasswordExpired
from ...store.sql import hot
from .. import flows
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import hash_password, policy_of
from ..principals import user_principal
from .completion import PasswordUse, complete_sign_in
from .gate import admit, iam_keys, record_failure
from .methods import Attempt, Credential, Verified, ask_in_turn
from .steps import Continue, Outcome, State, console_methods, failure_reason


async def submit_iam_password(deps: Deps, client: Client, captcha: CaptchaService, account_ref: str,
                              username: str, password: str, captcha_answer: str = "",
                              previous_session: str = "") -> Outcome:
    keys = iam_keys(account_ref, username, client)
    risky, had_failures = await admit(deps, client, keys, captcha, captcha_answer)
    # One statement, the same whether or not the account and the user exist (no timing difference).
    reference = ids.parse_account_reference(account_ref or "-")
    account, user, has_mfa = await deps.store.run(hot.iam_sign_in_lookup, reference, ids.is_account_id(reference),
                                                  username)
    ref = PrincipalRef.iam_user(user.id) if user is not None and account is not None else None
    stored = user.password_hash if user else None
    attempt = Attempt(Credential.PASSWORD, password, ref, deps.clock(), password_hash=stored)
    result = await ask_in_turn(console_methods(deps), attempt, None)
    if not isinstance(result, Verified) or account is None or user is None or ref is None:
        await record_failure(deps, client, keys, account_id=account.id if account else None,
                             principal=ids.user_arn(account.id, username) if account and user else "",
                             method="password",
                             reason=failure_reason(result, "wrong password") if user else "unknown account or user")
        raise InvalidCredentials()
    if had_failures:
        await deps.throttle.reset(keys[:1])
    principal = user_principal(user, account)
    now = deps.clock()
    policy = policy_of(account)
    expired = rules.is_expired(policy, user.password_changed_at, now)
    if expired and policy.hard_expiry and not user.password_reset_required:
        await record_failure(deps, client, [], account_id=account.id, principal=principal.arn, method="password",
                             reason="password expired (hard expiry)")
        raise PasswordExpired()
    must_change = user.password_reset_required or expired
    rehashed = await hash_password(deps, password) if deps.hasher.needs_rehash(stored or "") else None
    if not has_mfa and not must_change:
        return await complete_sign_in(deps.session_ports, principal=principal, client=client, method="password",
                                      mfa_used=False, previous_session=previous_session,
                                      password_use=PasswordUse(user.id, now, rehashed))
    async with deps.store.unit() as uow:
        await uow.users.note_password_use(user.id, now, rehashed)
        payload = ConsoleSignIn(Audience.IAM).password_verified(
            ref, account.id, risky=risky, must_change_password=must_change, password_expired=expired)
        flow = await flows.create(uow, SPEC, client.browser_hash, now, payload)
        flow.advance(State.MFA if has_mfa else State.NEW_PASSWORD)
        await flows.save(uow, flow)
    return Continue(flow)
