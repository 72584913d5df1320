"""The CLI sign-in's approval pages over HTTP: `/device` (typed or prefilled user code), `GET /authorize` (PKCE),
the confirmation page behind the access portal's own sign-in, Allow and Deny, and every refusal as a message
page with its status. The grants are started in-process through the service, as the wire would."""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pyotp
import pytest

from decision_pages import decide, facts, result_of
from http_steps import Clock, browser, error_of, make_account, use_clock
from integration.test_portal_signin_http import (
    EMAIL,
    PASSWORD,
    make_portal_user,
    make_store,
    password_step,
    sign_in,
    step,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.core import oauth
from vestibule.core.oauth import AccessDenied, AuthorizationPending
from vestibule.runtime import Runtime
from vestibule.services.context import Client
from vestibule.services.identity_center import sso_oidc
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.identity_center.sso_oidc import DeviceAuthorization, RegisteredClient
from vestibule.services.mail import DevMailbox
from vestibule.store.models import SsoInstance
from vestibule.web.i18n import Translator

t = Translator("en")
CLI = Client(ip="198.51.100.20", user_agent="botocore/1.44")  # where the terminal runs
CLIENT_NAME = "laptop-cli"
CALLBACK = "http://127.0.0.1/oauth/callback"


def start_url(store: str) -> str:
    return f"http://testserver/portal/{store}/start"


async def another_store(runtime: Runtime) -> str:
    """An access portal of another account (make_store's account has a fixed owner email)."""
    account_id = await make_account(runtime, email="other-owner@example.com", alias=None)
    store_id = f"d-{secrets.token_hex(5)}"
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store_id,
            owner_account_id=account_id, name="other", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=runtime.deps.clock(), settings=InstanceSettings(no_mfa_device="EMAIL_CODE").to_json(),
            tags="[]"))
    return store_id


async def register(runtime: Runtime, store: str, *, code: bool = False) -> RegisteredClient:
    grants = [oauth.AUTHORIZATION_CODE_GRANT if code else oauth.DEVICE_CODE_GRANT, oauth.REFRESH_TOKEN_GRANT]
    return await sso_oidc.register_client(runtime.deps, CLI, client_name=CLIENT_NAME, client_type="public",
                                          scopes=["sso:account:access"], grant_types=grants,
                                          redirect_uris=[CALLBACK] if code else None, issuer_url=start_url(store))


async def start_device(runtime: Runtime, store: str) -> tuple[RegisteredClient, DeviceAuthorization]:
    app = await register(runtime, store)
    started = await sso_oidc.start_device_authorization(runtime.deps, CLI, client_id=app.client_id,
                                                        client_secret=app.client_secret, start_url=start_url(store))
    return app, started


async def poll(runtime: Runtime, app: RegisteredClient, started: DeviceAuthorization) -> sso_oidc.IssuedToken:
    """One CreateToken poll, made after the interval (the test's clock moves on)."""
    clock = runtime.deps.clock
    assert isinstance(clock, Clock), "use_clock(runtime) first"
    clock.advance(started.interval + 1)
    return await sso_oidc.create_token(runtime.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                       grant_type=oauth.DEVICE_CODE_GRANT, device_code=started.device_code)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_prefilled_code_signs_in_to_the_portal_then_comes_back_and_allows(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    use_clock(runtime)
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    app, started = await start_device(runtime, store)
    assert started.verification_uri_complete.startswith("http://testserver/device?user_code=")
    # the complete verification URI goes straight to the confirmation page of that grant
    r = await client.get(path_of(started.verification_uri_complete))
    assert r.status_code == 303 and r.headers["location"].startswith("/device/confirm?flow=")
    confirm = r.headers["location"]
    # not signed in to the grant's portal: its sign-in page, which says why, and then back here
    r = await client.get(confirm)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store}/start"
    start = await client.get(r.headers["location"])
    assert 'id="sign-in-to-approve"' in start.text
    flow_url, r = await password_step(client, store, "alice", PASSWORD)
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))
    assert r.status_code == 303 and r.headers["location"] == confirm
    assert any(h.startswith("vestibule_portal_return=;") and "Max-Age=0" in h for h in r.headers.get_list("set-cookie"))
    page = await client.get(confirm)
    assert page.status_code == 200
    shown = facts(page.text)
    assert shown["client-name"] == CLIENT_NAME and shown["scopes"] == "sso:account:access"
    assert shown["requested-from"] == CLI.ip and shown["portal-user"] == "Alice Liddell"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", shown["requested-at"])
    assert f'id="user-code">{started.user_code}<' in page.text
    with pytest.raises(AuthorizationPending):
        await poll(runtime, app, started)
    # the decision is a CSRF-checked POST: without the token nothing is decided
    r = await client.post(confirm, data={"decision": "allow"})
    assert r.status_code == 403
    with pytest.raises(AuthorizationPending):
        await poll(runtime, app, started)
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "maybe"})
    assert r.status_code == 400
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    assert r.status_code == 200 and result_of(r.text) == "allowed"
    assert t("device.allowed_help", client=CLIENT_NAME) in html.unescape(r.text)
    token = await poll(runtime, app, started)
    assert (await sso_oidc.bearer(runtime.deps, token.access_token)).portal.user.user_name == "alice"
    # single use: deciding again, or opening the page again, says the request is no longer pending
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "deny"})
    assert r.status_code == 404 and error_of(r.text) == t("device.not_pending")
    r = await client.get(confirm)
    assert r.status_code == 404 and error_of(r.text) == t("device.not_pending")
    r = await client.get(path_of(started.verification_uri_complete))
    assert r.status_code == 400 and error_of(r.text) == t("device.code_invalid")


