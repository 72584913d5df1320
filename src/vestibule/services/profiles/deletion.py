"""Deleting a personal profile: every disclaimer ticked, the password and, when the profile has a second factor,
one of them (a code of its authenticator app, or an answer of its passkey or security key to the page's challenge,
kept in a `profile_delete` flow of this session and browser, shown again on a reload while it has time left,
spent before it is checked) confirmed, then in one transaction every record of the profile is erased or anonymised:

- erased: the profile row, its password history, MFA devices (TOTP and WebAuthn), trusted browsers, known
  browsers, data exports, remembered mail language, its open flows (sign-in, sign-up, recovery) and its session
  rows, each session first revoked through the bus so every node refuses it at the next request;
- anonymised: its audit events keep happening-and-when, but name `profile/deleted-<hex>` (an HMAC of the profile
  ID under the keyring's signing key: stable, so the events still read as one history, and not reversible
  without the key); the email address or ID in an event's detail is replaced by the same pseudonym.

The address is mailed a notice. Afterwards the email is unknown: signing in fails as for any unknown address,
and a new profile may be created with it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ...core.flows import profile_delete
from ...core.flows.base import FlowError, FlowKind
from ...core.flows.profile_delete import ProfileDelete, ProfileDeleteState
from ...core.outbox import MailKind
from ...core.principals import PrincipalKind, PrincipalRef
from ...core.throttle import ThrottleKey
from ...errors import InvalidCode, InvalidCredentials, VestibuleError
from ...store.models import MfaDevice
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, flows, mail_templates, mfa, outbox, sessions, webauthn
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import verify_password
from ..signin import gate
from . import details, recovery, signup
from .accounts import principal_name
from .passkeys import KeyRefused
from .signin import signin_keys

EVENT = "ProfileDeleted"
_NO_CLIENT = Client(ip="")  # the address-named counters only: the client's are not the profile's
DISCLAIMERS = ("services", "data", "irreversible")  # each is a checkbox the page shows; all must be ticked
# the kinds of flow that can name a profile: its own, and adding an authenticator app, a passkey or a security key
_PROFILE_FLOWS = (*(kind.value for kind in FlowKind if kind.value.startswith("profile_")),
                  FlowKind.MFA_ENROLMENT.value, FlowKind.WEBAUTHN_REGISTRATION.value)


def _counters(profile_id: str, email: str, devices: Sequence[MfaDevice]) -> list[ThrottleKey]:
    """Every throttle counter named after the profile, its address or its devices."""
    return [*signin_keys(email, _NO_CLIENT)[:1], *recovery.request_keys(email, _NO_CLIENT)[:1],
            *signup.mail_keys(email, _NO_CLIENT)[:1], *signup.code_keys(email), details.mail_key(profile_id),
            *mfa.code_keys(PrincipalRef.profile(profile_id).key, devices)]


class DisclaimersNotAccepted(VestibuleError):
    code = "profile_privacy.disclaimers_missing"


def pseudonym(key: bytes, profile_id: str) -> str:
    """What the audit events of a deleted profile name: `profile/deleted-<24 hex>` (HMAC-SHA256 of the ID)."""
    digest = hmac.new(key, f"deleted profile\x00{profile_id}".encode(), hashlib.sha256).hexdigest()
    return f"profile/deleted-{digest[:24]}"


async def has_authenticator_app(deps: Deps, profile_id: str) -> bool:
    async with deps.store.unit() as uow:
        return bool(await uow.mfa.enabled_for(PrincipalRef.profile(profile_id).key))


@dataclass(frozen=True)
class Factors:
    """The second factors the deletion page asks one of: the code form, and/or the options for
    navigator.credentials.get (the profile's passkeys and security keys)."""

    totp: bool
    webauthn_options: str | None


async def _has_keys(deps: Deps, key: str) -> tuple[bool, bool]:
    async with deps.store.unit() as uow:
        return bool(await uow.mfa.enabled_for(key)), await webauthn.has_credentials(uow, key)


def _flow_id(session_hash: str, client: Client) -> str:
    return profile_delete.flow_id_of(f"{session_hash}:{client.browser_hash}")


async def factors(deps: Deps, client: Client, session_hash: str, profile_id: str) -> Factors:
    ref = PrincipalRef.profile(profile_id)
    totp, keys = await _has_keys(deps, ref.key)
    if not keys:
        return Factors(totp, None)
    return Factors(totp, await _keep_challenge(deps, client, _flow_id(session_hash, client), ref))


async def _keep_challenge(deps: Deps, client: Client, flow_id: str, ref: PrincipalRef) -> str:
    """The pending challenge of this session's deletion flow in this browser while it has time left (a reload
    shows the same), else a new one kept in it. Two pages shown at once: the second shows the first's."""
    try:
        return await _challenge_once(deps, client, flow_id, ref)
    except Conflict:
        return await _challenge_once(deps, client, flow_id, ref)


async def _challenge_once(deps: Deps, client: Client, flow_id: str, ref: PrincipalRef) -> str:
    now = deps.clock()
    async with deps.store.unit() as uow:
        record = await uow.flows.get(flow_id)
        flow = None
        if record is not None:
            try:
                flow = await flows.load(uow, profile_delete.SPEC, flow_id)
                flow.check(client.browser_hash, now, ProfileDeleteState.PENDING)
                if flow.payload.principal == ref and (options := webauthn.pending_options(
                        deps, flow.payload.webauthn)) is not None:
                    return options
            except FlowError:
                pass
        pending, ceremony = await webauthn.authentication_options(deps, ref.key, uow=uow)
        if record is not None:
            await uow.flows.delete_ids([flow_id])
        await flows.create(uow, profile_delete.SPEC, client.browser_hash, now, ProfileDelete(ref, pending),
                           flow_id=flow_id)
    return ceremony.options


async def _key_answered(deps: Deps, client: Client, flow_id: str, profile_id: str, response: str) -> bool:
    """The page's challenge, spent first (cleared, an attempt counted, compare-and-set), answered by one of the
    profile's own keys (refusals audited by `verify_assertion`)."""
    ref = PrincipalRef.profile(profile_id)
    try:
        async with deps.store.unit() as uow:
            flow = await flows.load(uow, profile_delete.SPEC, flow_id)
            flow.check(client.browser_hash, deps.clock(), ProfileDeleteState.PENDING)
            if flow.payload.principal != ref:
                return False
            pending = flow.payload.webauthn
            flow.payload = replace(flow.payload, webauthn=None)
            flow.reserve_attempt()
            await flows.save(uow, flow)
    except FlowError:
        return False
    context = webauthn.AssertionContext(ref.key, client, EVENT, "webauthn", None, principal_name(profile_id))
    asserted = await webauthn.verify_assertion(deps, context, pending, response)
    return asserted is not None and asserted.principal_key == ref.key


async def delete(deps: Deps, client: Client, captcha: CaptchaService, profile_id: str, *, accepted: Collection[str],
                 password: str, mfa_code: str = "", webauthn_response: str = "", session_hash: str = "",
                 captcha_answer: str = "") -> None:
    """Raises DisclaimersNotAccepted, InvalidCredentials (wrong password, counted as a sign-in failure),
    InvalidCode (no second factor given, or a wrong authenticator code), KeyRefused (a refused passkey or
    security key answer), CaptchaRequired/CaptchaInvalid or TooManyAttempts."""
    if not all(name in accepted for name in DISCLAIMERS):
        raise DisclaimersNotAccepted()
    ref = PrincipalRef.profile(profile_id)
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
    if profile is None:
        raise InvalidCredentials()
    admission = await gate.admit(deps, client, signin_keys(profile.email, client), captcha, captcha_answer)
    if not await verify_password(deps, profile.password_hash, password):
        await gate.record_failure(deps, client, kind=PrincipalKind.PROFILE, account_id=None,
                                  principal=principal_name(profile_id), method="password", reason="wrong password",
                                  event=EVENT)
        raise InvalidCredentials()
    await gate.succeeded(deps, admission)
    totp, keys = await _has_keys(deps, ref.key)
    if keys and webauthn_response:
        if not await _key_answered(deps, client, _flow_id(session_hash, client), profile_id, webauthn_response):
            raise KeyRefused()
    elif keys and not totp:  # no answer from its key (the page needs its script)
        raise KeyRefused()
    elif totp:
        who = mfa.CodeAttempt(ref.key, client, None, principal_name(profile_id), EVENT, "mfa")
        if not mfa_code.strip() or await mfa.verify_principal_code(deps, who, mfa_code.strip()) is None:
            raise InvalidCode()
    async with deps.store.unit() as uow:
        await erase(deps, uow, client, profile_id)


async def erase(deps: Deps, uow: UnitOfWork, client: Client, profile_id: str) -> bool:
    """Erase or anonymise every record of the profile in `uow` and mail the notice; False when it was gone."""
    profile = await uow.profiles.by_id(profile_id)
    if profile is None:
        return False
    now = deps.clock()
    key = PrincipalRef.profile(profile_id).key
    email, name = profile.email, profile.name
    notice = await mail_templates.compose(deps, uow, "profile_deleted", to=email, language=client.language,
                                          principal=key, remember=True, profile_name=name)
    counters = _counters(profile_id, email, await uow.virtual_mfa.all_for(key))
    ended = await sessions.end_all(uow, deps.session_ports, key, now)
    await uow.sessions.delete_all_for(key)
    await uow.password_history.delete_all_for(key)
    await uow.mfa.delete_all_for(key)
    await uow.webauthn.delete_all_for(key)
    await uow.browsers.forget_all(key)
    await uow.mail_languages.forget(key)
    await uow.outbox.forget_recipient(email, now)  # before the notice is queued

    async def forget_counters() -> None:  # in Redis or the database: after the commit
        await deps.throttle.settle(counters, ())

    uow.after_commit(forget_counters)
    await uow.flows.delete_ids([f.id for f in await uow.flows.of_kinds(_PROFILE_FLOWS, now - 86400)
                                if _names(f.data, (email, key, profile_id))])
    await uow.profiles.delete(profile_id)  # with its trusted browsers and exports
    alias = pseudonym(deps.box.signing_key, profile_id)
    await uow.audit.rename_principal(principal_name(profile_id), alias)
    for event in await uow.audit.of_principal(alias):
        if event.detail and _names(event.detail, (email, key, profile_id)):
            await uow.audit.replace_detail(event.id, _scrubbed(event.detail, (email, key, profile_id), alias))
    await audit.record(uow, at=now, event=EVENT, result="Success", client=client, principal=alias,
                       method="privacy_page", sessions_ended=ended)
    await outbox.enqueue(uow, deps.outbox, notice, kind=MailKind.PROFILE_DELETED)
    return True


def _names(value: Any, needles: tuple[str, ...]) -> bool:
    """Whether any string inside `value` (JSON: dicts, lists, scalars) holds one of `needles`."""
    if isinstance(value, str):
        lowered = value.lower()
        return any(n.lower() in lowered for n in needles)
    if isinstance(value, dict):
        return any(_names(v, needles) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, needles) for v in value)
    return False


def _scrubbed(value: Any, needles: tuple[str, ...], alias: str) -> Any:
    if isinstance(value, str):
        return alias if _names(value, needles) else value
    if isinstance(value, dict):
        return {k: _scrubbed(v, needles, alias) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, needles, alias) for v in value]
    return value
