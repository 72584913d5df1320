"""Passkeys and security keys of a personal profile, through the one WebAuthn path (`services/webauthn.py`):

- the MFA step of the profile sign-in (`mfa_choices`, `submit_mfa`): the profile's own credentials, ending through
  `signin.finish_after_mfa` like a TOTP code (a ticked "This is a trusted device" trusts the browser);
- "Sign in with a passkey" (`begin_passkey`, `passkey_options`, `submit_passkey`): no email, no password; any
  discoverable credential with user verification, whose owner (and the user handle it answers with) selects the
  profile. A passkey with user verification is two factors (something held, something known or been): MFA used.
  Throttled per client like password attempts (a CAPTCHA, then waits); every refusal looks alike and is audited;
- the profile's keys on Security: added (a passkey or a security key, named), renamed, removed with the
  password again and the warning before the last factor (TOTP devices and keys together), each audited.

A challenge is kept hashed in the profile sign-in flow (`ProfileSignIn.webauthn`) and spent (cleared, one of the
flow's attempts counted, compare-and-set) before an answer is checked: one answer per challenge."""

from __future__ import annotations

import contextlib
import hmac
import json
from dataclasses import dataclass, replace

from ...core.flows.base import FlowConflict, FlowOutOfOrder
from ...core.flows.profile_signin import SPEC, ProfileSignIn, ProfileSignInFlow, ProfileSignInState
from ...core.principals import PrincipalKind, PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...core.webauthn import CredentialKind
from ...errors import VestibuleError
from .. import flows, metrics, webauthn
from ..captcha import CaptchaService
from ..console_mfa import LastMfaDevice
from ..context import Client, Deps
from ..principals import Principal, profile_principal
from ..reauthentication import Reauthenticated
from ..signin.completion import complete_sign_in
from ..signin.gate import admit, record_failure, risk, succeeded
from ..signin.methods import Attempt, Credential, Verified, WebAuthnAttempt, ask_in_turn
from . import signin
from .accounts import ProfileView, principal_name
from .signin import EVENT, Done

State = ProfileSignInState
PASSKEY_METHOD = "passkey"  # the sign-in's method in its audit event
MFA_METHOD = "password+webauthn"
SETTINGS_METHOD = "profile"  # how the Security page's changes are audited
KINDS = (CredentialKind.PASSKEY, CredentialKind.SECURITY_KEY)  # what a profile may add


class PasskeyRefused(VestibuleError):
    """Any refused passkey sign-in (unknown, removed, another principal's, replayed, wrong challenge): one
    message for all."""

    code = "profile_webauthn.passkey_refused"


class KeyRefused(VestibuleError):
    """A refused answer at the MFA step."""

    code = "profile_webauthn.key_refused"


def owner(profile: ProfileView) -> webauthn.Owner:
    """What the authenticator lists: the profile's email and name; no account, no IAM serial."""
    return webauthn.Owner(profile.ref.key, profile.email, profile.name, principal_name(profile.id))


def client_keys(client: Client) -> list[ThrottleKey]:
    """A passkey sign-in names no address before it is checked: the client's counter alone."""
    return [ThrottleKey(Scope.CLIENT, client.ip)]


async def _save_spent(deps: Deps, flow: ProfileSignInFlow) -> None:
    """Clear the flow's challenge and count one attempt, compare-and-set (FlowConflict: another answer raced)."""
    flow.payload = replace(flow.payload, webauthn=None)
    flow.reserve_attempt()
    async with deps.store.unit() as uow:
        await flows.save(uow, flow)


async def _attempt_failed(deps: Deps, flow: ProfileSignInFlow) -> None:
    if not flow.reserved_attempt_failed(deps.clock()):
        async with deps.store.unit() as uow:
            with contextlib.suppress(FlowConflict):
                await flows.save(uow, flow)


async def _principal(deps: Deps, ref: PrincipalRef) -> Principal | None:
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_id(ref.id)
    return profile_principal(profile) if profile is not None else None


