"""IAM user sign-in: start page, forced password change (not skippable, policy, reuse), expiry,
hard expiry, and the 'Remember this account' cookie."""

from __future__ import annotations

import re

import httpx
import pyotp

from http_steps import (
    USER_PASSWORD,
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    post_step,
    session_cookie_set,
    set_policy,
    sign_in_iam,
    sign_out,
    use_clock,
)
from support import CaptchaAnswers, csrf_of
from vestibule.runtime import Runtime
from vestibule.web.i18n import Translator

t = Translator("en")


async def test_start_page_sends_iam_users_to_the_account_form(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    page = await client.get("/")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "iam", "account": "ACME"})
    assert r.status_code == 303 and r.headers["location"] == "/acme/console"
    formatted = f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "iam", "account": formatted})
    assert r.status_code == 303 and r.headers["location"] == f"/{account_id}/console"
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "iam", "account": ""})
    assert r.status_code == 400 and error_of(r.text) == t("signin.account_required")
    # an unknown account gets the same form as a known one (no enumeration at this step)
    known = await client.get("/acme/console")
    unknown = await client.get("/nosuchalias/console")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("acme", "X") == unknown.text.replace("nosuchalias", "X")


async def test_sign_in_by_account_id_and_by_alias(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client, account_id)
    home = await client.get("/console")
    assert f"arn:aws:iam::{account_id}:user/alice" in home.text
    assert 'id="signed-in-as">alice<' in home.text
    await sign_out(client)
    await sign_in_iam(client, "acme")
    # user names are matched as IAM does (case-insensitively)
    await sign_out(client)
    await sign_in_iam(client, "acme", "ALICE")


