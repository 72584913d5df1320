"""My details of a personal profile: its name and nickname, and its contact email.

The email change needs the password again (`security.reauthenticate`), then mails a 6-digit code to the new
address (10 minutes, single use, a few tries, a new code after a short wait and at most `MAX_RESENDS` times, the
mails of one profile's changes on a budget); the right code, typed in the same session and browser, changes the
address, and the old address is told (only a hint of the new one).

No enumeration: an address that another profile uses is not refused on the page. The same "code sent" page is
shown, the address gets a notice ("already in use by a personal profile") instead of a code, no code finishes the
change, and nothing changes; the signed-in user learns no more than a stranger typing the address would."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from ...core import identifiers as ids
from ...core.flows.base import FlowConflict, FlowNotFound
from ...core.flows.email_codes import EMAIL_CODE_LIFETIME, MAX_RESENDS, EmailCode
from ...core.flows.profile_email import SPEC, ProfileEmailChange, ProfileEmailFlow, ProfileEmailState
from ...core.outbox import MailKind
from ...core.principals import PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...core.tokens import hash_token, new_numeric_code, new_token, token_matches
from ...errors import CodeExpired, InvalidCode, InvalidInput, TooManyAttempts, VestibuleError
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, flows, mail_templates, mfa, outbox
from ..context import Client, Deps
from ..throttling import guess
from .accounts import ProfileView, principal_name, stored_email, view
from .security import Reauthenticated

NAME_LIMIT = 100
NAME_CHANGED, EMAIL_REQUESTED, EMAIL_RESENT, EMAIL_CHANGED = (
    "ProfileDetailsChanged", "ProfileEmailChangeRequested", "ProfileEmailChangeCodeResent", "ProfileEmailChanged")


class ProfileGone(VestibuleError):
    """The profile was deleted while the page was open."""

    code = "profile_settings.profile_gone"


class ProfileNameInvalid(VestibuleError):
    code = "profile_settings.name_invalid"


class NicknameInvalid(VestibuleError):
    code = "profile_settings.nickname_invalid"


class EmailUnchanged(VestibuleError):
    code = "profile_settings.email_same"


class EmailNotUsable(VestibuleError):
    """The address got another profile while the change waited for its code (a race only its owner's
    mailbox could have finished: the code was mailed to it)."""

    code = "profile_settings.email_not_usable"


def checked_name(raw: str) -> str:
    """Spaces collapsed; 1 to 100 printable characters."""
    value = " ".join(raw.split())
    if not value or len(value) > NAME_LIMIT or not value.isprintable():
        raise ProfileNameInvalid()
    return value


def checked_nickname(raw: str) -> str | None:
    """Like a name, but may be empty (no nickname: None)."""
    value = " ".join(raw.split())
    if not value:
        return None
    if len(value) > NAME_LIMIT or not value.isprintable():
        raise NicknameInvalid()
    return value


async def update_names(deps: Deps, client: Client, profile_id: str, name: str, nickname: str) -> ProfileView:
    """Save the name and nickname; audited with the names of the fields that changed (never their values)."""
    new_name, new_nickname = checked_name(name), checked_nickname(nickname)
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
        if profile is None:
            raise ProfileGone()
        changed = [f for f, before, after in (("name", profile.name, new_name),
                                               ("nickname", profile.nickname, new_nickname)) if before != after]
        if changed:
            profile.name, profile.nickname = new_name, new_nickname
            await uow.profiles.save(profile)
            await audit.record(uow, at=deps.clock(), event=NAME_CHANGED, result="Success", client=client,
                               principal=principal_name(profile_id), method="profile", fields=changed)
        return view(profile)


# ---- the contact email -------------------------------------------------------------------------------------

def mail_key(profile_id: str) -> ThrottleKey:
    """The budget of code mails of one profile's email changes (every node counts on it): a few freely, then a
    growing wait."""
    return ThrottleKey(Scope.CODES, f"profile-email-mail:{profile_id}")


def _code_keys(profile_id: str) -> list[ThrottleKey]:
    """A guess at an email-change code counts on the profile's one-time codes (shared with its TOTP codes)."""
    return mfa.code_keys(PrincipalRef.profile(profile_id).key)


