"""Security of a personal profile: the password asked again, the password change, MFA devices (TOTP now; other
kinds join the same list), trusted browsers, signed-in devices, and "Delete all active sessions".

Re-authentication: a credential change needs the password typed in this session, in this browser, in the last
`FRESH_SECONDS` (the console's rule, `services/reauthentication.py`, with the profile's own sign-in counters:
guesses here and at the profile sign-in share one budget, with the same CAPTCHA and waits).

Sessions: an ended session is published on the invalidation bus, and every profile page reads its session row on
each request, so an ended session counts at its next request on every node."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ...core import passwords as rules
from ...core.browser_names import BrowserName, browser_name
from ...core.outbox import MailKind
from ...core.principals import PrincipalRef
from ...core.throttle import ThrottleDecision
from ...errors import InvalidCode, InvalidCredentials, ReauthenticationRequired, VestibuleError
from ...store.models import MfaDevice
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, console_mfa, credentials, flows, mail_templates, mfa, outbox, sessions, webauthn
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..invalidation import SESSION
from ..passwords import check_new_password, verify_password
from ..principals import Principal
from ..reauthentication import FRESH_SECONDS, Reauthenticated, is_fresh
from ..sessions import PROFILE, NewSession, SessionView
from ..signin import gate
from .accounts import ProfileView, principal_name
from .signin import signin_keys

__all__ = ["DELETE_ALL_WORDS", "FRESH_SECONDS", "Reauthenticated", "is_fresh"]

REAUTH_EVENT = "ProfileReauthentication"
PASSWORD_CHANGED = "ProfilePasswordChanged"
# The words "Delete all active sessions" asks for: the page shows its language's, either is accepted.
DELETE_ALL_WORDS = {"en": "delete all", "zh-TW": "刪除全部"}


class WrongWords(VestibuleError):
    """"Delete all active sessions" without the words shown."""

    code = "profile_settings.delete_all_wrong_words"


class SessionNotFound(VestibuleError):
    code = "profile_settings.session_not_found"


class TrustedBrowserNotFound(VestibuleError):
    code = "profile_settings.trusted_not_found"


class MfaDeviceNotFound(VestibuleError):
    code = "profile_settings.mfa_not_found"


# ---- the password again ----------------------------------------------------------------------------------

async def risk(deps: Deps, profile: ProfileView, client: Client) -> ThrottleDecision:
    """Whether a password typed now would need a CAPTCHA (or a wait)."""
    return await gate.risk(deps, signin_keys(profile.email, client))


async def reauthenticate(deps: Deps, client: Client, profile: ProfileView, session: SessionView, password: str,
                         captcha: CaptchaService, captcha_answer: str, *, action: str) -> Reauthenticated:
    """A typed password is always checked (throttled on the profile's sign-in counters, audited, noted on the
    session when right); with none, a confirmation in this browser in the last FRESH_SECONDS is enough.
    ReauthenticationRequired, InvalidCredentials, CaptchaRequired, CaptchaInvalid, TooManyAttempts."""
    now = deps.clock()
    if not password:
        if is_fresh(session, client, now) and session.reauthenticated_at is not None:
            return Reauthenticated(session.id_hash, session.reauthenticated_at)
        raise ReauthenticationRequired()
    admission = await gate.admit(deps, client, signin_keys(profile.email, client), captcha, captcha_answer)
    async with deps.store.unit() as uow:
        stored = await uow.profiles.by_id(profile.id)
    if not await verify_password(deps, stored.password_hash if stored is not None else None, password):
        async with deps.store.unit() as uow:
            await audit.record(uow, at=deps.clock(), event=REAUTH_EVENT, result="Failure", client=client,
                               principal=principal_name(profile.id), method="password", reason="wrong password",
                               action=action)
        raise InvalidCredentials()
    await gate.succeeded(deps, admission)
    now = deps.clock()
    async with deps.store.unit() as uow:
        await uow.sessions.mark_reauthenticated(session.id_hash, now, client.browser_hash)
        await audit.record(uow, at=now, event=REAUTH_EVENT, result="Success", client=client,
                           principal=principal_name(profile.id), method="password", action=action)
    return Reauthenticated(session.id_hash, now)


# ---- the password change ---------------------------------------------------------------------------------

async def change_password(deps: Deps, client: Client, profile: ProfileView, session: SessionView,
                          proof: Reauthenticated, new_password: str, confirm: str) -> NewSession:
    """The new password under PROFILE_POLICY (and none of the last 3); every session of the profile ends, this
    one included, and this browser gets a new session in its place (a new ID, the same start and end): the
    token for its cookie. Its trusted browsers are forgotten (MFA is asked again everywhere). The profile's
    address is told."""
    if proof.session_hash != session.id_hash:
        raise ReauthenticationRequired()
    ref = PrincipalRef.profile(profile.id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        stored = await uow.profiles.by_id(profile.id)
        if stored is None:
            raise InvalidCredentials()
        new_hash = await check_new_password(deps, uow, rules.PROFILE_POLICY, ref.key, new_password, confirm,
                                            stored.password_hash)
        await uow.password_history.add(ref.key, stored.password_hash, now)
        stored.password_hash, stored.password_changed_at = new_hash, now
        await uow.profiles.save(stored)
        ended = await sessions.end_all(uow, deps.session_ports, ref.key, now, kind=PROFILE)
        forgotten = await uow.profile_trusted_browsers.revoke_all(profile.id)  # MFA again everywhere, as a reset
        renewed, row = sessions.new_session(deps.session_ports, ref, "", client, session.mfa_used, now)
        row.created_at, row.expires_at = session.created_at, session.expires_at
        await uow.sessions.add(row)
        await audit.record(uow, at=now, event=PASSWORD_CHANGED, result="Success", client=client,
                           principal=principal_name(profile.id), method="password",
                           other_sessions_ended=max(0, ended - 1), reauthenticated_at=proof.at,
                           trusted_browsers_forgotten=forgotten)
        notice = await mail_templates.compose(deps, uow, "profile_password_changed", to=stored.email,
                                              language=client.language, principal=ref.key, remember=True)
        await outbox.enqueue(uow, deps.outbox, notice, kind=MailKind.PROFILE_PASSWORD_CHANGED)
    return NewSession(renewed.token, session.expires_at)


# ---- MFA devices -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SecurityDevice:
    """One row of the profile's MFA list, whatever its kind (a passkey or security key is one more kind)."""

    kind: Literal["totp", "webauthn"]
    id: str  # what its forms name: a TOTP device's serial
    name: str
    added_at: float
    last_used_at: float | None
    key_kind: str = ""  # a passkey's or security key's kind (core.webauthn.CredentialKind), for its type column


