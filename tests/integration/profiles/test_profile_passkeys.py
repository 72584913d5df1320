"""Passkeys and security keys of a personal profile over HTTP, with the software authenticator: added on Security
(the password again, a name), listed with the TOTP devices, renamed, removed (the password again, the warning
before the last factor); the MFA step with a security key (and the trusted-browser rule); "Sign in with a
passkey" (no email, no password; MFA used); refusals that look alike: a replayed answer, a wrong challenge,
another profile's key, a counter going backwards, a removed key, a root user's key; the client's throttle."""

from __future__ import annotations

import json
import re

import httpx
from sqlalchemy import select

from http_steps import browser, error_of, make_account, notice_of, use_clock
from profile_steps import (
    PROFILE_COOKIE,
    PROFILE_PASSWORD,
    add_profile_totp,
    make_profile,
    open_profile_session,
    profile_password,
    profile_sign_out,
    step,
)
from support import CaptchaAnswers, csrf_of
from vestibule.core.throttle import RULES, Scope
from vestibule.core.tokens import hash_token
from vestibule.core.webauthn import CHALLENGE_LIFETIME, CredentialKind
from vestibule.runtime import Runtime
from vestibule.services import webauthn
from vestibule.services.context import Client
from vestibule.services.webauthn import Owner
from vestibule.store.models import AuditEvent, Session
from vestibule.web.i18n import Translator
from webauthn_authenticator import SoftAuthenticator
from webauthn_steps import options_of, register_from

t = Translator("en")
OTHER_EMAIL = "other.maker@example.com"
TRUST_COOKIE = "vestibule_profile_trust"
SERVICE_CLIENT = Client(ip="203.0.113.9", user_agent="test", browser_hash="browser-1")


async def _events(runtime: Runtime, *names: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        stmt = select(AuditEvent).where(AuditEvent.event.in_(names)).order_by(AuditEvent.id)
        return list((await uow.db.execute(stmt)).scalars().all())


async def _session(runtime: Runtime, signed_in: httpx.Response) -> Session:
    """The session whose cookie the sign-in's answer set."""
    async with runtime.deps.store.unit() as uow:
        row = (await uow.db.execute(select(Session).where(
            Session.id_hash == hash_token(signed_in.cookies[PROFILE_COOKIE])))).scalar_one()
    return row


async def _sign_out(client: httpx.AsyncClient) -> None:
    """Sign out, and drop the cookie the test's own session was carried in."""
    await profile_sign_out(client)
    for cookie in list(client.cookies.jar):
        if cookie.name == PROFILE_COOKIE:
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)


async def add_key(client: httpx.AsyncClient, key: SoftAuthenticator, *, kind: str = "security_key",
                  name: str = "Blue key") -> httpx.Response:
    """Security -> Add a passkey / Add a security key -> the password -> a name and the browser's answer."""
    page = await client.get("/profile/security")
    assert f'id="add-{kind.replace("_", "-")}"' in page.text
    r = await client.post("/profile/security/passkey/new", data={"csrf_token": csrf_of(page.text), "kind": kind})
    if r.status_code == 403:  # the password again first (unless it was typed in the last minutes)
        assert 'name="password"' in r.text
        r = await client.post("/profile/security/passkey/new", data={"csrf_token": csrf_of(r.text), "kind": kind,
                                                                    "password": PROFILE_PASSWORD})
    return await register_from(client, r, "/profile/security/passkey/register", key, kind=kind, name=name,
                               resident=kind == "passkey")


async def _profile_with_key(runtime: Runtime, client: httpx.AsyncClient, kind: str = "security_key",
                            email: str = "maker@example.com") -> tuple[str, SoftAuthenticator]:
    profile_id = await make_profile(runtime, email=email)
    await open_profile_session(runtime, client, profile_id)
    key = SoftAuthenticator()
    r = await add_key(client, key, kind=kind)
    assert r.status_code == 303 and r.headers["location"] == "/profile/security?notice=key_added", r.text
    return profile_id, key


