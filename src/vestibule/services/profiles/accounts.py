"""What every profile use case shares: profile IDs, emails as stored, the signed-in profile, sign-out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ...core.principals import PrincipalRef
from ...core.tokens import hash_token
from ...errors import VestibuleError
from ...store.models import Profile
from .. import audit, sessions
from ..context import Client, Deps, SessionPorts
from ..principals import Principal
from ..sessions import PROFILE, SessionView


class ProfileEmailTaken(VestibuleError):
    """The proven address got a profile while its sign-up ran (only its mailbox's owner reaches this)."""

    code = "profile.email_taken"


class ProfileNameInvalid(VestibuleError):
    code = "profile.name_invalid"


_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case


def new_profile_id() -> str:
    """`p` + 20 random base32 characters (100 bits): fits every `principal_key` column as `profile:<id>`."""
    return "p" + "".join(secrets.choice(_ALPHABET) for _ in range(20))


def stored_email(email: str) -> str:
    """An email as profiles store and look it up: trimmed, lower-cased."""
    return email.strip().lower()


def principal_name(profile_id: str) -> str:
    """How audit events name the profile (it has no ARN)."""
    return f"profile/{profile_id}"


@dataclass(frozen=True)
class ProfileView:
    """A profile as pages see it (never its password hash)."""

    id: str
    email: str
    name: str
    nickname: str | None
    created_at: float
    password_changed_at: float

    @property
    def ref(self) -> PrincipalRef:
        return PrincipalRef.profile(self.id)


def view(profile: Profile) -> ProfileView:
    return ProfileView(profile.id, profile.email, profile.name, profile.nickname, profile.created_at,
                       profile.password_changed_at)


@dataclass(frozen=True)
class SignedInProfile:
    session: SessionView
    principal: Principal
    profile: ProfileView


async def signed_in(ports: SessionPorts, token: str | None) -> SignedInProfile | None:
    """The live profile session behind the profile cookie (a console session is none), with its profile."""
    if not token:
        return None
    found = await sessions.signed_in_profile(ports, token)
    if found is None:
        return None
    signed, profile = found
    return SignedInProfile(signed.session, signed.principal, view(profile))


async def sign_out(deps: Deps, client: Client, token: str) -> None:
    """End the profile session behind `token` (a session of another kind is left alone) and record it."""
    if not token:
        return
    async with deps.store.unit() as uow:
        found = await uow.sessions.get(hash_token(token))
        if found is None or found.kind != PROFILE:
            return
        await sessions.end(uow, deps.session_ports, token)
        await audit.record(uow, at=deps.clock(), event="ProfileLogout", result="Success", client=client,
                           principal=principal_name(PrincipalRef.parse(found.principal_key).id))