async def test_typed_code_any_case_without_dash_then_deny(client: httpx.AsyncClient, runtime: Runtime,
                                                          mailbox: DevMailbox) -> None:
    use_clock(runtime)
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    await sign_in(client, mailbox, store)
    app, started = await start_device(runtime, store)
    page = await client.get("/device")
    assert page.status_code == 200 and 'name="user_code"' in page.text
    r = await client.post("/device", data={"user_code": started.user_code})
    assert r.status_code == 403  # no CSRF token
    typed = started.user_code.replace("-", "").lower()
    r = await client.post("/device", data={"csrf_token": csrf_of(page.text), "user_code": f" {typed} "})
    assert r.status_code == 303 and r.headers["location"].startswith("/device/confirm?flow=")
    r = await decide(client, r.headers["location"], "deny")
    assert r.status_code == 200 and result_of(r.text) == "denied"
    with pytest.raises(AccessDenied):
        await poll(runtime, app, started)


async def test_code_refusals_are_message_pages(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    store = await make_store(runtime)
    _app, started = await start_device(runtime, store)
    page = await client.get("/device")
    csrf = csrf_of(page.text)
    for typed, status, key in (("", 400, "device.code_required"), ("BCDF-GHJK", 400, "device.code_invalid"),
                               ("not a code", 400, "device.code_invalid"), ("x" * 5000, 400, "device.code_invalid")):
        r = await client.post("/device", data={"csrf_token": csrf, "user_code": typed})
        assert r.status_code == status and error_of(r.text) == t(key), typed
        assert 'name="user_code"' in r.text  # the form again, to type it right
    r = await client.get("/device?user_code=ZZZZ-ZZZZ")
    assert r.status_code == 400 and error_of(r.text) == t("device.code_invalid")
    r = await client.get("/device/confirm?flow=nothing-of-ours")
    assert r.status_code == 404 and error_of(r.text) == t("device.not_pending")
    r = await client.get("/device/confirm")
    assert r.status_code == 404
    r = await client.post("/device/confirm?flow=nothing-of-ours", data={"csrf_token": csrf, "decision": "allow"})
    assert r.status_code == 404 and error_of(r.text) == t("device.not_pending")
    clock.advance(oauth.DEVICE_CODE_LIFETIME + 1)
    r = await client.post("/device", data={"csrf_token": csrf, "user_code": started.user_code})
    assert r.status_code == 410 and error_of(r.text) == t("device.expired")


async def test_guessing_codes_is_throttled_per_address(client: httpx.AsyncClient, runtime: Runtime,
                                                       captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    store = await make_store(runtime)
    _app, started = await start_device(runtime, store)
    csrf = csrf_of((await client.get("/device")).text)
    wrong = "BCDF-BCDF" if started.user_code != "BCDF-BCDF" else "GHJK-GHJK"
    statuses = []
    for _ in range(60):
        r = await client.post("/device", data={"csrf_token": csrf, "user_code": wrong})
        statuses.append(r.status_code)
        if r.status_code == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}, statuses
    wait = int(r.headers["retry-after"])
    assert wait > 0 and error_of(r.text) == t("throttle.wait", seconds=wait)
    # the right code is refused too from that address, while another address still gets its page
    r = await client.post("/device", data={"csrf_token": csrf, "user_code": started.user_code})
    assert r.status_code == 429
    async with browser(runtime, captcha, ip="192.0.2.77") as other:
        r = await other.get(path_of(started.verification_uri_complete))
        assert r.status_code == 303 and r.headers["location"].startswith("/device/confirm?flow=")
    # the wait it names is the truth: refused until then, a code is looked at again after it
    assert wait > 60, "the block lasts until the hour's window lets a code in"
    clock.advance(wait - 5)
    assert (await client.post("/device", data={"csrf_token": csrf, "user_code": wrong})).status_code == 429
    clock.advance(6)
    assert (await client.post("/device", data={"csrf_token": csrf, "user_code": wrong})).status_code == 400


async def test_a_session_of_another_portal_does_not_approve(client: httpx.AsyncClient, runtime: Runtime,
                                                            mailbox: DevMailbox) -> None:
    use_clock(runtime)
    mine = await make_store(runtime)
    await make_portal_user(runtime, mine)
    await sign_in(client, mailbox, mine)
    other = await another_store(runtime)
    app, started = await start_device(runtime, other)
    r = await client.get(path_of(started.verification_uri_complete))
    confirm = r.headers["location"]
    r = await client.get(confirm)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{other}/start"
    csrf = csrf_of((await client.get(f"/portal/{mine}/")).text)
    r = await client.post(confirm, data={"csrf_token": csrf, "decision": "allow"})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{other}/start"
    with pytest.raises(AuthorizationPending):
        await poll(runtime, app, started)


async def test_a_required_mfa_device_is_registered_first_then_back_to_the_request(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    store = await make_store(runtime, InstanceSettings())  # the default: REQUIRE_REGISTRATION
    await make_portal_user(runtime, store)
    await sign_in(client, mailbox, store)
    app, started = await start_device(runtime, store)
    confirm = (await client.get(path_of(started.verification_uri_complete))).headers["location"]
    r = await client.get(confirm)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store}/mfa?required=1"
    page = await client.get(r.headers["location"])
    r = await client.post(f"/portal/{store}/mfa", data={"csrf_token": csrf_of(page.text)})
    enrol_url = r.headers["location"]
    page = await client.get(enrol_url)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    totp, now = pyotp.TOTP(secret.group(1)), clock()
    r = await client.post(enrol_url, data={"csrf_token": csrf_of(page.text), "device_name": "phone",
                                           "mfa_code": totp.at(now - 30), "mfa_code_2": totp.at(now)})
    assert r.status_code == 303 and r.headers["location"] == confirm
    r = await decide(client, confirm, "allow")
    assert r.status_code == 200 and result_of(r.text) == "allowed"
    assert (await poll(runtime, app, started)).access_token


@pytest.mark.parametrize("cookie", [
    quote("//evil.example/device", safe=""),
    quote("/\\evil.example/device", safe=""),
    quote("/portal/x/", safe=""),
    quote("/devices-of-someone", safe=""),
    quote("/authorizer", safe=""),
    "https%3A%2F%2Fevil.example%2Fdevice",
])
async def test_only_device_and_authorize_pages_are_returned_to(client: httpx.AsyncClient, runtime: Runtime,
                                                               mailbox: DevMailbox, cookie: str) -> None:
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    client.cookies.set("vestibule_portal_return", cookie)
    start = await client.get(f"/portal/{store}/start")
    assert 'id="sign-in-to-approve"' not in start.text
    await sign_in(client, mailbox, store)  # asserts the sign-in lands on the portal's home page


async def test_signed_in_start_page_follows_a_waiting_return(client: httpx.AsyncClient, runtime: Runtime,
                                                             mailbox: DevMailbox) -> None:
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    await sign_in(client, mailbox, store)
    client.cookies.set("vestibule_portal_return", quote("/device?user_code=BCDF-GHJK", safe=""))
    r = await client.get(f"/portal/{store}/start")
    assert r.status_code == 303 and r.headers["location"] == "/device?user_code=BCDF-GHJK"
    assert any(h.startswith("vestibule_portal_return=;") and "Max-Age=0" in h for h in r.headers.get_list("set-cookie"))


def _authorize_query(app: RegisteredClient, verifier: str, state: str, port: int = 54321,
                     changes: dict[str, str] | None = None) -> str:
    params = {"response_type": "code", "client_id": app.client_id,
              "redirect_uri": f"http://127.0.0.1:{port}/oauth/callback", "state": state,
              "code_challenge": oauth.s256_challenge(verifier), "code_challenge_method": "S256",
              "scopes": "sso:account:access", **(changes or {})}
    return "/authorize?" + urlencode(params)


async def test_authorize_allow_returns_code_and_state_to_the_loopback_listener(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    app = await register(runtime, store, code=True)
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    r = await client.get(_authorize_query(app, verifier, state))
    assert r.status_code == 303 and r.headers["location"].startswith("/device/confirm?flow=")
    confirm = r.headers["location"]
    r = await client.get(confirm)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store}/start"
    flow_url, r = await password_step(client, store, "alice", PASSWORD)
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))
    assert r.status_code == 303 and r.headers["location"] == confirm
    page = await client.get(confirm)
    assert facts(page.text)["client-name"] == CLIENT_NAME and 'id="user-code"' not in page.text
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    # a page that goes on by itself (a 303 from the form would break the page's CSP form-action)
    assert r.status_code == 200 and result_of(r.text) == "allowed" and "location" not in r.headers
    delay, _, target = r.headers["refresh"].partition("; url=")
    link = re.search(r'<a href="([^"]+)" id="continue"', r.text)
    assert delay == "0" and link and html.unescape(link.group(1)) == target
    parts = urlsplit(target)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:54321", "/oauth/callback")
    query = parse_qs(parts.query)
    assert query["state"] == [state] and len(query["code"]) == 1
    token = await sso_oidc.create_token(runtime.deps, CLI, client_id=app.client_id, client_secret=app.client_secret,
                                        grant_type=oauth.AUTHORIZATION_CODE_GRANT, code=query["code"][0],
                                        redirect_uri="http://127.0.0.1:54321/oauth/callback", code_verifier=verifier)
    assert (await sso_oidc.bearer(runtime.deps, token.access_token)).portal.user.user_name == "alice"
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    assert r.status_code == 404 and "refresh" not in r.headers