# ---- the MFA step --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MfaChoices:
    """What the MFA page offers: the code form when the profile has a TOTP device (or nothing else), and the
    options for navigator.credentials.get when it has a passkey or security key."""

    totp: bool
    webauthn_options: str | None


async def mfa_choices(deps: Deps, flow: ProfileSignInFlow) -> MfaChoices:
    ref = flow.payload.verified_principal()
    async with deps.store.unit() as uow:
        totp = bool(await uow.mfa.enabled_for(ref.key))
        if not await webauthn.has_credentials(uow, ref.key):
            return MfaChoices(True, None)
    options = await webauthn.kept_challenge(deps, flow, ref.key)
    return MfaChoices(totp or options is None, options)


async def submit_mfa(deps: Deps, client: Client, flow_id: str, response: str, previous_session: str = "") -> Done:
    """The profile's own passkey or security key answered the flow's challenge (KeyRefused otherwise, audited)."""
    flow = await signin.load(deps, client, flow_id, State.MFA)
    pending = flow.payload.webauthn
    await _save_spent(deps, flow)
    ref = flow.payload.verified_principal()
    principal = await _principal(deps, ref)
    if principal is None:
        raise KeyRefused()
    context = webauthn.AssertionContext(ref.key, client, EVENT, "webauthn", None, principal.arn)
    attempt = Attempt(Credential.WEBAUTHN, response, ref, deps.clock(), webauthn=WebAuthnAttempt(pending, context))
    result = await ask_in_turn(signin.profile_methods(deps), attempt, None)
    if not isinstance(result, Verified):
        metrics.record_sign_in(PrincipalKind.PROFILE, "webauthn", success=False)
        await _attempt_failed(deps, flow)
        raise KeyRefused()
    return await signin.finish_after_mfa(deps, client, flow, principal, MFA_METHOD, previous_session)


# ---- "Sign in with a passkey" --------------------------------------------------------------------------

def _passkey_flow(flow: ProfileSignInFlow) -> ProfileSignInFlow:
    """A passkey sign-in is a profile sign-in flow with no address typed (a flow of the email path is refused)."""
    if flow.payload.email or flow.payload.principal is not None:
        raise FlowOutOfOrder()
    return flow


async def begin_passkey(deps: Deps, client: Client) -> ProfileSignInFlow:
    async with deps.store.unit() as uow:
        return await flows.create(uow, SPEC, client.browser_hash, deps.clock(), ProfileSignIn(""))


async def load_passkey(deps: Deps, client: Client, flow_id: str) -> ProfileSignInFlow:
    return _passkey_flow(await signin.load(deps, client, flow_id, State.PASSWORD))


async def captcha_needed(deps: Deps, client: Client) -> bool:
    return (await risk(deps, client_keys(client))).captcha_required


async def passkey_options(deps: Deps, flow: ProfileSignInFlow) -> str | None:
    """Options asking any discoverable credential, user verification required (None: the flow changed meanwhile,
    show the page again)."""
    return await webauthn.kept_challenge(deps, _passkey_flow(flow), None, user_verification=True)


def _answered_handle(response: str) -> str:
    try:
        document = json.loads(response)
        handle = document.get("response", {}).get("userHandle") or ""
    except (ValueError, AttributeError, RecursionError):
        return ""
    return handle if isinstance(handle, str) else ""


async def submit_passkey(deps: Deps, client: Client, captcha: CaptchaService, flow_id: str, response: str, *,
                         captcha_answer: str = "", previous_session: str = "") -> Done:
    """PasskeyRefused for every refusal (audited: ProfileLogin Failure with the reason); TooManyAttempts,
    CaptchaRequired, CaptchaInvalid while the client is throttled; flow errors."""
    flow = await load_passkey(deps, client, flow_id)
    admission = await admit(deps, client, client_keys(client), captcha, captcha_answer)
    pending = flow.payload.webauthn
    await _save_spent(deps, flow)
    context = webauthn.AssertionContext(None, client, EVENT, PASSKEY_METHOD)
    asserted = await webauthn.verify_assertion(deps, context, pending, response)  # refusals audited there
    reason, principal = "", None
    if asserted is not None:
        reason, principal = await _passkey_owner(deps, asserted, response)
        if principal is None:
            await record_failure(deps, client, kind=PrincipalKind.PROFILE, account_id=None, principal="",
                                 method=PASSKEY_METHOD, reason=reason, event=EVENT)
    if principal is None:
        if asserted is None:
            metrics.record_sign_in(PrincipalKind.PROFILE, PASSKEY_METHOD, success=False)
        await _attempt_failed(deps, flow)
        raise PasskeyRefused()
    await succeeded(deps, admission)
    flow.payload = replace(flow.payload, principal=principal.ref)
    return Done(await complete_sign_in(deps.session_ports, principal=principal, client=client, method=PASSKEY_METHOD,
                                       mfa_used=True, flow=flow, previous_session=previous_session))


