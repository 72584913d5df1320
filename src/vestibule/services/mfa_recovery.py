"""Lost root MFA: signing in with the root email AND a recovery code instead of the MFA device.

1. `start`: from a console sign-in at its MFA step (the password is verified: a stranger never gets here), a
   flow bound to the browser is made and a single-use link naming it is mailed to the root email (one hour).
2. `open_link`: the link opened in that browser shows the recovery code form (nothing changes on GET).
3. `submit_code`: the link's token again (a hidden field) and one recovery code: the code is spent, the flow
   done, the session made, the notice mailed and the recovery audited, all in one transaction.

Every code guess is reserved first on the sign-in's counters (the root user's password counter, the client
address, the root user's one-time codes: `signin.gate` and `mfa.code_keys`) and on the flow's few attempts.
Link mails are counted on their own key (a few freely, then growing waits). A second channel by phone (SMS or
voice) needs an operator-configured sender: `PhoneSender` is its interface; none ships, so only codes are offered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..core import identifiers as ids
from ..core.attempt_origin import describe as describe_origin
from ..core.flows.base import FlowOutOfOrder
from ..core.flows.console_signin import Audience
from ..core.flows.mfa_recovery import LINK_LIFETIME, MAX_RESENDS, SPEC, MfaRecovery, MfaRecoveryFlow, MfaRecoveryState
from ..core.outbox import NOTICE_LIFETIME, MailKind
from ..core.principals import PrincipalKind, PrincipalRef
from ..core.throttle import Scope, ThrottleDecision, ThrottleKey
from ..core.tokens import hash_token, new_token
from ..errors import InvalidCredentials, TooManyAttempts, VestibuleError
from ..store.repositories import UnitOfWork
from . import audit, flows, mail_templates, metrics, mfa, outbox, recovery_codes
from .captcha import CaptchaService
from .context import Client, Deps
from .principals import load_ref
from .signin import gate
from .signin.completion import SignedIn, complete_sign_in
from .signin.steps import State, load_flow

EVENT = "MfaRecoverySignIn"
METHOD = "password+link+recovery_code"


class RecoveryLinkInvalid(VestibuleError):
    """The mailed link is not this flow's newest, or it expired: sign in again for a new one."""

    code = "recovery_mfa.link_invalid"


class InvalidRecoveryCode(VestibuleError):
    code = "recovery_mfa.invalid_code"


class PhoneSender(Protocol):
    """An SMS or voice sender an operator may configure one day (none ships): a code to a verified phone would
    be a second channel like a recovery code."""

    async def send_code(self, phone: str, text: str) -> None: ...


@dataclass(frozen=True)
class LinkPage:
    flow: MfaRecoveryFlow
    email_hint: str  # the root email, masked (o***@example.com)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _mail_keys(account_id: str) -> list[ThrottleKey]:
    return [ThrottleKey(Scope.CODES, f"recovery-mail:{account_id}")]


def _code_keys(account_id: str, client: Client) -> list[ThrottleKey]:
    return [*gate.root_keys(account_id, "", client), *mfa.code_keys(f"root:{account_id}")]


async def start(deps: Deps, client: Client, signin_flow_id: str) -> MfaRecoveryFlow:
    """A recovery flow for the root user of this browser's console sign-in (at its MFA step), the link mailed."""
    signin = await load_flow(deps, client, signin_flow_id, State.MFA)
    if signin.payload.audience != Audience.ROOT:
        raise FlowOutOfOrder()
    ref = signin.payload.verified_principal()
    refused = await deps.throttle.reserve(_mail_keys(ref.id), deps.clock(), captcha_solved=False)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    now = deps.clock()
    token = new_token()
    async with deps.store.unit() as uow:
        loaded = await load_ref(uow, ref)
        if loaded is None:
            raise InvalidCredentials()
        flow = await flows.create(uow, SPEC, client.browser_hash, now,
                                  MfaRecovery(ref, ref.id, hash_token(token), now + LINK_LIFETIME))
        await _mail_link(deps, uow, client, loaded.account.root_email, ref.id, flow.id, token)
        await audit.record(uow, at=now, event="MfaRecoveryStarted", result="Success", client=client,
                           account_id=ref.id, principal=loaded.principal.arn, method="email_link")
    return flow


async def resend(deps: Deps, client: Client, flow_id: str) -> MfaRecoveryFlow:
    """A new link (the older one stops working), at most MAX_RESENDS times per flow."""
    flow = await load(deps, client, flow_id)
    if flow.payload.resent >= MAX_RESENDS:
        raise TooManyAttempts(int(flow.expires_at - deps.clock()))
    refused = await deps.throttle.reserve(_mail_keys(flow.payload.account_id), deps.clock(), captcha_solved=False)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    now = deps.clock()
    token = new_token()
    async with deps.store.unit() as uow:
        loaded = await load_ref(uow, flow.payload.principal)
        if loaded is None:
            raise InvalidCredentials()
        flow.payload = flow.payload.new_link(hash_token(token), min(now + LINK_LIFETIME, flow.expires_at))
        await flows.save(uow, flow)
        await _mail_link(deps, uow, client, loaded.account.root_email, flow.payload.account_id, flow.id, token)
    return flow


