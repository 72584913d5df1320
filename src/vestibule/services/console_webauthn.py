"""The signed-in root or IAM user's own passkeys and security keys on the console's Security credentials page:
adding one, renaming one, removing one (the warning before the last factor, as for TOTP devices). Each change
needs a `Reauthenticated` proof, as every other credential change of the page does."""

from __future__ import annotations

from ..core.webauthn import CredentialKind
from . import cli_login, recovery_codes, webauthn
from .console_mfa import LastMfaDevice
from .context import Client, Deps
from .principals import Principal
from .reauthentication import Reauthenticated
from .webauthn import Ceremony, CredentialDetails


async def begin(deps: Deps, client: Client, principal: Principal, kind: CredentialKind,
                proof: Reauthenticated) -> Ceremony:
    return await webauthn.begin_registration(deps, client, webauthn.console_owner(principal), kind)


async def finish(deps: Deps, client: Client, principal: Principal, flow_id: str, response: str, name: str,
                 proof: Reauthenticated) -> CredentialDetails:
    return await webauthn.finish_registration(deps, client, webauthn.console_owner(principal), flow_id, response,
                                              name, reauthenticated_at=proof.at)


async def rename(deps: Deps, client: Client, principal: Principal, credential_id: str, name: str,
                 proof: Reauthenticated) -> CredentialDetails:
    return await webauthn.rename(deps, client, webauthn.console_owner(principal), credential_id, name,
                                 reauthenticated_at=proof.at)


async def remove(deps: Deps, client: Client, principal: Principal, credential_id: str, proof: Reauthenticated, *,
                 last_confirmed: bool) -> None:
    """`last_confirmed=False`: LastMfaDevice instead when it is the principal's last factor (TOTP devices and
    WebAuthn credentials together). As for a TOTP device: CLI logins end, and without MFA left recovery codes go."""
    owner = webauthn.console_owner(principal)
    async with deps.store.unit() as uow:
        if not last_confirmed:
            await webauthn.credential_of(deps, principal.key, credential_id)  # NotFound first
            others = [c for c in await uow.webauthn.for_principal(principal.key) if c.credential_id != credential_id]
            if not others and not await uow.mfa.enabled_for(principal.key):
                raise LastMfaDevice()
        ended = await cli_login.end_logins(deps, uow, principal.key, principal.account_id, principal.arn,
                                           "MFA device removed")
        await webauthn.remove(deps, uow, client, owner, credential_id, reauthenticated_at=proof.at,
                              login_sessions_ended=ended)
        await recovery_codes.forget_without_device(deps, uow, client, principal.account_id, principal.key,
                                                   principal.arn, "console")