def _normalized(raw: str) -> str:
    try:
        return stored_email(ids.normalize_email(raw))
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None


async def _spend_mail(deps: Deps, profile_id: str) -> None:
    refused = await deps.throttle.reserve([mail_key(profile_id)], deps.clock(), captcha_solved=False)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))


async def start_email_change(deps: Deps, client: Client, profile_id: str, proof: Reauthenticated,
                             new_email: str) -> ProfileEmailFlow:
    """Mail a code to `new_email` (or, when another profile has it, a notice) and return the flow that takes the
    code. The same answer either way."""
    email = _normalized(new_email)
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
    if profile is None:
        raise ProfileGone()
    if email == profile.email:
        raise EmailUnchanged()
    await _spend_mail(deps, profile_id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        owner = await uow.profiles.by_email(email)
        deliverable = owner is None
        code = new_numeric_code()
        # an undeliverable change keeps the hash of a secret never shown: no typed code can match it
        code_hash = hash_token(code if deliverable else new_token())
        flow = await flows.create(uow, SPEC, client.browser_hash, now, ProfileEmailChange(
            profile_id, proof.session_hash, profile.email, email, EmailCode(code_hash, now + EMAIL_CODE_LIFETIME),
            deliverable))
        await _queue_code(deps, uow, client, flow.payload, code, owner.id if owner is not None else None)
        await audit.record(uow, at=now, event=EMAIL_REQUESTED, result="Success", client=client,
                           principal=principal_name(profile_id), method="profile", reauthenticated_at=proof.at)
    return flow


async def load_email_change(deps: Deps, client: Client, profile_id: str, session_hash: str,
                            flow_id: str) -> ProfileEmailFlow:
    """This session's change in this browser, waiting for its code; a FlowError otherwise."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
    flow.check(client.browser_hash, deps.clock(), ProfileEmailState.VERIFY_CODE)
    if flow.payload.session_hash != session_hash or flow.payload.profile_id != profile_id:
        raise FlowNotFound()
    return flow


def resend_in(flow: ProfileEmailFlow, now: float) -> int:
    """Seconds before another code may be asked for (0: now)."""
    return flow.payload.email_code.resend_wait(now)


async def resend_code(deps: Deps, client: Client, profile_id: str, session_hash: str,
                      flow_id: str) -> ProfileEmailFlow:
    """A new code (the last one stops working) RESEND_WAIT seconds after the last, at most MAX_RESENDS times,
    each on the profile's mail budget; TooManyAttempts(seconds) otherwise."""
    flow = await load_email_change(deps, client, profile_id, session_hash, flow_id)
    change = flow.payload
    now = deps.clock()
    if change.email_code.resent >= MAX_RESENDS:
        raise TooManyAttempts(max(1, int(flow.expires_at - now)))
    wait = resend_in(flow, now)
    if wait:
        raise TooManyAttempts(wait)
    await _spend_mail(deps, profile_id)
    code = new_numeric_code()
    async with deps.store.unit() as uow:
        owner = await uow.profiles.by_email(change.new_email)
        code_hash = hash_token(code if change.deliverable else new_token())
        flow.payload = replace(change, email_code=EmailCode(code_hash, now + EMAIL_CODE_LIFETIME,
                                                            change.email_code.resent + 1))
        await flows.save(uow, flow)  # (compare-and-set: two resends at once mail one code)
        await _queue_code(deps, uow, client, flow.payload, code, owner.id if owner is not None else None)
        await audit.record(uow, at=now, event=EMAIL_RESENT, result="Success", client=client,
                           principal=principal_name(profile_id), method="profile",
                           resent=change.email_code.resent + 1)
    return flow


@dataclass(frozen=True)
class EmailChanged:
    old_email: str
    new_email: str


async def verify_code(deps: Deps, client: Client, profile_id: str, session_hash: str, flow_id: str,
                      code: str) -> EmailChanged:
    """The code typed: one of the flow's few attempts and one guess on the profile's one-time-code counter.
    Right: the address changes and the old one is told. InvalidCode, CodeExpired, TooManyAttempts."""
    flow = await load_email_change(deps, client, profile_id, session_hash, flow_id)
    if flow.payload.email_code.expired(deps.clock()):
        raise CodeExpired()
    flow = await flows.reserve_attempt(deps.store, SPEC, flow, lambda again: again.check(
        client.browser_hash, deps.clock(), ProfileEmailState.VERIFY_CODE))
    change = flow.payload

    async def check() -> bool | None:
        ok = token_matches(code.strip(), change.email_code.code_hash) and change.deliverable
        return True if ok else None

    right = await guess(deps.throttle, deps.clock, _code_keys(profile_id), check)
    now = deps.clock()
    if right is None:
        async with deps.store.unit() as uow:
            if not flow.reserved_attempt_failed(now):
                with contextlib.suppress(FlowConflict):  # (a lost race changes nothing: no attempt is left)
                    await flows.save(uow, flow)
            await audit.record(uow, at=now, event=EMAIL_CHANGED, result="Failure", client=client,
                               principal=principal_name(profile_id), method="email_code",
                               reason="wrong verification code")
        raise InvalidCode()
    try:
        async with deps.store.unit() as uow:
            profile = await uow.profiles.by_id(profile_id)
            if profile is None:
                raise ProfileGone()
            if profile.email != change.old_email:  # changed meanwhile (another change in another tab)
                raise CodeExpired()
            if await uow.profiles.by_email(change.new_email) is not None:
                raise EmailNotUsable()
            profile.email = change.new_email
            await uow.profiles.save(profile)
            flow.complete()
            await flows.save(uow, flow)
            await audit.record(uow, at=now, event=EMAIL_CHANGED, result="Success", client=client,
                               principal=principal_name(profile_id), method="email_code")
            notice = await mail_templates.compose(
                deps, uow, "profile_email_changed", to=change.old_email, language=client.language,
                principal=PrincipalRef.profile(profile_id).key, remember=True, new_email=masked(change.new_email))
            await outbox.enqueue(uow, deps.outbox, notice, kind=MailKind.PROFILE_EMAIL_CHANGED)
    except Conflict:  # the address was taken by a concurrent sign-up or change
        raise EmailNotUsable() from None
    return EmailChanged(change.old_email, change.new_email)


def masked(email: str) -> str:
    """`m*****@example.com`: a hint of an address for a mail to another one."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(1, min(len(local) - 1, 6))}@{domain}"


async def _queue_code(deps: Deps, uow: UnitOfWork, client: Client, change: ProfileEmailChange, code: str,
                      owner_id: str | None) -> None:
    """The code, in the signed-in profile's page language (kept); or the notice that the address is in use, in
    the language of the profile that uses it (its remembered one, else this page's)."""
    if change.deliverable:
        mail = await mail_templates.compose(deps, uow, "profile_email_code", to=change.new_email,
                                            language=client.language,
                                            principal=PrincipalRef.profile(change.profile_id).key, remember=True,
                                            code=code)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.PROFILE_EMAIL_CODE, lifetime=EMAIL_CODE_LIFETIME)
        return
    mail = await mail_templates.compose(deps, uow, "profile_email_taken", to=change.new_email,
                                        language=client.language,
                                        principal=PrincipalRef.profile(owner_id).key if owner_id else "")
    await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.PROFILE_EMAIL_TAKEN, lifetime=EMAIL_CODE_LIFETIME)