def _totp_row(device: MfaDevice) -> SecurityDevice:
    return SecurityDevice("totp", device.serial, device.label or device.name, device.enabled_at or device.created_at,
                          device.last_used_at)


def _webauthn_row(key: webauthn.CredentialDetails) -> SecurityDevice:
    return SecurityDevice("webauthn", key.credential_id, key.name, key.created_at, key.last_used_at, key.kind.value)


async def mfa_devices(deps: Deps, profile_id: str) -> Sequence[SecurityDevice]:
    """The profile's MFA devices (TOTP devices, passkeys and security keys), oldest first."""
    async with deps.store.unit() as uow:
        rows = await uow.mfa.enabled_for(PrincipalRef.profile(profile_id).key)
    keys = await webauthn.credentials_of(deps, PrincipalRef.profile(profile_id).key)
    return sorted([*(_totp_row(d) for d in rows), *(_webauthn_row(k) for k in keys)], key=lambda d: d.added_at)


async def _own_device(uow: UnitOfWork, profile_id: str, serial: str) -> MfaDevice:
    device = await uow.mfa.by_serial(serial) if serial else None
    if (device is None or device.principal_key != PrincipalRef.profile(profile_id).key or device.enabled_at is None
            or device.account_id is not None):
        raise MfaDeviceNotFound()
    return device


async def mfa_device(deps: Deps, profile_id: str, serial: str) -> SecurityDevice:
    async with deps.store.unit() as uow:
        return _totp_row(await _own_device(uow, profile_id, serial))


