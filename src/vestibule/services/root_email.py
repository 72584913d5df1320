"""Changing the root user's email address.

In the console (after re-authentication): the new address gets a 6-digit code; the right code, typed in the same
session and browser within 10 minutes, changes the address. The old address then gets a notice with an undo link
(7 days, single use, stored as SHA-256) that puts the old address back and ends every session of the root user.
While that link is usable the old address stays reserved for the account (no new account, and no other account's
change, may take it), so the undo can always be done.

One address belongs to one account's root user. An address that cannot be used (another account's, or reserved)
is never refused on the page: the same "code sent" page is shown and the address gets a notice instead of a
code, so the signed-in user learns no more than a stranger would (nothing), and whoever owns the address learns
only that it is already in use.

By an operator (`vestibule account set-email`): no code, audited, a notice to the old address (no undo link: an
operator's change is how an owner who lost the old address gets back in), and earlier undo links ended."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from ..core import identifiers as ids
from ..core.flows.base import FlowConflict, FlowNotFound
from ..core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, EmailCode
from ..core.flows.root_email import (
    SPEC,
    UNDO_LIFETIME,
    UNDO_SPEC,
    RootEmailChangeRequest,
    RootEmailFlow,
    RootEmailState,
    UndoFlow,
    UndoLink,
    UndoState,
)
from ..core.outbox import MailKind
from ..core.principals import PrincipalRef
from ..core.throttle import Scope, ThrottleKey
from ..core.tokens import hash_token, new_numeric_code, new_token, token_matches
from ..errors import (
    AlreadyExists,
    CodeExpired,
    InvalidCode,
    InvalidCredentials,
    InvalidInput,
    PermissionDenied,
    RootEmailNotUsable,
    RootEmailUnchanged,
    TooManyAttempts,
)
from ..store.models import Account, RootEmailChange
from ..store.repositories import Conflict, UnitOfWork
from . import audit, flows, mail_templates, mfa, outbox, sessions
from .captcha import CaptchaService
from .context import Client, Deps
from .mail import Mail
from .passwords import verify_password
from .principals import Principal
from .principals import load as load_principal
from .reauthentication import Reauthenticated
from .signin import gate
from .throttling import guess

REQUESTED, RESENT = "RootEmailChangeRequested", "RootEmailChangeCodeResent"
CHANGED, UNDONE = "RootEmailChanged", "RootEmailChangeUndone"


def _mail_key(account_id: str) -> ThrottleKey:
    """The budget of code mails of one account's changes (every node counts on it): 5 freely, then a growing
    wait, none for an hour after 10 in a day (the one-time-code rule)."""
    return ThrottleKey(Scope.CODES, f"root-email-mail:{account_id}")


def _normalized(raw: str) -> str:
    try:
        return ids.normalize_email(raw)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None


async def usable_by(uow: UnitOfWork, email: str, account_id: str, now: float) -> bool:
    """May `account_id`'s root user take `email`: no other account's root email (closed ones included), and
    not kept for another account's undo link."""
    other = await uow.accounts.by_email(email)
    if other is not None and other.id != account_id:
        return False
    reserved = await uow.root_email_changes.reserved_for(email, now)
    return reserved is None or reserved == account_id


async def reserved(uow: UnitOfWork, email: str, now: float) -> bool:
    """Kept for an account's undo link (a new account may not take it)."""
    return await uow.root_email_changes.reserved_for(email, now) is not None


async def _spend_mail(deps: Deps, account_id: str) -> None:
    refused = await deps.throttle.reserve([_mail_key(account_id)], deps.clock(), captcha_solved=False)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))


async def _active_account(uow: UnitOfWork, account_id: str) -> Account:
    account = await uow.accounts.get(account_id)
    if account is None or account.status != "active":
        raise PermissionDenied("the account is not active")
    return account