async def test_authorize_deny_returns_access_denied(client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    await sign_in(client, mailbox, store)
    app = await register(runtime, store, code=True)
    r = await client.get(_authorize_query(app, secrets.token_urlsafe(48), "st-1", port=40001))
    r = await decide(client, r.headers["location"], "deny")
    assert r.status_code == 200 and result_of(r.text) == "denied"
    target = urlsplit(r.headers["refresh"].partition("; url=")[2])
    assert target.netloc == "127.0.0.1:40001"
    query = parse_qs(target.query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st-1"] and "code" not in query


async def test_authorize_refusals_never_redirect(client: httpx.AsyncClient, runtime: Runtime) -> None:
    store = await make_store(runtime)
    app = await register(runtime, store, code=True)
    device_app = await register(runtime, store)
    verifier = secrets.token_urlsafe(48)
    cases = [
        ({"client_id": "no-such-client"}, "device.client_invalid"),
        ({"client_id": ""}, "device.client_invalid"),
        ({"redirect_uri": "http://evil.example/oauth/callback"}, "device.redirect_invalid"),
        ({"redirect_uri": "http://127.0.0.1:5000/elsewhere"}, "device.redirect_invalid"),
        ({"response_type": "token"}, "device.request_invalid"),
        ({"code_challenge_method": "plain"}, "device.request_invalid"),
        ({"code_challenge": "short"}, "device.request_invalid"),
        ({"scopes": "admin:everything"}, "device.scope_invalid"),
        ({"client_id": device_app.client_id}, "device.request_invalid"),  # not registered for this grant
    ]
    for changes, key in cases:
        r = await client.get(_authorize_query(app, verifier, "s", changes=changes))
        assert r.status_code == 400 and "location" not in r.headers and "refresh" not in r.headers, changes
        assert error_of(r.text) == t(key), changes
    r = await client.get("/authorize")
    assert r.status_code == 400 and error_of(r.text) == t("device.client_invalid")


async def test_pages_speak_traditional_chinese(client: httpx.AsyncClient, runtime: Runtime,
                                               mailbox: DevMailbox) -> None:
    zh = Translator("zh-TW")
    page = await client.get("/device?lang=zh-TW")
    assert page.status_code == 200 and zh("device.code_prompt") in page.text
    store = await make_store(runtime)
    await make_portal_user(runtime, store)
    await sign_in(client, mailbox, store)
    _app, started = await start_device(runtime, store)
    confirm = (await client.get(path_of(started.verification_uri_complete))).headers["location"]
    page = await client.get(confirm)
    text = html.unescape(page.text)
    assert zh("device.confirm_title") in text and zh("device.allow") in text
    assert zh("device.confirm_intro", client=CLIENT_NAME) in text