async def begin_totp(deps: Deps, client: Client, profile: ProfileView, proof: Reauthenticated) -> str:
    """A TOTP enrolment flow bound to this browser (the console's, `credentials.begin_enrolment`): its ID."""
    principal = _principal(profile)
    flow = await credentials.begin_enrolment(deps, client, principal, proof)
    return flow.id


async def totp_secret(deps: Deps, client: Client, profile: ProfileView, flow_id: str) -> str:
    """The secret of this browser's enrolment flow of this profile (a FlowError otherwise)."""
    _, secret = await credentials.enrolment_secret(deps, client, _principal(profile), flow_id)
    return secret


_SERIAL_NUMBER = re.compile(r":mfa/(\d{1,6})$")


def _next_serial(profile_id: str, existing: Sequence[MfaDevice]) -> str:
    """`profile:<id>:mfa/<n>`, n one more than any the profile had (a removed device's serial is not reused)."""
    numbers = [int(m.group(1)) for d in existing if (m := _SERIAL_NUMBER.search(d.serial))]
    return f"{PrincipalRef.profile(profile_id).key}:mfa/{max(numbers, default=0) + 1}"


async def complete_totp(deps: Deps, client: Client, profile: ProfileView, flow_id: str, device_name: str,
                        code1: str, code2: str) -> SecurityDevice:
    """Two consecutive codes through the one TOTP check; the device has no account (`account_id` NULL)."""
    principal = _principal(profile)
    flow, secret = await credentials.enrolment_secret(deps, client, principal, flow_id)
    label = console_mfa.checked_label(device_name)
    attempt = mfa.CodeAttempt(principal.key, client, None, principal.arn, "ProfileEnableMFADevice", "profile")
    step = await mfa.checked_enrolment_step(deps, attempt, None, secret, code1, code2)
    if step is None:
        raise InvalidCode()
    now = deps.clock()
    async with deps.store.unit() as uow:
        await mfa.ensure_room_for_device(uow, principal.key)
        serial = _next_serial(profile.id, await uow.virtual_mfa.all_for(principal.key))
        device = MfaDevice(account_id=None, principal_key=principal.key, name=label, serial=serial, label=label,
                           secret_sealed=mfa.seal_secret(deps, serial, secret), enabled_at=now,
                           last_used_step=step, created_at=now)
        try:
            await uow.mfa.add(device)
        except Conflict:  # another enrolment took the number at the same moment: this one starts again
            raise InvalidCode() from None
        flow.complete()
        await flows.save(uow, flow)
        await audit.record(uow, at=now, event="ProfileEnableMFADevice", result="Success", client=client,
                           principal=principal.arn, method="profile", serial=serial)
        return _totp_row(device)


async def rename_device(deps: Deps, client: Client, profile_id: str, serial: str, name: str) -> SecurityDevice:
    """The name only (1 to 64 printable characters); the serial stays."""
    label = console_mfa.checked_label(name)
    async with deps.store.unit() as uow:
        device = await _own_device(uow, profile_id, serial)
        before = device.label or device.name
        device.label = label
        await audit.record(uow, at=deps.clock(), event="ProfileRenameMFADevice", result="Success", client=client,
                           principal=principal_name(profile_id), method="profile", serial=serial,
                           previous_name=before, name=label)
        return _totp_row(device)


async def remove_device(deps: Deps, client: Client, profile_id: str, serial: str, proof: Reauthenticated, *,
                        last_confirmed: bool) -> None:
    """`last_confirmed=False`: console_mfa.LastMfaDevice when it is the profile's last factor (checked in the
    removal's own unit, so two tabs cannot both skip the warning)."""
    key = PrincipalRef.profile(profile_id).key
    async with deps.store.unit() as uow:
        device = await _own_device(uow, profile_id, serial)
        if not last_confirmed:
            await console_mfa.check_not_last(uow, key, serial)
        await uow.mfa.delete(device)
        await audit.record(uow, at=deps.clock(), event="ProfileDeactivateMFADevice", result="Success", client=client,
                           principal=principal_name(profile_id), method="profile", serial=serial,
                           reauthenticated_at=proof.at)


# ---- trusted browsers ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrustedDevice:
    id: str
    label: str  # `Chrome / Linux` from the fixed vocabulary, or ''
    network: str
    created_at: float
    last_used_at: float
    expires_at: float