async def _passkey_owner(deps: Deps, asserted: webauthn.Asserted, response: str) -> tuple[str, Principal | None]:
    """The profile a verified assertion signs in, or why none: a root or IAM user's key, a handle that is not the
    credential's, no user verification, a profile deleted meanwhile."""
    if not asserted.principal_key.startswith(f"{PrincipalKind.PROFILE.value}:"):
        return "passkey of a principal that is no personal profile", None
    if not asserted.user_verified:
        return "passkey answered without user verification", None
    async with deps.store.unit() as uow:
        row = await uow.webauthn.by_credential_id(asserted.credential.credential_id)
    if row is None:
        return "passkey removed meanwhile", None
    answered = _answered_handle(response)
    if not answered or not hmac.compare_digest(answered.encode(), row.user_handle.encode()):
        return "passkey answered with another user handle", None
    principal = await _principal(deps, PrincipalRef.profile(asserted.principal_key.split(":", 1)[1]))
    if principal is None:
        return "passkey of a deleted profile", None
    return "", principal


# ---- the profile's keys on Security --------------------------------------------------------------------

def kind_for_profile(kind: CredentialKind | None) -> CredentialKind | None:
    return kind if kind in KINDS else None


async def begin_registration(deps: Deps, client: Client, profile: ProfileView, kind: CredentialKind,
                             proof: Reauthenticated) -> webauthn.Ceremony:
    """LimitExceeded at the factor limit (TOTP devices count)."""
    return await webauthn.begin_registration(deps, client, owner(profile), kind)


async def finish_registration(deps: Deps, client: Client, profile: ProfileView, flow_id: str, response: str,
                              name: str, proof: Reauthenticated) -> webauthn.CredentialDetails:
    return await webauthn.finish_registration(deps, client, owner(profile), flow_id, response, name,
                                              method=SETTINGS_METHOD, reauthenticated_at=proof.at)


async def key_of(deps: Deps, profile: ProfileView, credential_id: str) -> webauthn.CredentialDetails:
    """One of the profile's own keys (NotFound for any other, another principal's alike)."""
    return await webauthn.credential_of(deps, profile.ref.key, credential_id)


async def rename(deps: Deps, client: Client, profile: ProfileView, credential_id: str,
                 name: str) -> webauthn.CredentialDetails:
    return await webauthn.rename(deps, client, owner(profile), credential_id, name, method=SETTINGS_METHOD)


async def remove(deps: Deps, client: Client, profile: ProfileView, credential_id: str, proof: Reauthenticated, *,
                 last_confirmed: bool) -> None:
    """`last_confirmed=False`: LastMfaDevice when it is the profile's last factor (TOTP devices and keys
    together), checked in the removal's own unit."""
    key = profile.ref.key
    if not last_confirmed:
        await key_of(deps, profile, credential_id)  # NotFound first (its own unit: never one inside another)
    async with deps.store.unit() as uow:
        if not last_confirmed:
            others = [c for c in await uow.webauthn.for_principal(key) if c.credential_id != credential_id]
            if not others and not await uow.mfa.enabled_for(key):
                raise LastMfaDevice()
        await webauthn.remove(deps, uow, client, owner(profile), credential_id, method=SETTINGS_METHOD,
                              reauthenticated_at=proof.at)
