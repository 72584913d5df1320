"""The profile area's frame: its guard, its cookie, its layout and sign-out (the sign-up and sign-in pages have
their own tests)."""

from __future__ import annotations

import httpx

from http_steps import make_account, sign_in_root
from profile_steps import PROFILE_COOKIE, PROFILE_EMAIL, PROFILE_NAME, make_profile, open_profile_session
from support import csrf_of
from vestibule.core.profile_trust import TRUST_LIFETIME
from vestibule.runtime import Runtime
from vestibule.services import sessions
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox
from vestibule.services.profiles import trusted_browsers


async def test_details_need_a_profile_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/profile/details")
    assert response.status_code == 303 and response.headers["location"] == "/profile"


async def test_signed_in_profile_sees_its_details_and_signs_out(client: httpx.AsyncClient, runtime: Runtime) -> None:
    token = await open_profile_session(runtime, client, await make_profile(runtime))
    page = await client.get("/profile/details")
    assert page.status_code == 200
    assert PROFILE_NAME in page.text and PROFILE_EMAIL in page.text
    for link in ('href="/profile/details"', 'href="/profile/security"', 'href="/profile/privacy"',
                 'action="/profile/signout"'):
        assert link in page.text
    out = await client.post("/profile/signout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/profile?signed_out=1"
    assert any(h.startswith(f"{PROFILE_COOKIE}=;") for h in out.headers.get_list("set-cookie"))
    client.cookies.set(PROFILE_COOKIE, token)  # the old cookie again: its session has ended
    assert (await client.get("/profile/details")).status_code == 303


async def test_console_and_profile_sessions_never_stand_in_for_each_other(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    console_token = client.cookies.get("vestibule_session")
    assert console_token
    client.cookies.set(PROFILE_COOKIE, console_token)  # a console session in the profile cookie
    assert (await client.get("/profile/details")).status_code == 303
    profile_token = await open_profile_session(runtime, client, await make_profile(runtime))
    client.cookies.set("vestibule_session", profile_token)  # a profile session in the console cookie
    assert (await client.get("/console")).status_code == 303


async def test_sessions_signed_in_knows_a_profile_session_only_by_its_kind(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id = await make_profile(runtime)
    token = await open_profile_session(runtime, client, profile_id)
    ports = runtime.deps.session_ports
    found = await sessions.signed_in(ports, token, kind=sessions.PROFILE)
    assert found is not None
    principal = found.principal
    assert (principal.key, principal.account_id, principal.arn, principal.name, principal.email) == (
        f"profile:{profile_id}", "", f"profile/{profile_id}", PROFILE_NAME, PROFILE_EMAIL)
    assert await sessions.signed_in(ports, token) is None  # asked as a console session: none
    async with runtime.deps.store.unit() as uow:
        await sessions.end(uow, ports, token)
    assert await sessions.signed_in(ports, token, kind=sessions.PROFILE) is None


async def test_trusted_browsers_are_listed_revoked_and_purged(runtime: Runtime) -> None:
    profile_id = await make_profile(runtime)
    now = runtime.deps.clock()
    chrome = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/120.0")
    async with runtime.deps.store.unit() as uow:
        assert await trusted_browsers.trust(uow, profile_id, Client(ip=""), now) is None  # no address: no trust
        first = await trusted_browsers.trust(uow, profile_id, chrome, now)
        second = await trusted_browsers.trust(uow, profile_id, chrome, now + 1)
    assert first and second
    async with runtime.deps.store.unit() as uow:
        listed = await trusted_browsers.listed(uow, profile_id, now + 2)
        assert [b.label for b in listed] == ["Chrome / Windows"] * 2 and listed[0].created_at == now + 1
        assert await trusted_browsers.matches(uow, profile_id, first, chrome, now + 2)
        assert not await trusted_browsers.revoke(uow, "p" + "z" * 20, listed[0].id)  # not another profile's
        assert await trusted_browsers.revoke(uow, profile_id, listed[0].id)
        assert not await trusted_browsers.matches(uow, profile_id, second, chrome, now + 2)
    async with runtime.deps.store.unit() as uow:
        assert await uow.profile_trusted_browsers.purge_expired(now + TRUST_LIFETIME) == 0
        assert await uow.profile_trusted_browsers.purge_expired(now + TRUST_LIFETIME + 1) == 1
        assert await trusted_browsers.listed(uow, profile_id, now) == []
