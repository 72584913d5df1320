"""Personal profile sign-in through the pages: email, password, the MFA step when the profile has a device, a
trusted browser that skips it (until its cookie, user agent or network changes), failures that look alike for
known and unknown addresses, throttling with a CAPTCHA, audit events, sign-out, and the profile's cookie apart
from the console's."""

from __future__ import annotations

import httpx
from markupsafe import escape
from sqlalchemy import select

from http_steps import browser, error_of, make_account, notice_of, use_clock
from profile_steps import (
    PROFILE_COOKIE,
    PROFILE_EMAIL,
    PROFILE_NAME,
    PROFILE_PASSWORD,
    add_profile_totp,
    make_profile,
    profile_password,
    profile_sign_out,
    start_signin,
    step,
    step_with_captcha,
    totp_now,
)
from support import CaptchaAnswers, csrf_of
from vestibule.core.throttle import CAPTCHA_AFTER
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent, ProfileTrustedBrowser, Session
from vestibule.web.i18n import Translator

t = Translator("en")
TRUST_COOKIE = "vestibule_profile_trust"
UA = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"}


async def _events(runtime: Runtime, name: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        stmt = select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
        return list((await uow.db.execute(stmt)).scalars().all())


async def _trusted(runtime: Runtime) -> list[ProfileTrustedBrowser]:
    async with runtime.deps.store.unit() as uow:
        return list((await uow.db.execute(select(ProfileTrustedBrowser))).scalars().all())


def _cookie_set(response: httpx.Response, name: str) -> bool:
    return any(h.startswith(f"{name}=") and "Max-Age=0" not in h for h in response.headers.get_list("set-cookie"))


async def test_password_only_profile_signs_in(client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id = await make_profile(runtime)
    start = await client.get("/profile")
    assert start.status_code == 200 and escape(t("profile.separate_identity")) in start.text
    assert 'href="/"' in start.text and 'href="/profile/signup"' in start.text
    flow_url = await start_signin(client, "  Maker@EXAMPLE.com ")
    page = await client.get(flow_url)
    assert PROFILE_EMAIL in page.text and 'id="trusted_device"' in page.text and 'for="trusted_device"' in page.text
    r = await step(client, flow_url, "password", password=PROFILE_PASSWORD, trusted_device="on")
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in"
    assert _cookie_set(r, PROFILE_COOKIE) and not _cookie_set(r, "vestibule_session")
    assert not _cookie_set(r, TRUST_COOKIE) and await _trusted(runtime) == []  # no MFA: nothing to skip later
    home = await client.get(r.headers["location"])
    assert notice_of(home.text) == t("profile.notice_signed_in") and PROFILE_NAME in home.text
    (login,) = await _events(runtime, "ProfileLogin")
    assert (login.result, login.principal, login.account_id, login.method, login.mfa_used) == (
        "Success", f"profile/{profile_id}", None, "password", False)
    async with runtime.deps.store.unit() as uow:
        (row,) = (await uow.db.execute(select(Session))).scalars().all()
    assert (row.kind, row.account_id, row.principal_key) == ("profile", "", f"profile:{profile_id}")
    assert (await client.get("/profile")).headers["location"] == "/profile/details"


async def test_wrong_password_and_unknown_email_answer_alike(client: httpx.AsyncClient, runtime: Runtime,
                                                             captcha: CaptchaAnswers) -> None:
    profile_id = await make_profile(runtime)
    known_url, known = await profile_password(client, password="Wrong-Password-1")
    async with browser(runtime, captcha, ip="198.51.100.9") as other:
        unknown_url, unknown = await profile_password(other, email="nobody@example.com")
    assert known.status_code == unknown.status_code == 400
    assert error_of(known.text) == error_of(unknown.text) == t("signin.invalid_credentials")
    assert known.text.replace(known_url, "U").replace(PROFILE_EMAIL, "E").replace(csrf_of(known.text), "C") == \
        unknown.text.replace(unknown_url, "U").replace("nobody@example.com", "E").replace(csrf_of(unknown.text), "C")
    failures = await _events(runtime, "ProfileLogin")
    assert [(e.result, e.principal, e.detail.get("reason")) for e in failures] == [
        ("Failure", f"profile/{profile_id}", "wrong password"), ("Failure", "", "unknown principal")]
    assert not _cookie_set(known, PROFILE_COOKIE)


async def test_failures_bring_a_captcha_then_a_right_password_passes(client: httpx.AsyncClient, runtime: Runtime,
                                                                     captcha: CaptchaAnswers) -> None:
    await make_profile(runtime)
    for _ in range(CAPTCHA_AFTER):
        _, r = await profile_password(client, password="Wrong-Password-1")
        assert r.status_code == 400
    flow_url = await start_signin(client)
    page = await client.get(flow_url)
    assert 'name="captcha"' in page.text
    r = await step(client, flow_url, "password", password=PROFILE_PASSWORD)  # the right password, no answer
    assert r.status_code == 400 and error_of(r.text) == t("captcha.required")
    r = await step_with_captcha(client, captcha, flow_url, "password", password=PROFILE_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in"


async def test_mfa_step_then_a_trusted_browser_skips_it(client: httpx.AsyncClient, runtime: Runtime,
                                                        captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    profile_id = await make_profile(runtime)
    secret = await add_profile_totp(runtime, profile_id)
    client.headers.update(UA)
    # without the box ticked: MFA, and no trust
    flow_url, r = await profile_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    page = await client.get(flow_url)
    assert 'for="mfa_code"' in page.text and 'id="trust-after-mfa"' not in page.text
    assert not _cookie_set(r, PROFILE_COOKIE)
    r = await step(client, flow_url, "mfa", mfa_code="000000" if totp_now(runtime, secret) != "000000" else "111111")
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code")
    r = await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, secret))
    assert r.status_code == 303 and _cookie_set(r, PROFILE_COOKIE) and not _cookie_set(r, TRUST_COOKIE)
    await profile_sign_out(client)
    # ticked: MFA once more, then this browser is trusted
    clock.advance(30)  # the next time step: a code is used once
    flow_url, r = await profile_password(client, trusted_device="on")
    assert r.headers["location"] == flow_url
    assert 'id="trust-after-mfa"' in (await client.get(flow_url)).text
    r = await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, secret))
    assert r.status_code == 303 and _cookie_set(r, TRUST_COOKIE)
    (row,) = await _trusted(runtime)
    assert (row.profile_id, row.network, row.label) == (profile_id, "203.0.113.0/24", "Chrome / Linux")
    assert client.cookies.get(TRUST_COOKIE) and row.token_hash != client.cookies.get(TRUST_COOKIE)
    (added,) = await _events(runtime, "ProfileTrustedBrowserAdded")
    assert added.principal == f"profile/{profile_id}"
    await profile_sign_out(client)
    # the next sign-in from this browser skips MFA (even without the box)
    _, r = await profile_password(client)
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in"
    logins = [e for e in await _events(runtime, "ProfileLogin") if e.result == "Success"]
    assert [(e.method, e.mfa_used) for e in logins] == [
        ("password+mfa", True), ("password+mfa", True), ("password+trusted_browser", False)]
    trust_token = client.cookies.get(TRUST_COOKIE)
    assert trust_token
    # another network, another browser, or no cookie: MFA again
    async with browser(runtime, captcha, ip="198.51.100.20") as elsewhere:
        elsewhere.headers.update(UA)
        elsewhere.cookies.set(TRUST_COOKIE, trust_token)
        flow_url, r = await profile_password(elsewhere)
        assert r.headers["location"] == flow_url
    async with browser(runtime, captcha, ip="203.0.113.99") as same_network:  # the same /24: still trusted
        same_network.headers.update(UA)
        same_network.cookies.set(TRUST_COOKIE, trust_token)
        _, r = await profile_password(same_network)
        assert r.headers["location"] == "/profile/details?notice=signed_in"
    async with browser(runtime, captcha) as other_agent:
        other_agent.headers.update({"user-agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/121.0"})
        other_agent.cookies.set(TRUST_COOKIE, trust_token)
        flow_url, r = await profile_password(other_agent)
        assert r.headers["location"] == flow_url
    async with browser(runtime, captcha) as no_cookie:
        no_cookie.headers.update(UA)
        flow_url, r = await profile_password(no_cookie)
        assert r.headers["location"] == flow_url
    # a revoked trusted browser is no longer trusted
    async with runtime.deps.store.unit() as uow:
        assert await uow.profile_trusted_browsers.revoke(profile_id, row.id)
    await profile_sign_out(client)
    flow_url, r = await profile_password(client)
    assert r.headers["location"] == flow_url


