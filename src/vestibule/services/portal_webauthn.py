"""The signed-in access portal user's own passkeys and security keys on the portal's MFA devices page, through the
one WebAuthn path (`services/webauthn.py`): adding one (named), renaming one, removing one with the password again
and the warning before the last factor (TOTP devices and keys together). Each change is audited there.

A directory user's credential is stored under `directory-user:<id>` with the instance's account (as its TOTP
devices are) but without a u2f serial: the IAM API (ListMFADevices, GetAccountSummary, the credential report)
never lists or counts it."""

from __future__ import annotations

from ..core.webauthn import CredentialKind
from ..errors import InvalidCredentials, ReauthenticationRequired
from . import audit, webauthn
from .captcha import CaptchaService
from .console_mfa import LastMfaDevice
from .context import Client, Deps
from .passwords import verify_password
from .reauthentication import Reauthenticated, is_fresh
from .signin import gate
from .signin.portal import PortalSession, portal_keys

METHOD = "portal"  # how the MFA devices page's changes are audited
REAUTH_EVENT = "PortalReauthentication"
KINDS = (CredentialKind.SECURITY_KEY, CredentialKind.PASSKEY)  # what a portal user may add

__all__ = ["KINDS", "LastMfaDevice", "confirm_password", "owner"]


def owner(signed: PortalSession) -> webauthn.Owner:
    """What the authenticator lists: the user name at the portal and the display name; the instance's account,
    no IAM serial."""
    user = signed.user
    portal = signed.instance.settings.portal_subdomain or signed.instance.identity_store_id
    return webauthn.Owner(signed.principal.key, f"{user.user_name} ({portal})", user.display_name or user.user_name,
                          user.arn, signed.instance.owner_account_id, iam_serial=False)


def kind_for_portal(kind: CredentialKind | None) -> CredentialKind | None:
    return kind if kind in KINDS else None


async def confirm_password(deps: Deps, client: Client, captcha: CaptchaService, signed: PortalSession,
                           password: str, captcha_answer: str = "", *, action: str) -> Reauthenticated:
    """The user's password again (on its sign-in counters: throttled like the sign-in, audited); with none, a
    confirmation in this browser in the last few minutes is enough. ReauthenticationRequired, InvalidCredentials,
    CaptchaRequired, CaptchaInvalid, TooManyAttempts."""
    session = signed.session
    now = deps.clock()
    if not password:
        if is_fresh(session, client, now) and session.reauthenticated_at is not None:
            return Reauthenticated(session.id_hash, session.reauthenticated_at)
        raise ReauthenticationRequired()
    user, account_id = signed.user, signed.instance.owner_account_id
    admission = await gate.admit(deps, client, portal_keys(user.identity_store_id, user.user_name, client),
                                 captcha, captcha_answer)
    if not await verify_password(deps, user.password_hash, password):
        async with deps.store.unit() as uow:
            await audit.record(uow, at=deps.clock(), event=REAUTH_EVENT, result="Failure", client=client,
                               account_id=account_id, principal=user.arn, method="password",
                               reason="wrong password", action=action)
        raise InvalidCredentials()
    await gate.succeeded(deps, admission)
    now = deps.clock()
    async with deps.store.unit() as uow:
        await uow.sessions.mark_reauthenticated(session.id_hash, now, client.browser_hash)
        await audit.record(uow, at=now, event=REAUTH_EVENT, result="Success", client=client,
                           account_id=account_id, principal=user.arn, method="password", action=action)
    return Reauthenticated(session.id_hash, now)


async def keys_of(deps: Deps, signed: PortalSession) -> list[webauthn.CredentialDetails]:
    return await webauthn.credentials_of(deps, signed.principal.key)


async def key_of(deps: Deps, signed: PortalSession, credential_id: str) -> webauthn.CredentialDetails:
    """One of the user's own keys (NotFound for any other, another user's alike)."""
    return await webauthn.credential_of(deps, signed.principal.key, credential_id)


async def begin(deps: Deps, client: Client, signed: PortalSession, kind: CredentialKind) -> webauthn.Ceremony:
    """LimitExceeded at the factor limit (TOTP devices count)."""
    return await webauthn.begin_registration(deps, client, owner(signed), kind)


async def finish(deps: Deps, client: Client, signed: PortalSession, flow_id: str, response: str,
                 name: str) -> webauthn.CredentialDetails:
    return await webauthn.finish_registration(deps, client, owner(signed), flow_id, response, name, method=METHOD,
                                              reauthenticated_at=signed.session.created_at)


async def rename(deps: Deps, client: Client, signed: PortalSession, credential_id: str,
                 name: str) -> webauthn.CredentialDetails:
    return await webauthn.rename(deps, client, owner(signed), credential_id, name, method=METHOD)


async def remove(deps: Deps, client: Client, signed: PortalSession, credential_id: str, proof: Reauthenticated, *,
                 last_confirmed: bool) -> None:
    """`last_confirmed=False`: LastMfaDevice when it is the user's last factor (TOTP devices and keys together),
    checked in the removal's own unit."""
    key = signed.principal.key
    if not last_confirmed:
        await key_of(deps, signed, credential_id)  # NotFound first (its own unit: never one inside another)
    async with deps.store.unit() as uow:
        if not last_confirmed:
            others = [c for c in await uow.webauthn.for_principal(key) if c.credential_id != credential_id]
            if not others and not await uow.mfa.enabled_for(key):
                raise LastMfaDevice()
        await webauthn.remove(deps, uow, client, owner(signed), credential_id, method=METHOD,
                              reauthenticated_at=proof.at)