async def _passkey_page(client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    """The email page's "Sign in with a passkey": the answer's URL and the page with the options."""
    start = await client.get("/profile")
    assert 'id="signin-passkey"' in start.text and t("profile_webauthn.signin_passkey") in start.text
    r = await client.post("/profile/passkey", data={"csrf_token": csrf_of(start.text)})
    assert r.status_code == 303 and r.headers["location"].startswith("/profile/passkey?flow="), r.text
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and 'data-webauthn="get"' in page.text
    return r.headers["location"].replace("/profile/passkey?", "/profile/passkey/answer?"), page


async def _answer(client: httpx.AsyncClient, url: str, page: httpx.Response, response: str,
                  **extra: str) -> httpx.Response:
    return await client.post(url, data={"csrf_token": csrf_of(page.text), "webauthn_response": response, **extra})


async def test_security_key_is_added_listed_and_used_at_the_mfa_step(client: httpx.AsyncClient,
                                                                   runtime: Runtime) -> None:
    profile_id, key = await _profile_with_key(runtime, client)
    page = await client.get("/profile/security?notice=key_added")
    assert notice_of(page.text) == t("profile_webauthn.notice_key_added")
    row = re.search(r'<tr class="mfa-device" data-kind="webauthn" data-id="([^"]+)">(.*?)</tr>', page.text, re.S)
    assert row and row.group(1) == key.id
    assert "Blue key" in row.group(2) and t("profile_webauthn.type_security_key") in row.group(2)
    assert t("profile_settings.never_used") in row.group(2)
    [added] = await _events(runtime, webauthn.REGISTER_EVENT)
    assert added.principal == f"profile/{profile_id}" and added.account_id is None and added.result == "Success"
    await _sign_out(client)

    flow_url, r = await profile_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    mfa = await client.get(flow_url)
    assert 'id="use-webauthn"' in mfa.text and 'id="totp-form"' not in mfa.text  # no TOTP device: the key only
    options = json.loads(options_of(mfa.text))
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    r = await client.post(flow_url, data={"csrf_token": csrf_of(mfa.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options)})
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in", r.text
    session = await _session(runtime, r)
    assert session.mfa_used and session.principal_key == f"profile:{profile_id}"
    login = (await _events(runtime, "ProfileLogin"))[-1]
    assert login.result == "Success" and login.method == "password+webauthn" and login.mfa_used
    page = await client.get("/profile/security")
    assert t("profile_settings.never_used") not in page.text  # last used now


async def test_mfa_step_offers_both_and_the_trusted_browser_rule_holds(client: httpx.AsyncClient,
                                                                       runtime: Runtime) -> None:
    profile_id, key = await _profile_with_key(runtime, client)
    await add_profile_totp(runtime, profile_id)
    await _sign_out(client)
    flow_url, r = await profile_password(client, trusted_device="on")
    mfa = await client.get(flow_url)
    assert 'id="use-webauthn"' in mfa.text and 'id="totp-form"' in mfa.text
    assert t("profile_webauthn.or_code") in mfa.text
    r = await client.post(flow_url, data={"csrf_token": csrf_of(mfa.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options_of(mfa.text))})
    assert r.status_code == 303 and TRUST_COOKIE in r.cookies, r.text
    [trusted] = await _events(runtime, "ProfileTrustedBrowserAdded")
    assert trusted.method == "password+webauthn"
    await _sign_out(client)
    # this browser is trusted now: the password alone signs in
    _, r = await profile_password(client)
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in"
    assert (await _events(runtime, "ProfileLogin"))[-1].method == "password+trusted_browser"


async def test_refused_answers_at_the_mfa_step(client: httpx.AsyncClient, runtime: Runtime,
                                               captcha: CaptchaAnswers) -> None:
    """A replayed answer, a wrong challenge and another profile's key are refused alike, each audited."""
    _, key = await _profile_with_key(runtime, client)
    async with browser(runtime, captcha, ip="198.51.100.30") as other:
        _, stranger = await _profile_with_key(runtime, other, email="other.maker@example.com")
    await _sign_out(client)
    flow_url, _ = await profile_password(client)
    mfa = await client.get(flow_url)
    stale = key.assertion(options_of(mfa.text))
    r = await client.post(flow_url, data={"csrf_token": csrf_of(mfa.text), "step": "webauthn",
                                          "webauthn_response": stranger.assertion(options_of(mfa.text))})
    assert r.status_code == 400 and error_of(r.text) == t("profile_webauthn.key_refused")
    # the refused answer spent the challenge: the page shown after it has a new one
    r = await client.post(flow_url, data={"csrf_token": csrf_of(r.text), "step": "webauthn",
                                          "webauthn_response": stale})
    assert r.status_code == 400 and error_of(r.text) == t("profile_webauthn.key_refused")
    good = key.assertion(options_of(r.text))
    r = await client.post(flow_url, data={"csrf_token": csrf_of(r.text), "step": "webauthn",
                                          "webauthn_response": good})
    assert r.status_code == 303
    r = await client.post(flow_url, data={"csrf_token": csrf_of(mfa.text), "step": "webauthn",
                                          "webauthn_response": good})  # replayed: the flow is done
    assert r.status_code != 303 and PROFILE_COOKIE not in r.cookies
    reasons = [str(e.detail.get("reason", "")) for e in await _events(runtime, "ProfileLogin") if e.result == "Failure"]
    assert any("wrong WebAuthn challenge" in r for r in reasons)
    assert any("another principal" in r for r in reasons)


async def test_passkey_signs_in_without_email_or_password(client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id, key = await _profile_with_key(runtime, client, kind="passkey")
    await _sign_out(client)
    url, page = await _passkey_page(client)
    options = json.loads(options_of(page.text))
    assert options["userVerification"] == "required" and not options.get("allowCredentials")
    assert 'name="email"' not in page.text and 'name="password"' not in page.text
    r = await _answer(client, url, page, key.assertion(options))
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in", r.text
    session = await _session(runtime, r)
    assert session.mfa_used and session.principal_key == f"profile:{profile_id}"
    login = (await _events(runtime, "ProfileLogin"))[-1]
    assert (login.result, login.method, login.mfa_used, login.principal) == (
        "Success", "passkey", True, f"profile/{profile_id}")
    # the same answer again: the challenge was spent with the flow
    r = await _answer(client, url, page, key.assertion(options))
    assert r.status_code != 303 and PROFILE_COOKIE not in r.cookies


async def test_passkey_refusals_look_alike(client: httpx.AsyncClient, runtime: Runtime,
                                           captcha: CaptchaAnswers) -> None:
    """Unknown, root user's, counter backwards, no user verification, removed: one message, each audited."""
    profile_id, key = await _profile_with_key(runtime, client, kind="passkey")
    await _sign_out(client)
    refused = t("profile_webauthn.passkey_refused")

    async with browser(runtime, captcha, ip="198.51.100.41") as fresh:
        url, page = await _passkey_page(fresh)
        r = await _answer(fresh, url, page, SoftAuthenticator().assertion(options_of(page.text)))  # unknown key
        assert r.status_code == 400 and error_of(r.text) == refused

        account_id = await make_account(runtime, email="root.keys@example.com")
        root_key = SoftAuthenticator()
        owner = Owner(f"root:{account_id}", "root.keys@example.com", "Root", f"arn:aws:iam::{account_id}:root",
                      account_id)
        ceremony = await webauthn.begin_registration(runtime.deps, SERVICE_CLIENT, owner, CredentialKind.PASSKEY)
        await webauthn.finish_registration(runtime.deps, SERVICE_CLIENT, owner, ceremony.flow_id,
                                           root_key.register(ceremony.options, resident=True), "root passkey")
        r = await _answer(fresh, url, r, root_key.assertion(options_of(r.text)))
        assert r.status_code == 400 and error_of(r.text) == refused

        async with browser(runtime, captcha, ip="198.51.100.44") as first:  # the key signs once (counter 1)
            first_url, first_page = await _passkey_page(first)
            assert (await _answer(first, first_url, first_page, key.assertion(options_of(first_page.text)))
                    ).status_code == 303
        # the counter does not move forward: a cloned key
        r = await _answer(fresh, url, r, key.assertion(options_of(r.text), counter=key.counter))
        assert r.status_code == 400 and error_of(r.text) == refused

    async with browser(runtime, captcha, ip="198.51.100.42") as other:
        key.user_verified = False
        url, page = await _passkey_page(other)
        r = await _answer(other, url, page, key.assertion(options_of(page.text)))
        assert r.status_code == 400 and error_of(r.text) == refused
        key.user_verified = True

    # removed on Security (the password again, the last-factor warning), then refused alike
    await open_profile_session(runtime, client, profile_id)
    page = await client.get("/profile/security")
    r = await client.post("/profile/security/passkey/remove", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "password": PROFILE_PASSWORD})
    assert r.status_code == 200 and 'id="last-device-warning"' in r.text
    r = await client.post("/profile/security/passkey/remove", data={
        "csrf_token": csrf_of(r.text), "credential": key.id, "confirm_last": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/profile/security?notice=key_removed"
    async with browser(runtime, captcha, ip="198.51.100.43") as later:
        url, page = await _passkey_page(later)
        r = await _answer(later, url, page, key.assertion(options_of(page.text)))
        assert r.status_code == 400 and error_of(r.text) == refused
    failures = [e for e in await _events(runtime, "ProfileLogin") if e.result == "Failure"]
    reasons = " | ".join(str(e.detail.get("reason", "")) for e in failures)
    assert "unknown WebAuthn credential" in reasons and "went backwards" in reasons
    assert "user was not verified" in reasons and "no personal profile" in reasons
    assert all(e.method == "passkey" for e in failures) and len(failures) >= 5


async def test_passkey_attempts_are_throttled_per_client(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """Counted on the client's password counter: a CAPTCHA from its threshold on (whatever the flow)."""
    stranger = SoftAuthenticator()
    threshold = RULES[Scope.CLIENT].captcha_after
    assert threshold is not None
    for failed in range(threshold):
        if failed % 4 == 0:  # a flow has 5 attempts: a new one now and then
            url, page = await _passkey_page(client)
            assert 'name="captcha"' not in page.text
        page = await _answer(client, url, page, stranger.assertion(options_of(page.text)))
        assert page.status_code == 400
    url, page = await _passkey_page(client)
    assert 'name="captcha"' in page.text  # risky now: a CAPTCHA with the next answer
    r = await _answer(client, url, page, stranger.assertion(options_of(page.text)))
    assert r.status_code == 400 and error_of(r.text) == t("captcha.required")


async def test_rename_and_remove_on_security(client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id, key = await _profile_with_key(runtime, client)
    second = SoftAuthenticator()
    r = await add_key(client, second, kind="passkey", name="Phone")
    assert r.status_code == 303
    page = await client.get(f"/profile/security/passkey?id={key.id}")
    assert page.status_code == 200 and 'id="key-type"' in page.text
    assert t("profile_webauthn.type_security_key") in page.text
    r = await client.post("/profile/security/passkey/rename", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "key_name": "  "})
    assert r.status_code == 400
    r = await client.post("/profile/security/passkey/rename", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "key_name": "Desk key"})
    assert r.status_code == 303 and r.headers["location"] == "/profile/security?notice=key_renamed"
    assert "Desk key" in (await client.get("/profile/security")).text
    # a wrong password removes nothing; the right one removes it without a warning (a passkey is left)
    r = await client.post("/profile/security/passkey/remove", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "password": "wrong password 1"})
    assert r.status_code == 400 and error_of(r.text) == t("profile_settings.wrong_password")
    r = await client.post("/profile/security/passkey/remove", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "password": PROFILE_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/profile/security?notice=key_removed"
    assert [c.name for c in await webauthn.credentials_of(runtime.deps, f"profile:{profile_id}")] == ["Phone"]
    events = await _events(runtime, webauthn.REGISTER_EVENT, webauthn.RENAME_EVENT, webauthn.REMOVE_EVENT)
    assert [e.event for e in events] == [webauthn.REGISTER_EVENT, webauthn.REGISTER_EVENT, webauthn.RENAME_EVENT,
                                         webauthn.REMOVE_EVENT]
    assert all(e.principal == f"profile/{profile_id}" and e.method == "profile" for e in events)
    # one list: the TOTP device beside the passkey
    await add_profile_totp(runtime, profile_id, name="app")
    page = await client.get("/profile/security")
    assert page.text.count('class="mfa-device"') == 2 and 'data-kind="totp"' in page.text


async def test_another_profiles_key_cannot_be_seen_renamed_or_removed(client: httpx.AsyncClient, runtime: Runtime,
                                                                       captcha: CaptchaAnswers) -> None:
    profile_id, key = await _profile_with_key(runtime, client)
    async with browser(runtime, captcha, ip="198.51.100.50") as other:
        other_id = await make_profile(runtime, email=OTHER_EMAIL)
        await open_profile_session(runtime, other, other_id)
        page = await other.get(f"/profile/security/passkey?id={key.id}")
        assert page.status_code == 404
        security = await other.get("/profile/security")
        r = await other.post("/profile/security/passkey/rename", data={
            "csrf_token": csrf_of(security.text), "credential": key.id, "key_name": "Mine"})
        assert r.status_code == 404
        r = await other.post("/profile/security/passkey/remove", data={
            "csrf_token": csrf_of(security.text), "credential": key.id, "password": PROFILE_PASSWORD,
            "confirm_last": "1"})
        assert r.status_code == 404
    assert [c.name for c in await webauthn.credentials_of(runtime.deps, f"profile:{profile_id}")] == ["Blue key"]


async def test_step_names_unknown_to_the_flow_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """A passkey answer posted to an email sign-in flow's password step is no step of it."""
    await make_profile(runtime)
    flow_url, _ = await profile_password(client, password="wrong password 1")
    r = await step(client, flow_url, "webauthn", webauthn_response="{}")
    assert r.status_code in (400, 410) and PROFILE_COOKIE not in r.cookies


async def test_passkey_challenge_expires_and_the_pages_need_csrf(client: httpx.AsyncClient,
                                                                runtime: Runtime) -> None:
    clock = use_clock(runtime)
    _, key = await _profile_with_key(runtime, client, kind="passkey")
    await _sign_out(client)
    r = await client.post("/profile/passkey", data={})
    assert r.status_code == 403  # no CSRF token: no flow
    url, page = await _passkey_page(client)
    answer = key.assertion(options_of(page.text))
    clock.advance(CHALLENGE_LIFETIME + 1)  # the flow lives on, its challenge does not
    r = await _answer(client, url, page, answer)
    assert r.status_code == 400 and error_of(r.text) == t("profile_webauthn.passkey_refused")
    r = await _answer(client, url, r, key.assertion(options_of(r.text)))  # a fresh challenge on the page again
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in"
    [expired] = [e for e in await _events(runtime, "ProfileLogin") if e.result == "Failure"]
    assert expired.detail["reason"] == "WebAuthn challenge expired"


async def test_passkey_pages_in_traditional_chinese(client: httpx.AsyncClient, runtime: Runtime) -> None:
    zh = Translator("zh-TW")
    headers = {"accept-language": "zh-TW"}
    start = await client.get("/profile", headers=headers)
    assert zh("profile_webauthn.signin_passkey") in start.text
    r = await client.post("/profile/passkey", data={"csrf_token": csrf_of(start.text)}, headers=headers)
    page = await client.get(r.headers["location"], headers=headers)
    assert zh("profile_webauthn.passkey_title") in page.text and zh("profile_webauthn.use_passkey") in page.text