async def load(deps: Deps, client: Client, flow_id: str) -> MfaRecoveryFlow:
    """This browser's live recovery flow (FlowWrongBrowser for a link opened in another browser)."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), MfaRecoveryState.LINK_SENT)
    return flow


async def open_link(deps: Deps, client: Client, flow_id: str, token: str) -> LinkPage:
    """The page the mailed link opens; RecoveryLinkInvalid for a replaced or expired link."""
    flow = await load(deps, client, flow_id)
    if not flow.payload.link_matches(token, deps.clock()):
        raise RecoveryLinkInvalid()
    async with deps.store.unit() as uow:
        loaded = await load_ref(uow, flow.payload.principal)
    if loaded is None:
        raise RecoveryLinkInvalid()
    return LinkPage(flow, mask_email(loaded.account.root_email))


async def risk(deps: Deps, client: Client, flow: MfaRecoveryFlow) -> ThrottleDecision:
    """Whether a code typed now needs a CAPTCHA (as a password at sign-in would), for the code page."""
    return await gate.risk(deps, _code_keys(flow.payload.account_id, client))


async def submit_code(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str, token: str, code: str,
                      captcha_answer: str = "", previous_session: str = "") -> SignedIn:
    """CaptchaRequired or CaptchaInvalid once the root user's counter asks for one, TooManyAttempts while it
    or the codes counter makes guesses wait, InvalidRecoveryCode for a wrong or used code."""
    flow = await load(deps, client, flow_id)
    if not flow.payload.link_matches(token, deps.clock()):
        raise RecoveryLinkInvalid()
    account_id = flow.payload.account_id
    keys = _code_keys(account_id, client)
    await gate.admit(deps, client, keys, captcha, captcha_answer)  # reserved: a wrong guess stays counted
    flow = await flows.reserve_attempt(deps.store, SPEC, flow, lambda again: again.check(
        client.browser_hash, deps.clock(), MfaRecoveryState.LINK_SENT))
    now = deps.clock()
    signed: SignedIn | None = None
    async with deps.store.unit() as uow:
        loaded = await load_ref(uow, flow.payload.principal)
        if loaded is not None and await recovery_codes.use(deps, uow, loaded.principal.key, code):
            principal = loaded.principal
            left = await uow.recovery_codes.unused(principal.key)
            await audit.record(uow, at=now, event=EVENT, result="Success", client=client, account_id=account_id,
                               principal=principal.arn, method=METHOD, codes_left=left)
            await _mail_notice(deps, uow, loaded.account.root_email, account_id, client, left)
            signed = await complete_sign_in(deps.session_ports, within=uow, principal=principal, client=client,
                                            method=METHOD, mfa_used=False, flow=flow,
                                            previous_session=previous_session)
    if signed is not None:
        clear = [k for k in keys if k.scope is not Scope.CLIENT]
        await deps.throttle.settle([*clear, *_mail_keys(account_id)], [k for k in keys if k.scope is Scope.CLIENT])
        return signed
    if not flow.reserved_attempt_failed(deps.clock()):
        async with deps.store.unit() as uow:
            await flows.save(uow, flow)
    metrics.record_sign_in(PrincipalKind.ROOT, "recovery_code", success=False)
    async with deps.store.unit() as uow:
        await audit.record(uow, at=deps.clock(), event="ConsoleLogin", result="Failure", client=client,
                           account_id=account_id, principal=ids.root_arn(account_id), method="recovery_code",
                           reason="wrong or used recovery code")
    raise InvalidRecoveryCode()


def link_url(deps: Deps, flow_id: str, token: str) -> str:
    return f"{deps.settings.public_origin}/signin/recover/link?flow={flow_id}&token={token}"


async def _mail_link(deps: Deps, uow: UnitOfWork, client: Client, to: str, account_id: str, flow_id: str,
                     token: str) -> None:
    """After the root password, from the sign-in page: that page's language (kept)."""
    mail = await mail_templates.compose(deps, uow, "mfa_recovery_link", to=to, language=client.language,
                                        principal=PrincipalRef.root(account_id).key, remember=True,
                                        account_id=ids.format_account_id(account_id),
                                        link=link_url(deps, flow_id, token))
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.MFA_RECOVERY_LINK, lifetime=LINK_LIFETIME)


async def _mail_notice(deps: Deps, uow: UnitOfWork, to: str, account_id: str, client: Client, left: int) -> None:
    """The address and a summary of the browser from a fixed vocabulary (never the user agent's own text,
    which the client chose: core/attempt_origin.py)."""
    origin = describe_origin(client.ip, client.user_agent)
    mail = await mail_templates.compose(deps, uow, "mfa_recovered_notice", to=to, language=client.language,
                                        principal=PrincipalRef.root(account_id).key, remember=True,
                                        account_id=ids.format_account_id(account_id), client_address=origin.address,
                                        browser=origin.browser_label, codes_left=left)
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.MFA_RECOVERED, lifetime=NOTICE_LIFETIME)