async def test_another_profiles_trust_cookie_counts_for_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    use_clock(runtime)
    first = await make_profile(runtime)
    first_secret = await add_profile_totp(runtime, first)
    second = await make_profile(runtime, email="second@example.com")
    await add_profile_totp(runtime, second)
    client.headers.update(UA)
    flow_url, _ = await profile_password(client, trusted_device="on")
    await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, first_secret))
    assert client.cookies.get(TRUST_COOKIE)
    await profile_sign_out(client)
    flow_url, r = await profile_password(client, email="second@example.com")
    assert r.headers["location"] == flow_url  # MFA asked: the trust is the first profile's


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_profile(runtime)
    _, r = await profile_password(client)
    token = client.cookies.get(PROFILE_COOKIE)
    page = await client.get("/profile/details")
    assert 'action="/profile/signout"' in page.text
    r = await client.post("/profile/signout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/profile?signed_out=1"
    assert t("profile.signed_out") in (await client.get("/profile?signed_out=1")).text
    assert token is not None
    client.cookies.set(PROFILE_COOKIE, token)
    assert (await client.get("/profile/details")).headers["location"] == "/profile"
    (logout,) = await _events(runtime, "ProfileLogout")
    assert logout.principal.startswith("profile/p") and logout.account_id is None
    r = await client.post("/profile/signout", data={})  # no CSRF token: refused
    assert r.status_code == 403


async def test_console_and_profile_cookies_are_separate(client: httpx.AsyncClient, runtime: Runtime,
                                                        mailbox: DevMailbox) -> None:
    await make_account(runtime, email=PROFILE_EMAIL)  # the same email: two identities
    await make_profile(runtime)
    await profile_password(client)
    profile_token = client.cookies.get(PROFILE_COOKIE)
    assert profile_token and client.cookies.get("vestibule_session") is None
    assert (await client.get("/console")).status_code == 303  # a profile session is no console session
    client.cookies.set("vestibule_session", profile_token)
    assert (await client.get("/console")).status_code == 303
    client.cookies.delete("vestibule_session")
    # signing out of the console leaves the profile signed in
    assert (await client.get("/profile/details")).status_code == 200


async def test_mfa_step_runs_out_of_attempts(client: httpx.AsyncClient, runtime: Runtime) -> None:
    use_clock(runtime)
    profile_id = await make_profile(runtime)
    secret = await add_profile_totp(runtime, profile_id)
    flow_url, _ = await profile_password(client)
    wrong = "000000" if totp_now(runtime, secret) != "000000" else "111111"
    for _ in range(5):
        await step(client, flow_url, "mfa", mfa_code=wrong)
    r = await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, secret))
    assert r.status_code == 410 and not _cookie_set(r, PROFILE_COOKIE)
    failures = [e for e in await _events(runtime, "ProfileLogin") if e.result == "Failure"]
    assert failures and all(e.principal == f"profile/{profile_id}" and e.account_id is None for e in failures)
