"""A personal profile's trusted browsers: made at a sign-in whose MFA step passed with "This is a trusted
device" ticked, matched at the next sign-ins (cookie token, user agent, client network: `core/profile_trust.py`),
listed and revoked on the Security page.

Trust only ever stands in for MFA: a profile without a second factor has nothing to skip, so ticking the box
there makes no row (its sign-ins ask for the password every time either way)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ...core.attempt_origin import describe
from ...core.profile_trust import TRUST_LIFETIME, TrustBinding, network_of, still_trusted, user_agent_hash
from ...core.tokens import hash_token, new_token
from ...store.models import ProfileTrustedBrowser
from ...store.repositories import UnitOfWork
from ..context import Client

__all__ = ["TRUST_LIFETIME", "TrustedBrowser", "listed", "matches", "revoke", "revoke_all", "trust"]


@dataclass(frozen=True)
class TrustedBrowser:
    """A trusted browser as the Security page lists it."""

    id: str
    label: str  # `Chrome / Windows` (from a fixed vocabulary, never the raw user agent), or ''
    network: str
    created_at: float
    last_used_at: float
    expires_at: float


def _view(row: ProfileTrustedBrowser) -> TrustedBrowser:
    return TrustedBrowser(row.id, row.label, row.network, row.created_at, row.last_used_at, row.expires_at)


async def trust(uow: UnitOfWork, profile_id: str, client: Client, now: float) -> str | None:
    """Trust this browser for the profile: the new cookie's token (only its hash is kept), or None when the client
    has no address to bind the trust to."""
    network = network_of(client.ip)
    if network is None:
        return None
    token = new_token()
    await uow.profile_trusted_browsers.add(ProfileTrustedBrowser(
        id=uuid.uuid4().hex, profile_id=profile_id, token_hash=hash_token(token),
        user_agent_hash=user_agent_hash(client.user_agent), network=network,
        label=describe(client.ip, client.user_agent).browser_label[:200], created_at=now, last_used_at=now,
        expires_at=now + TRUST_LIFETIME))
    return token


async def matches(uow: UnitOfWork, profile_id: str, token: str, client: Client, now: float) -> bool:
    """The cookie's `token` trusts this browser for this profile now (its last use is noted when it does)."""
    if not token:
        return False
    row = await uow.profile_trusted_browsers.by_token(hash_token(token))
    if row is None or not still_trusted(TrustBinding(row.profile_id, row.user_agent_hash, row.network, row.expires_at),
                                        profile_id, client.user_agent, client.ip, now):
        return False
    await uow.profile_trusted_browsers.used(row.id, now)
    return True


async def listed(uow: UnitOfWork, profile_id: str, now: float) -> list[TrustedBrowser]:
    return [_view(row) for row in await uow.profile_trusted_browsers.of_profile(profile_id, now)]


async def revoke(uow: UnitOfWork, profile_id: str, browser_id: str) -> bool:
    """Forget one trusted browser of the profile (its next sign-in asks for MFA); False when it is not one."""
    return await uow.profile_trusted_browsers.revoke(profile_id, browser_id)


async def revoke_all(uow: UnitOfWork, profile_id: str) -> int:
    return await uow.profile_trusted_browsers.revoke_all(profile_id)
