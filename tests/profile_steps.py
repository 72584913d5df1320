"""Steps shared by the personal profile's tests: a profile made directly in the store, and a browser signed in
to it (the profile cookie of a session made by the one completion, as the sign-in pages make it)."""

from __future__ import annotations

import httpx

from vestibule.runtime import Runtime
from vestibule.services.context import Client
from vestibule.services.principals import profile_principal
from vestibule.services.profiles.accounts import new_profile_id, stored_email
from vestibule.services.signin.completion import complete_sign_in
from vestibule.store.models import Profile

PROFILE_EMAIL = "maker@example.com"
PROFILE_NAME = "Mei Maker"
PROFILE_PASSWORD = "profile password 1"
PROFILE_COOKIE = "vestibule_profile"


async def make_profile(runtime: Runtime, email: str = PROFILE_EMAIL, name: str = PROFILE_NAME,
                       password: str = PROFILE_PASSWORD) -> str:
    """A profile with this email, name and password; its ID."""
    deps = runtime.deps
    now = deps.clock()
    profile = Profile(id=new_profile_id(), email=stored_email(email), name=name, nickname=None,
                      password_hash=deps.hasher.hash(password), password_changed_at=now, created_at=now)
    async with deps.store.unit() as uow:
        await uow.profiles.add(profile)
    return profile.id


async def open_profile_session(runtime: Runtime, client: httpx.AsyncClient, profile_id: str,
                               user_agent: str = "") -> str:
    """Sign `client` in to the profile without the pages (for tests of the signed-in pages); the session token."""
    async with runtime.deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
    assert profile is not None
    done = await complete_sign_in(runtime.deps.session_ports, principal=profile_principal(profile),
                                  client=Client(ip="203.0.113.7", user_agent=user_agent), method="password",
                                  mfa_used=False)
    client.cookies.set(PROFILE_COOKIE, done.session.token)
    return done.session.token