async def test_forced_change_cannot_be_skipped(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice", reset_required=True)
    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
    assert not session_cookie_set(r), "no session cookie before the password is changed"
    flow_url = r.headers["location"]
    for path in ("/console", "/console/security", "/console/mfa/new"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/", path
    page = await client.get(flow_url)
    assert 'name="new_password"' in page.text and t("newpw.required") in page.text
    # signing in again just leads back to the change
    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert r.headers["location"].startswith("/signin?flow=") and not session_cookie_set(r)

    r = await post_step(client, flow_url, "new_password", new_password="second password",
                        confirm_password="other password")
    assert r.status_code == 400 and error_of(r.text) == t("password.mismatch")
    r = await post_step(client, flow_url, "new_password", new_password=USER_PASSWORD,
                        confirm_password=USER_PASSWORD)
    assert r.status_code == 400 and error_of(r.text) == t("password.reused"), "the same password changes nothing"
    assert not session_cookie_set(r)
    assert (await client.get("/console")).status_code == 303
    r = await post_step(client, flow_url, "new_password", new_password="second password",
                        confirm_password="second password")
    assert r.status_code == 303 and r.headers["location"] == "/console" and session_cookie_set(r)
    assert (await client.get("/console")).status_code == 200
    await sign_out(client)
    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert error_of(r.text) == t("signin.invalid_credentials")
    await sign_in_iam(client, "acme", "alice", "second password")


async def test_new_password_must_satisfy_policy_and_not_be_reused(client: httpx.AsyncClient,
                                                                  runtime: Runtime) -> None:
    await make_account(runtime)
    await set_policy(runtime, "acme", minimum_length=12, require_numbers=True, require_symbols=True,
                     require_uppercase=True, reuse_prevention=2)
    await make_user(runtime, "acme", "alice", password="Old-password-1", reset_required=True)
    r = await iam_password(client, "acme", "alice", "Old-password-1")
    flow_url = r.headers["location"]

    r = await post_step(client, flow_url, "new_password", new_password="short", confirm_password="short")
    assert r.status_code == 400
    message = error_of(r.text)
    for key in ("password.too_short", "password.needs_number", "password.needs_symbol", "password.needs_upper"):
        assert t(key) in message, key
    r = await post_step(client, flow_url, "new_password", new_password="long enough but plain",
                        confirm_password="long enough but plain")
    assert r.status_code == 400 and t("password.needs_number") in error_of(r.text)
    assert t("password.too_short") not in error_of(r.text)
    r = await post_step(client, flow_url, "new_password", new_password="Old-password-1",
                        confirm_password="Old-password-1")
    assert r.status_code == 400 and error_of(r.text) == t("password.reused")
    assert not session_cookie_set(r)
    r = await post_step(client, flow_url, "new_password", new_password="New-password-22",
                        confirm_password="New-password-22")
    assert r.status_code == 303 and r.headers["location"] == "/console"

    # reuse prevention remembers the last 2: changing back to the first one is refused from the console
    security = await client.get("/console/security")
    r = await client.post("/console/password", data={
        "csrf_token": csrf_of(security.text), "password": "New-password-22",
        "new_password": "Old-password-1", "confirm_password": "Old-password-1"})
    assert r.status_code == 400 and error_of(r.text) == t("password.reused")


async def test_expired_password_forces_a_change(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await set_policy(runtime, "acme", max_age_days=30)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    await sign_out(client)
    clock.advance(31 * 86400)
    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
    assert not session_cookie_set(r)
    flow_url = r.headers["location"]
    page = await client.get(flow_url)
    assert t("newpw.expired") in page.text
    assert (await client.get("/console")).status_code == 303
    r = await post_step(client, flow_url, "new_password", new_password="renewed password 3",
                        confirm_password="renewed password 3")
    assert r.status_code == 303 and r.headers["location"] == "/console"
    await sign_out(client)
    await sign_in_iam(client, password="renewed password 3")


async def test_hard_expiry_refuses_sign_in(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await set_policy(runtime, "acme", max_age_days=1, hard_expiry=True)
    await make_user(runtime, "acme", "alice")
    clock.advance(2 * 86400)
    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert r.status_code != 303 and not session_cookie_set(r)
    assert error_of(r.text) == t("password.hard_expired")
    assert (await client.get("/console")).status_code == 303
    # a wrong password still gets the ordinary answer (nothing learned about the expiry)
    r = await iam_password(client, "acme", "alice", "wrong password 9")
    assert error_of(r.text) == t("signin.invalid_credentials")


async def test_remember_account_cookie(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": USER_PASSWORD, "remember": "on"})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert any(h.startswith("vestibule_account=acme") for h in r.headers.get_list("set-cookie"))
    await sign_out(client)
    page = await client.get("/")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'value="acme"' in page.text, "the IAM form opens directly"
    assert 'href="/?root=1"' in page.text
    root = await client.get("/?root=1")
    assert 'name="user_type"' in root.text and 'name="username"' not in root.text
    # signing in without the box ticked forgets the account
    page = await client.get("/acme/console")
    assert 'id="remember" name="remember" type="checkbox" checked' in page.text
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": USER_PASSWORD})
    assert any(h.startswith("vestibule_account=;") for h in r.headers.get_list("set-cookie"))
    await sign_out(client)
    assert 'name="user_type"' in (await client.get("/")).text


async def test_failed_sign_in_does_not_remember_the_account(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": USER_PASSWORD, "remember": "on"})
    assert not any(h.startswith("vestibule_account=acme") for h in r.headers.get_list("set-cookie"))


async def test_iam_user_with_mfa_then_forced_change(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    security = await client.get("/console/security")
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text), "password": USER_PASSWORD})
    enrol = r.headers["location"]
    page = await client.get(enrol)
    match = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert match, "the enrolment page shows no secret"
    secret = match.group(1)
    totp = pyotp.TOTP(secret)
    code1 = totp.at(clock.now)
    clock.advance(30)
    r = await client.post(enrol, data={"csrf_token": csrf_of(page.text), "device_name": "alice-phone",
                                       "mfa_code": code1, "mfa_code_2": totp.at(clock.now)})
    assert r.status_code == 303
    await sign_out(client)
    async with runtime.deps.store.unit() as uow:
        from vestibule.services import accounts, iam_users

        account = await accounts.require(uow, "acme")
        user = await iam_users.require_user(uow, account, "alice")
        await iam_users.set_password(runtime.deps, uow, account, user, "admin set pw 1", True)

    clock.advance(60)
    async with browser(runtime, CaptchaAnswers()) as other:
        r = await iam_password(other, "acme", "alice", "admin set pw 1")
        flow_url = r.headers["location"]
        assert flow_url.startswith("/signin?flow=") and not session_cookie_set(r)
        r = await post_step(other, flow_url, "new_password", new_password="x new pw 1", confirm_password="x new pw 1")
        assert r.status_code == 400, "MFA comes before the password change"
        r = await post_step(other, flow_url, "mfa", mfa_code=totp.at(clock.now))
        assert r.status_code == 303 and r.headers["location"] == flow_url and not session_cookie_set(r)
        assert (await other.get("/console")).status_code == 303
        r = await post_step(other, flow_url, "new_password", new_password="x new pw 1", confirm_password="x new pw 1")
        assert r.status_code == 303 and r.headers["location"] == "/console"
        home = await other.get("/console")
        assert "Signed in with MFA</dt><dd>Yes" in home.text
