"""Server-side console sessions: sign-out ends them at once, idle and absolute timeouts, cookie flags,
a new session ID at every sign-in."""

from __future__ import annotations

import httpx

from http_steps import (
    browser,
    make_account,
    make_user,
    sign_in_iam,
    sign_in_root,
    sign_out,
    use_clock,
)
from support import CHEAP_HASH, CaptchaAnswers, DeliveringTransport, csrf_of
from vestibule.app import create_app
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services import accounts, iam_users
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.web.i18n import Translator

t = Translator("en")


def _session_cookie(client: httpx.AsyncClient) -> str:
    value = client.cookies.get("vestibule_session")
    assert value, "signed in"
    return value


async def test_sign_out_ends_the_server_side_session(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: DevMailbox) -> None:
    await make_account(runtime)
    r = await sign_in_root(client, mailbox)
    header = next(h for h in r.headers.get_list("set-cookie") if h.startswith("vestibule_session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    token = _session_cookie(client)
    r = await sign_out(client)
    assert r.status_code == 303 and r.headers["location"] == "/?signed_out=1"
    assert any(h.startswith("vestibule_session=;") and "Max-Age=0" in h for h in r.headers.get_list("set-cookie"))
    page = await client.get(r.headers["location"])
    assert t("signin.signed_out") in page.text
    # the old cookie, replayed from anywhere, no longer works
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.77") as thief:
        thief.cookies.set("vestibule_session", token)
        r = await thief.get("/console")
        assert r.status_code == 303 and r.headers["location"] == "/"
        r = await thief.get("/console/security")
        assert r.status_code == 303
        page = await thief.get("/")
        assert page.status_code == 200 and 'name="user_type"' in page.text, "the sign-in page, not the console"


async def test_sign_out_only_ends_this_session(runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.1") as one, \
            browser(runtime, CaptchaAnswers(), ip="198.51.100.2") as two:
        await sign_in_root(one, mailbox)
        await sign_in_root(two, mailbox)
        await sign_out(one)
        assert (await one.get("/console")).status_code == 303
        assert (await two.get("/console")).status_code == 200


async def test_new_session_id_at_every_sign_in(client: httpx.AsyncClient, runtime: Runtime,
                                               mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    first = _session_cookie(client)
    await sign_out(client)
    await sign_in_root(client, mailbox)
    assert _session_cookie(client) != first


async def test_forged_session_cookie_is_ignored(client: httpx.AsyncClient) -> None:
    client.cookies.set("vestibule_session", "A" * 43)
    r = await client.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_root_sessions_idle_out_after_15_minutes(client: httpx.AsyncClient, runtime: Runtime,
                                                       mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    clock.advance(14 * 60)
    assert (await client.get("/console")).status_code == 200, "activity within 15 minutes keeps it"
    clock.advance(14 * 60)
    assert (await client.get("/console")).status_code == 200
    clock.advance(15 * 60 + 1)
    r = await client.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_iam_sessions_idle_out_after_an_hour(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    clock.advance(20 * 60)  # longer than the root idle timeout
    assert (await client.get("/console")).status_code == 200
    clock.advance(59 * 60)
    assert (await client.get("/console")).status_code == 200
    clock.advance(60 * 60 + 1)
    assert (await client.get("/console")).status_code == 303


async def test_absolute_timeout_of_12_hours(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    for _ in range(14):  # active every 50 minutes: 11 h 40 min
        clock.advance(50 * 60)
        assert (await client.get("/console")).status_code == 200
    clock.advance(20 * 60 + 1)  # 12 h and a second after signing in, still active
    r = await client.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_signed_in_user_is_sent_from_the_start_page_to_the_console(client: httpx.AsyncClient,
                                                                         runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    r = await client.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/console"
    r = await client.get("/acme/console")
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_sign_out_without_a_session_is_harmless(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    r = await client.post("/signout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303


async def test_sign_out_is_never_a_get(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    r = await client.get("/signout")
    assert r.status_code in {404, 405}
    assert (await client.get("/console")).status_code == 200


async def test_administrator_setting_a_password_ends_the_users_sessions(client: httpx.AsyncClient,
                                                                       runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, "acme")
        user = await iam_users.require_user(uow, account, "alice")
        await iam_users.set_password(runtime.deps, uow, account, user, "set by admin 1", False)
    r = await client.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_cookies_are_secure_and_host_prefixed_behind_https(settings: Settings, mailbox: DevMailbox) -> None:
    secure = settings.with_overrides(public_url="https://vestibule.example")
    rt = await build(secure, run_migrations=False, mailer=mailbox, hasher=PasswordHasher(CHEAP_HASH))
    try:
        await make_account(rt)
        app = create_app(rt, captcha_text_source=CaptchaAnswers(), close_runtime=False)
        transport = DeliveringTransport(app, rt)
        async with httpx.AsyncClient(transport=transport, base_url="https://vestibule.example") as c:
            page = await c.get("/")
            assert "strict-transport-security" in page.headers
            browser_cookie = next(h for h in page.headers.get_list("set-cookie") if "vestibule_browser=" in h)
            assert browser_cookie.startswith("__Host-vestibule_browser=")
            assert "Secure" in browser_cookie and "HttpOnly" in browser_cookie and "Path=/" in browser_cookie
            assert "Domain" not in browser_cookie
            r = await sign_in_root(c, mailbox)
            session_cookie = next(h for h in r.headers.get_list("set-cookie") if "vestibule_session=" in h)
            assert session_cookie.startswith("__Host-vestibule_session=")
            for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
                assert flag in session_cookie, flag
            assert (await c.get("/console")).status_code == 200
    finally:
        await rt.close()