async def start(deps: Deps, client: Client, principal: Principal, proof: Reauthenticated,
                new_email: str) -> RootEmailFlow:
    """Mail a code to `new_email` (or, when it cannot be used, a notice) and return the flow that takes it."""
    if principal.kind != "root":
        raise PermissionDenied("only the root user changes the root email")
    email = _normalized(new_email)
    async with deps.store.unit() as uow:
        account = await _active_account(uow, principal.account_id)
    if email == account.root_email:
        raise RootEmailUnchanged("That is already the root email of this account.")
    await _spend_mail(deps, account.id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        deliverable = await usable_by(uow, email, account.id, now)
        code = new_numeric_code()
        flow = await flows.create(uow, SPEC, client.browser_hash, now, RootEmailChangeRequest(
            account.id, proof.session_hash, account.root_email, email,
            EmailCode(hash_token(code), now + EMAIL_CODE_LIFETIME), now, deliverable))
        await _queue_code(deps, uow, client, flow.payload, code)
        await audit.record(uow, at=now, event=REQUESTED, result="Success", client=client, account_id=account.id,
                           principal=principal.arn, method="console", new_email=email,
                           reauthenticated_at=proof.at)
    return flow


async def load(deps: Deps, client: Client, principal: Principal, session_hash: str, flow_id: str) -> RootEmailFlow:
    """This session's change in this browser, waiting for its code; a FlowError otherwise."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), RootEmailState.VERIFY_CODE)
    if flow.payload.session_hash != session_hash or flow.payload.account_id != principal.account_id:
        raise FlowNotFound()
    return flow


async def resend(deps: Deps, client: Client, principal: Principal, session_hash: str, flow_id: str) -> RootEmailFlow:
    flow = await load(deps, client, principal, session_hash, flow_id)
    request = flow.payload
    now = deps.clock()
    if request.email_code.resent >= MAX_RESENDS:
        raise TooManyAttempts(max(1, int(flow.expires_at - now)))
    wait = request.resend_in(now)
    if wait:
        raise TooManyAttempts(wait)
    await _spend_mail(deps, request.account_id)
    code = new_numeric_code()
    async with deps.store.unit() as uow:
        flow.payload = replace(request, email_code=EmailCode(hash_token(code), now + EMAIL_CODE_LIFETIME,
                                                             request.email_code.resent + 1), sent_at=now)
        await flows.save(uow, flow)
        await _queue_code(deps, uow, client, flow.payload, code)
        await audit.record(uow, at=now, event=RESENT, result="Success", client=client, account_id=request.account_id,
                           principal=principal.arn, method="console", new_email=request.new_email,
                           resent=request.email_code.resent + 1)
    return flow


@dataclass(frozen=True)
class Changed:
    account_id: str
    old_email: str
    new_email: str


async def verify(deps: Deps, client: Client, principal: Principal, session_hash: str, flow_id: str,
                 code: str) -> Changed:
    """The code typed: one of the flow's few attempts, and one guess on the root user's one-time-code counter
    (shared with sign-in codes). Right: the address changes and the old one gets its undo link."""
    flow = await load(deps, client, principal, session_hash, flow_id)
    if flow.payload.email_code.expired(deps.clock()):
        raise CodeExpired()
    flow = await flows.reserve_attempt(deps.store, SPEC, flow, lambda again: again.check(
        client.browser_hash, deps.clock(), RootEmailState.VERIFY_CODE))
    request = flow.payload
    root = PrincipalRef.root(request.account_id)

    async def check() -> bool | None:
        ok = request.deliverable and token_matches(code.strip(), request.email_code.code_hash)
        return True if ok else None

    right = await guess(deps.throttle, deps.clock, mfa.code_keys(root.key), check)
    now = deps.clock()
    if right is None:
        async with deps.store.unit() as uow:
            if not flow.reserved_attempt_failed(now):
                with contextlib.suppress(FlowConflict):
                    await flows.save(uow, flow)
            await audit.record(uow, at=now, event=CHANGED, result="Failure", client=client,
                               account_id=request.account_id, principal=principal.arn, method="email_code",
                               reason="wrong verification code")
        raise InvalidCode()
    try:
        async with deps.store.unit() as uow:
            account = await _active_account(uow, request.account_id)
            if account.root_email != request.old_email:  # changed meanwhile (another change, an operator)
                raise CodeExpired()
            if not await usable_by(uow, request.new_email, account.id, now):
                raise RootEmailNotUsable("That email address cannot be used as this account's root email.")
            account.root_email = request.new_email
            await uow.accounts.save()
            token = new_token()
            await uow.root_email_changes.add(RootEmailChange(
                token_hash=hash_token(token), account_id=account.id, old_email=request.old_email,
                new_email=request.new_email, created_at=now, expires_at=now + UNDO_LIFETIME, used_at=None))
            flow.complete()
            await flows.save(uow, flow)
            await audit.record(uow, at=now, event=CHANGED, result="Success", client=client, account_id=account.id,
                               principal=principal.arn, method="email_code", old_email=request.old_email,
                               new_email=request.new_email)
            notice = await _changed_mail(deps, uow, client, request.old_email, account.id, request.new_email, token)
            await outbox.enqueue(uow, deps.outbox, notice, kind=MailKind.ROOT_EMAIL_CHANGED, lifetime=UNDO_LIFETIME)
    except Conflict:  # the address was taken by a concurrent change or sign-up
        raise RootEmailNotUsable("That email address cannot be used as this account's root email.") from None
    return Changed(request.account_id, request.old_email, request.new_email)


# ---- the undo link ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UndoOffer:
    account_id: str
    restores: str  # the old address, which the link's mail went to
    replaces: str  # the address that would be removed, partly hidden


def masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(1, min(len(local) - 1, 6))}@{domain}"


async def _usable_link(uow: UnitOfWork, token_hash: str, now: float) -> RootEmailChange | None:
    row = await uow.root_email_changes.get(token_hash) if token_hash else None
    return row if row is not None and row.used_at is None and now < row.expires_at else None


async def open_undo(deps: Deps, client: Client, token: str) -> UndoFlow | None:
    """Exchange the mailed link for a flow bound to this browser (nothing changes on opening it: a mail
    scanner following links undoes nothing); None when the link is not usable."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        if await _usable_link(uow, hash_token(token) if token else "", now) is None:
            return None
        # one flow per link and browser, however often the link is opened (no unbounded rows)
        flow_id = hash_token(f"root-email-undo\x00{token}\x00{client.browser_hash}")
        try:
            flow = await flows.load(uow, UNDO_SPEC, flow_id)
        except FlowNotFound:
            return await flows.create(uow, UNDO_SPEC, client.browser_hash, now, UndoLink(hash_token(token)),
                                      flow_id=flow_id)
        if now >= flow.expires_at and not flow.done:  # the link outlives its flow: the same row again
            flow.expires_at = now + UNDO_SPEC.lifetime
            await flows.save(uow, flow)
        return flow


async def undo_offer(deps: Deps, client: Client, flow_id: str) -> tuple[UndoFlow, UndoOffer]:
    """The undo flow of this browser and what it would do; FlowError, or CodeExpired when the link went."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, UNDO_SPEC, flow_id)
        flow.check(client.browser_hash, deps.clock(), UndoState.CONFIRM)
        row = await _usable_link(uow, flow.payload.token_hash, deps.clock())
    if row is None:
        raise CodeExpired()
    return flow, UndoOffer(row.account_id, row.old_email, masked(row.new_email))


async def _check_root_password(deps: Deps, client: Client, account_id: str, password: str,
                               captcha: CaptchaService, captcha_answer: str) -> None:
    """The undo link alone proves only the old mailbox: whoever holds it must also know the root password
    (throttled and counted as a root sign-in is), or the mailbox alone would take the account over (undo,
    then reset the password through the restored address). With MFA too, the password is still the minimum
    asked: the undo signs nobody in, and signing in after a password reset still asks for the MFA code."""
    root = PrincipalRef.root(account_id)
    admission = await gate.admit(deps, client, gate.root_keys(account_id, "", client), captcha, captcha_answer)
    async with deps.store.unit() as uow:
        loaded = await load_principal(uow, root.key)
    if not await verify_password(deps, loaded.password_hash if loaded is not None else None, password):
        async with deps.store.unit() as uow:
            await audit.record(uow, at=deps.clock(), event=UNDONE, result="Failure", client=client,
                               account_id=account_id, principal=ids.root_arn(account_id), method="email_link",
                               reason="wrong password")
        raise InvalidCredentials()
    await gate.succeeded(deps, admission)


async def undo(deps: Deps, client: Client, flow_id: str, password: str, captcha: CaptchaService,
               captcha_answer: str = "") -> UndoOffer:
    """With the root password: put the old address back (newer undo links of the account end; older ones
    stay), end every session of the root user, forget its known browsers (a browser whoever changed the address
    used asks for the code again), tell the restored address and the removed one."""
    flow, offer = await undo_offer(deps, client, flow_id)
    await _check_root_password(deps, client, offer.account_id, password, captcha, captcha_answer)
    now = deps.clock()
    async with deps.store.unit() as uow:
        row = await _usable_link(uow, flow.payload.token_hash, now)
        account = await uow.accounts.get(row.account_id) if row is not None else None
        if row is None or account is None or account.status != "active":
            raise CodeExpired()
        if not await usable_by(uow, row.old_email, account.id, now):
            raise RootEmailNotUsable("That email address cannot be used as this account's root email.")
        if not await uow.root_email_changes.consume(row.token_hash, now):
            raise CodeExpired()
        await uow.root_email_changes.supersede(account.id, now, after=row.created_at)
        removed = account.root_email
        account.root_email = row.old_email
        try:
            await uow.accounts.save()
        except Conflict:
            raise RootEmailNotUsable("That email address cannot be used as this account's root email.") from None
        flow.complete()
        await flows.save(uow, flow)
        ended = await sessions.end_all(uow, deps.session_ports, PrincipalRef.root(account.id).key, now)
        forgotten = await uow.browsers.forget_all(PrincipalRef.root(account.id).key)
        await audit.record(uow, at=now, event=UNDONE, result="Success", client=client, account_id=account.id,
                           principal=ids.root_arn(account.id), method="email_link+password",
                           restored=row.old_email, removed=removed, sessions_ended=ended,
                           browsers_forgotten=forgotten)
        await outbox.enqueue(uow, deps.outbox, await _restored_mail(deps, uow, client, row.old_email, account.id),
                             kind=MailKind.ROOT_EMAIL_RESTORED)
        await outbox.enqueue(uow, deps.outbox, await _removed_mail(deps, uow, client, removed, account.id,
                                                                     row.old_email),
                             kind=MailKind.ROOT_EMAIL_RESTORED)
    return offer


# ---- the operator's change -------------------------------------------------------------------------------

async def set_by_operator(deps: Deps, uow: UnitOfWork, account: Account, new_email: str,
                          client: Client = Client()) -> str:
    """`vestibule account set-email`: no verification; audited; the old address told; undo links ended."""
    email = _normalized(new_email)
    if email == account.root_email:
        raise RootEmailUnchanged("That is already the root email of this account.")
    now = deps.clock()
    if not await usable_by(uow, email, account.id, now):
        raise AlreadyExists("email", "That email address is the root email of another account, or kept for "
                                     "one's undo link.")
    old = account.root_email
    account.root_email = email
    try:
        await uow.accounts.save()
    except Conflict:
        raise AlreadyExists("email", "That email address is the root email of another account.") from None
    ended = await uow.root_email_changes.supersede(account.id, now)
    await audit.record(uow, at=now, event=CHANGED, result="Success", client=client, account_id=account.id,
                       principal=ids.root_arn(account.id), method="cli", old_email=old, new_email=email,
                       undo_links_ended=ended)
    await outbox.enqueue(uow, deps.outbox, await _operator_mail(deps, uow, old, account.id, email),
                         kind=MailKind.ROOT_EMAIL_CHANGED)
    return old


# ---- mail (templates in vestibule/mail_templates/) ---------------------------------------------------------

async def _queue_code(deps: Deps, uow: UnitOfWork, client: Client, request: RootEmailChangeRequest,
                      code: str) -> None:
    """The code, in the signed-in root user's page language (kept); a notice instead when the address cannot
    be used, in the language of the account that uses it (its root user's, else this page's)."""
    account = ids.format_account_id(request.account_id)
    root = PrincipalRef.root(request.account_id).key
    if request.deliverable:
        mail = await mail_templates.compose(deps, uow, "root_email_code", to=request.new_email,
                                            language=client.language, principal=root, remember=True, code=code,
                                            account_id=account)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.ROOT_EMAIL_CODE, lifetime=EMAIL_CODE_LIFETIME)
        return
    owner = await uow.accounts.by_email(request.new_email)
    mail = await mail_templates.compose(deps, uow, "root_email_taken", to=request.new_email,
                                        language=client.language,
                                        principal=PrincipalRef.root(owner.id).key if owner is not None else "")
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.ROOT_EMAIL_TAKEN, lifetime=EMAIL_CODE_LIFETIME)


async def _changed_mail(deps: Deps, uow: UnitOfWork, client: Client, to: str, account_id: str, new_email: str,
                        token: str) -> Mail:
    """To the old address, after the signed-in root user's own change: that page's language."""
    return await mail_templates.compose(
        deps, uow, "root_email_changed", to=to, language=client.language, principal=PrincipalRef.root(account_id).key,
        remember=True, account_id=ids.format_account_id(account_id), new_email=masked(new_email),
        link=f"{deps.settings.public_origin}/email/undo?token={token}")


async def _restored_mail(deps: Deps, uow: UnitOfWork, client: Client, to: str, account_id: str) -> Mail:
    """After the undo link (which proved the old address): that page's language."""
    return await mail_templates.compose(deps, uow, "root_email_restored", to=to, language=client.language,
                                        principal=PrincipalRef.root(account_id).key, remember=True,
                                        account_id=ids.format_account_id(account_id))


async def _removed_mail(deps: Deps, uow: UnitOfWork, client: Client, to: str, account_id: str,
                        restored: str) -> Mail:
    """To the address the undo removed: the change was undone from the old address; what to do."""
    return await mail_templates.compose(deps, uow, "root_email_undone_removed", to=to, language=client.language,
                                        principal=PrincipalRef.root(account_id).key,
                                        account_id=ids.format_account_id(account_id), restored=masked(restored))


async def _operator_mail(deps: Deps, uow: UnitOfWork, to: str, account_id: str, new_email: str) -> Mail:
    """An operator's command has no page: the root user's remembered language."""
    return await mail_templates.compose(deps, uow, "root_email_changed_by_operator", to=to,
                                        principal=PrincipalRef.root(account_id).key,
                                        account_id=ids.format_account_id(account_id), new_email=masked(new_email))
