"""Deleting a personal profile: every disclaimer ticked, the password (and a code of an authenticator app when the
profile has one) confirmed, then in one transaction every record of the profile is erased or anonymised:

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
from collections.abc import Collection
from typing import Any

from ...core.flows.base import FlowKind
from ...core.outbox import MailKind
from ...core.principals import PrincipalKind, PrincipalRef
from ...errors import InvalidCode, InvalidCredentials, VestibuleError
from ...store.repositories import UnitOfWork
from .. import audit, mail_templates, mfa, outbox, sessions
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import verify_password
from ..signin import gate
from .accounts import principal_name
from .signin import signin_keys

EVENT = "ProfileDeleted"
DISCLAIMERS = ("services", "data", "irreversible")  # each is a checkbox the page shows; all must be ticked
_PROFILE_FLOWS = tuple(kind.value for kind in FlowKind if kind.value.startswith("profile_"))


class DisclaimersNotAccepted(VestibuleError):
    code = "profile_privacy.disclaimers_missing"


def pseudonym(key: bytes, profile_id: str) -> str:
    """What the audit events of a deleted profile name: `profile/deleted-<24 hex>` (HMAC-SHA256 of the ID)."""
    digest = hmac.new(key, f"deleted profile\x00{profile_id}".encode(), hashlib.sha256).hexdigest()
    return f"profile/deleted-{digest[:24]}"


async def has_authenticator_app(deps: Deps, profile_id: str) -> bool:
    async with deps.store.unit() as uow:
        return bool(await uow.mfa.enabled_for(PrincipalRef.profile(profile_id).key))


async def delete(deps: Deps, client: Client, captcha: CaptchaService, profile_id: str, *, accepted: Collection[str],
                 password: str, mfa_code: str = "", captcha_answer: str = "") -> None:
    """Raises DisclaimersNotAccepted, InvalidCredentials (wrong password, counted as a sign-in failure),
    InvalidCode (wrong or missing authenticator code), CaptchaRequired/CaptchaInvalid or TooManyAttempts."""
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
    if await has_authenticator_app(deps, profile_id):
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
    ended = await sessions.end_all(uow, deps.session_ports, key, now)
    await uow.sessions.delete_all_for(key)
    await uow.password_history.delete_all_for(key)
    await uow.mfa.delete_all_for(key)
    await uow.webauthn.delete_all_for(key)
    await uow.browsers.forget_all(key)
    await uow.mail_languages.forget(key)
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