async def trusted_devices(deps: Deps, profile_id: str) -> Sequence[TrustedDevice]:
    async with deps.store.unit() as uow:
        rows = await uow.profile_trusted_browsers.of_profile(profile_id, deps.clock())
    return [TrustedDevice(r.id, r.label, r.network, r.created_at, r.last_used_at, r.expires_at) for r in rows]


async def revoke_trusted(deps: Deps, client: Client, profile_id: str, browser_id: str) -> None:
    """Forget one trusted browser (its next sign-in asks for MFA again); TrustedBrowserNotFound otherwise."""
    async with deps.store.unit() as uow:
        if not browser_id or not await uow.profile_trusted_browsers.revoke(profile_id, browser_id[:64]):
            raise TrustedBrowserNotFound()
        await audit.record(uow, at=deps.clock(), event="ProfileTrustedDeviceRevoked", result="Success",
                           client=client, principal=principal_name(profile_id), method="profile")


# ---- signed-in devices -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignedInDevice:
    """A live session of the profile as the Security page lists it."""

    id: str  # its public ID (what the End button names; never the token or its hash)
    browser: BrowserName
    client_ip: str  # the address it signed in from
    created_at: float
    last_used_at: float
    current: bool


async def signed_in_devices(deps: Deps, profile_id: str, session: SessionView) -> Sequence[SignedInDevice]:
    """Every live session of the profile, this browser's first, then the most recently used."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        rows = await uow.sessions.live_for(PrincipalRef.profile(profile_id).key, now)
    found = [SignedInDevice(r.public_id or "", browser_name(r.user_agent), r.client_ip, r.created_at, r.last_seen_at,
                            r.id_hash == session.id_hash) for r, _ in rows if r.kind == PROFILE]
    return sorted(found, key=lambda d: (not d.current, -d.last_used_at))


async def end_session(deps: Deps, client: Client, profile_id: str, public_id: str) -> bool:
    """End one of the profile's sessions by its public ID; whether it was this browser's own is the caller's
    question. SessionNotFound for any other ID (another profile's alike)."""
    key = PrincipalRef.profile(profile_id).key
    now = deps.clock()
    async with deps.store.unit() as uow:
        found = await uow.sessions.by_public_id(public_id) if 0 < len(public_id) <= 64 else None
        row = found[0] if found is not None else None
        if row is None or row.principal_key != key or row.kind != PROFILE or not sessions.is_alive(row, now):
            raise SessionNotFound()
        ended = await uow.sessions.revoke_one(row.id_hash, now)
        if ended:
            uow.after_commit(functools.partial(deps.session_ports.bus.publish, SESSION, row.id_hash))
        await audit.record(uow, at=now, event="ProfileSessionEnded", result="Success", client=client,
                           principal=principal_name(profile_id), method="profile", session=public_id)
    return ended


def delete_all_words(language: str) -> str:
    """The words the page shows to type."""
    return DELETE_ALL_WORDS.get(language, DELETE_ALL_WORDS["en"])


def _typed(words: str) -> str:
    return " ".join(words.split()).casefold()


def words_match(words: str) -> bool:
    """The words of either language (case and spacing aside)."""
    return _typed(words) in {_typed(w) for w in DELETE_ALL_WORDS.values()}


async def delete_all_sessions(deps: Deps, client: Client, profile_id: str, words: str) -> int:
    """Every session of the profile ends at once, this browser's included (published on the bus: every node
    sees it at the next request). The words shown must be typed (in either language; case and spacing aside):
    WrongWords otherwise, and nothing ends. The count."""
    if not words_match(words):
        raise WrongWords()
    now = deps.clock()
    async with deps.store.unit() as uow:
        ended = await sessions.end_all(uow, deps.session_ports, PrincipalRef.profile(profile_id).key, now,
                                       kind=PROFILE)
        await audit.record(uow, at=now, event="ProfileAllSessionsDeleted", result="Success", client=client,
                           principal=principal_name(profile_id), method="profile", sessions_ended=ended)
    return ended


def _principal(profile: ProfileView) -> Principal:
    """The profile as the shared MFA enrolment names its owner (no account)."""
    return Principal(profile.ref, "", "", None, profile.name, principal_name(profile.id), profile.email)
