"""Access portal sign-in of directory users: user name -> password -> new password (one-time password) ->
mailed code or MFA code; no enumeration, wrong portal, throttling, session lifetime and sign-out."""

from __future__ import annotations

import dataclasses
import re
import secrets

import httpx
import pyotp

from http_steps import error_of, make_account, use_clock
from support import csrf_of, last_code
from vestibule.core.flows.portal_signin import directory_user_ref
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.services.identity_center import directory, instances
from vestibule.services.identity_center.directory_profile import Email, UserProfile
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.store.models import MfaDevice, SsoInstance
from vestibule.web.i18n import Translator

t = Translator("en")
PASSWORD = "portal password 1"
EMAIL = "alice@example.com"


async def make_store(runtime: Runtime, settings: InstanceSettings | None = None) -> str:
    account_id = await make_account(runtime, alias=None)
    store_id = f"d-{secrets.token_hex(5)}"
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store_id,
            owner_account_id=account_id, name="portal", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=runtime.deps.clock(), settings=(settings or InstanceSettings(no_mfa_device="EMAIL_CODE")
                                                       ).to_json(), tags="[]"))
    return store_id


async def make_portal_user(runtime: Runtime, store_id: str, name: str = "alice", password: str | None = PASSWORD,
                           must_change: bool = False) -> str:
    hashed = runtime.deps.hasher.hash(password) if password else None
    async with runtime.deps.store.unit() as uow:
        user = await directory.create_user(uow, store_id, name, UserProfile(
            display_name="Alice Liddell", emails=(Email(value=EMAIL, primary=True),)), actor="test",
            now=runtime.deps.clock(), password_hash=hashed, password_must_change=must_change)
    return user.id


async def start(client: httpx.AsyncClient, store_id: str, username: str, remember: bool = False) -> httpx.Response:
    page = await client.get(f"/portal/{store_id}/start")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "username": username}
    if remember:
        data["remember"] = "on"
    return await client.post(f"/portal/{store_id}/start", data=data)


async def step(client: httpx.AsyncClient, flow_url: str, name: str, **fields: str) -> httpx.Response:
    page = await client.get(flow_url)
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": name, **fields})


async def password_step(client: httpx.AsyncClient, store_id: str, username: str,
                        password: str) -> tuple[str, httpx.Response]:
    r = await start(client, store_id, username)
    assert r.status_code == 303, r.text
    flow_url = r.headers["location"]
    assert flow_url.startswith(f"/portal/{store_id}/signin?flow=")
    return flow_url, await step(client, flow_url, "password", password=password)


def portal_cookie_set(r: httpx.Response) -> bool:
    return any(h.startswith("vestibule_portal=") and "Max-Age=0" not in h for h in r.headers.get_list("set-cookie"))


async def sign_in(client: httpx.AsyncClient, mailbox: object, store_id: str, username: str = "alice") -> None:
    flow_url, r = await password_step(client, store_id, username, PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))  # type: ignore[arg-type]
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)


async def test_sign_in_with_mailed_code_and_sign_out(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: object) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    assert (await client.get(f"/portal/{store_id}/")).headers["location"] == f"/portal/{store_id}/start"
    flow_url, r = await password_step(client, store_id, "ALICE", PASSWORD)  # user names match without case
    assert r.status_code == 303 and r.headers["location"] == flow_url and not portal_cookie_set(r)
    page = await client.get(flow_url)
    assert 'name="verification_code"' in page.text
    r = await step(client, flow_url, "email_code", verification_code="000000")
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code")
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))  # type: ignore[arg-type]
    assert r.status_code == 303 and portal_cookie_set(r)
    home = await client.get(f"/portal/{store_id}/")
    assert home.status_code == 200 and 'id="portal-user">Alice Liddell<' in home.text
    assert 'id="no-accounts"' in home.text
    # the portal session is no console session
    assert (await client.get("/console")).status_code == 303
    # sign out needs the CSRF token, ends the session at once and returns to the sign-in page
    r = await client.post(f"/portal/{store_id}/signout", data={})
    assert r.status_code == 403
    assert (await client.get(f"/portal/{store_id}/")).status_code == 200
    r = await client.post(f"/portal/{store_id}/signout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/start?signed_out=1"
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303


async def test_context_change_mode_asks_again_only_on_a_new_browser(client: httpx.AsyncClient, runtime: Runtime,
                                                                      mailbox: object) -> None:
    store_id = await make_store(runtime, InstanceSettings(mfa_prompt="CONTEXT_CHANGE", no_mfa_device="EMAIL_CODE"))
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)  # a new browser: the mailed code is asked
    home = await client.get(f"/portal/{store_id}/")
    r = await client.post(f"/portal/{store_id}/signout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303
    # the same browser again: the context is unchanged, the password is enough
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)
    assert (await client.get(f"/portal/{store_id}/")).status_code == 200
    # another browser (no cookies): asked again
    client.cookies.clear()
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == flow_url and not portal_cookie_set(r)
    assert 'name="verification_code"' in (await client.get(flow_url)).text


async def test_every_sign_in_mode_asks_on_a_known_browser_too(client: httpx.AsyncClient, runtime: Runtime,
                                                              mailbox: object) -> None:
    store_id = await make_store(runtime, InstanceSettings(mfa_prompt="EVERY_SIGN_IN", no_mfa_device="EMAIL_CODE"))
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    home = await client.get(f"/portal/{store_id}/")
    signed_out = await client.post(f"/portal/{store_id}/signout", data={"csrf_token": csrf_of(home.text)})
    assert signed_out.status_code == 303
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == flow_url and not portal_cookie_set(r)


async def test_unknown_user_and_wrong_password_look_alike(client: httpx.AsyncClient, runtime: Runtime) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    known = await start(client, store_id, "alice")
    unknown = await start(client, store_id, "mallory")
    assert known.status_code == unknown.status_code == 303
    known_page = await client.get(known.headers["location"])
    unknown_page = await client.get(unknown.headers["location"])
    assert known_page.text.replace("alice", "X").replace(known.headers["location"], "F") == \
        unknown_page.text.replace("mallory", "X").replace(unknown.headers["location"], "F")
    _flow, wrong = await password_step(client, store_id, "alice", "not the password")
    _flow, nobody = await password_step(client, store_id, "mallory", PASSWORD)
    assert wrong.status_code == nobody.status_code == 400
    assert error_of(wrong.text) == error_of(nobody.text) == t("signin.invalid_credentials")
    assert not portal_cookie_set(wrong) and not portal_cookie_set(nobody)


async def test_wrong_portal_names_no_portal(client: httpx.AsyncClient, runtime: Runtime) -> None:
    store_id = await make_store(runtime)
    pages = [await client.get(f"/portal/{name}/start") for name in ("d-0000000000", "nosuchportal", "x" * 70)]
    assert {p.status_code for p in pages} == {404}
    same = [re.sub(r"<code>[0-9a-f-]{36}</code>", "<code>ID</code>", p.text) for p in pages]  # each its request ID
    assert same[0].replace("d-0000000000", "N") == same[1].replace("nosuchportal", "N")
    assert store_id not in pages[0].text and t("portal.not_found_title") in pages[0].text
    r = await client.post("/portal/d-0000000000/start", data={"username": "alice"})
    assert r.status_code in (403, 404)


async def test_one_time_password_must_be_changed_first(client: httpx.AsyncClient, runtime: Runtime,
                                                       mailbox: object) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id, must_change=True)
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.headers["location"] == flow_url and not portal_cookie_set(r)
    assert 'name="new_password"' in (await client.get(flow_url)).text
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303
    r = await step(client, flow_url, "new_password", new_password="a new password", confirm_password="other")
    assert r.status_code == 400 and error_of(r.text) == t("password.mismatch")
    r = await step(client, flow_url, "new_password", new_password=PASSWORD, confirm_password=PASSWORD)
    assert r.status_code == 400 and error_of(r.text) == t("password.reused")
    r = await step(client, flow_url, "new_password", new_password="a new password",
                   confirm_password="a new password")
    assert r.status_code == 303 and r.headers["location"] == flow_url
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))  # type: ignore[arg-type]
    assert r.status_code == 303 and portal_cookie_set(r)
    # signed in, the start page leads home; elsewhere the one-time password no longer works, the new one does
    assert (await client.get(f"/portal/{store_id}/start")).headers["location"] == f"/portal/{store_id}/"
    client.cookies.delete("vestibule_portal")
    _flow, r = await password_step(client, store_id, "alice", PASSWORD)
    assert error_of(r.text) == t("signin.invalid_credentials")
    flow_url, r = await password_step(client, store_id, "alice", "a new password")
    assert r.headers["location"] == flow_url


async def test_mfa_code_when_a_device_is_registered(client: httpx.AsyncClient, runtime: Runtime) -> None:
    store_id = await make_store(runtime)
    user_id = await make_portal_user(runtime, store_id)
    secret = pyotp.random_base32()
    key = directory_user_ref(user_id).key
    async with runtime.deps.store.unit() as uow:
        instance = await instances.by_identity_store_id(uow, store_id)
        assert instance is not None
        serial = f"arn:aws:iam::{instance.owner_account_id}:mfa/portal-{user_id[:8]}"
        await uow.mfa.add(MfaDevice(serial=serial, principal_key=key, account_id=instance.owner_account_id,
                                    name="phone", secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=runtime.deps.clock(), created_at=runtime.deps.clock()))
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.headers["location"] == flow_url and 'name="mfa_code"' in (await client.get(flow_url)).text
    r = await step(client, flow_url, "mfa", mfa_code="000000")
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code")
    r = await step(client, flow_url, "mfa", mfa_code=pyotp.TOTP(secret).now())
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)


async def test_remove_a_device_in_the_portal(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    store_id = await make_store(runtime)
    user_id = await make_portal_user(runtime, store_id)
    secret = pyotp.random_base32()
    key = directory_user_ref(user_id).key
    async with runtime.deps.store.unit() as uow:
        instance = await instances.by_identity_store_id(uow, store_id)
        assert instance is not None
        serial = f"arn:aws:iam::{instance.owner_account_id}:mfa/portal-{user_id[:8]}"
        await uow.mfa.add(MfaDevice(serial=serial, principal_key=key, account_id=instance.owner_account_id,
                                    name="phone", secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=clock(), created_at=clock()))
        other = f"arn:aws:iam::{instance.owner_account_id}:mfa/someone-else"
        await uow.mfa.add(MfaDevice(serial=other, principal_key="root:" + instance.owner_account_id,
                                    account_id=instance.owner_account_id, name="root", enabled_at=clock(),
                                    secret_sealed=mfa.seal_secret(runtime.deps, other, secret), created_at=clock()))
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    r = await step(client, flow_url, "mfa", mfa_code=pyotp.TOTP(secret).now())
    assert r.status_code == 303 and portal_cookie_set(r)
    page = await client.get(f"/portal/{store_id}/mfa")
    assert f'name="serial" value="{serial}"' in page.text
    # without the CSRF token, or for a device that is not the user's: nothing is removed
    assert (await client.post(f"/portal/{store_id}/mfa/remove", data={"serial": serial})).status_code == 403
    r = await client.post(f"/portal/{store_id}/mfa/remove", data={"csrf_token": csrf_of(page.text), "serial": other})
    assert r.status_code == 404
    r = await client.post(f"/portal/{store_id}/mfa/remove", data={"csrf_token": csrf_of(page.text), "serial": serial})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?notice=removed"
    page = await client.get(r.headers["location"])
    assert 'id="no-mfa-devices"' in page.text and t("notice.mfa.removed") in page.text
    async with runtime.deps.store.unit() as uow:
        assert await uow.mfa.by_serial(serial) is None and await uow.mfa.by_serial(other) is not None


async def test_an_old_portal_session_cannot_remove_a_device(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = use_clock(runtime)
    store_id = await make_store(runtime)
    user_id = await make_portal_user(runtime, store_id)
    secret = pyotp.random_base32()
    async with runtime.deps.store.unit() as uow:
        instance = await instances.by_identity_store_id(uow, store_id)
        assert instance is not None
        serial = f"arn:aws:iam::{instance.owner_account_id}:mfa/portal-{user_id[:8]}"
        await uow.mfa.add(MfaDevice(serial=serial, principal_key=directory_user_ref(user_id).key,
                                    account_id=instance.owner_account_id, name="phone", enabled_at=clock(),
                                    secret_sealed=mfa.seal_secret(runtime.deps, serial, secret), created_at=clock()))
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    r = await step(client, flow_url, "mfa", mfa_code=pyotp.TOTP(secret).now())
    clock.advance(6 * 60)
    page = await client.get(f"/portal/{store_id}/mfa")
    assert 'name="serial"' not in page.text and 'id="mfa-needs-signin"' in page.text
    r = await client.post(f"/portal/{store_id}/mfa/remove", data={"csrf_token": csrf_of(page.text), "serial": serial})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa"
    async with runtime.deps.store.unit() as uow:
        assert await uow.mfa.by_serial(serial) is not None


async def test_guessing_is_throttled(client: httpx.AsyncClient, runtime: Runtime) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    statuses = []
    for _ in range(12):
        _flow, r = await password_step(client, store_id, "alice", "wrong password")
        statuses.append(r.status_code)
        if r.status_code == 429 or 'name="captcha"' in r.text:
            break
    assert statuses[-1] == 429 or 'name="captcha"' in r.text, statuses
    # the right password does not get through without the CAPTCHA or the wait
    _flow, r = await password_step(client, store_id, "alice", PASSWORD)
    assert not portal_cookie_set(r) and (r.status_code == 429 or 'name="captcha"' in r.text)
    assert error_of(r.text) in (t("captcha.required"), t("signin.invalid_credentials")) or r.status_code == 429


async def test_portal_session_lasts_the_configured_duration(client: httpx.AsyncClient, runtime: Runtime,
                                                            mailbox: object) -> None:
    clock = use_clock(runtime)
    store_id = await make_store(runtime, dataclasses.replace(InstanceSettings(no_mfa_device="EMAIL_CODE"),
                                                             portal_session_seconds=3600))
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    clock.advance(3500)
    assert (await client.get(f"/portal/{store_id}/")).status_code == 200
    clock.advance(200)
    r = await client.get(f"/portal/{store_id}/")
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/start"


async def test_register_totp_in_the_portal_then_sign_in_with_it(client: httpx.AsyncClient, runtime: Runtime,
                                                                mailbox: object) -> None:
    clock = use_clock(runtime)
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    page = await client.get(f"/portal/{store_id}/mfa")
    assert 'id="no-mfa-devices"' in page.text and 'id="register-mfa"' in page.text
    r = await client.post(f"/portal/{store_id}/mfa", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/portal/{store_id}/mfa?flow=")
    enrol_url = r.headers["location"]
    page = await client.get(enrol_url)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    now = clock()
    r = await client.post(enrol_url, data={"csrf_token": csrf_of(page.text), "device_name": "phone",
                                           "mfa_code": totp.at(now - 30), "mfa_code_2": totp.at(now)})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?notice=added", r.text
    page = await client.get(f"/portal/{store_id}/mfa")
    assert 'id="mfa-devices"' in page.text
    home = await client.get(f"/portal/{store_id}/")
    await client.post(f"/portal/{store_id}/signout", data={"csrf_token": csrf_of(home.text)})
    clock.advance(60)
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert 'name="mfa_code"' in (await client.get(flow_url)).text, "a registered device replaces the mailed code"
    r = await step(client, flow_url, "mfa", mfa_code=totp.at(clock()))
    assert r.status_code == 303 and portal_cookie_set(r)
    # an old session cannot register a device without signing in again
    clock.advance(6 * 60)
    page = await client.get(f"/portal/{store_id}/mfa")
    assert 'id="mfa-needs-signin"' in page.text
    home = await client.get(f"/portal/{store_id}/")
    r = await client.post(f"/portal/{store_id}/mfa", data={"csrf_token": csrf_of(home.text)})
    assert r.headers["location"] == f"/portal/{store_id}/mfa"


async def test_a_required_device_is_registered_before_anything_else(client: httpx.AsyncClient, runtime: Runtime,
                                                                     mailbox: object) -> None:
    store_id = await make_store(runtime, InstanceSettings())  # the default: REQUIRE_REGISTRATION
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    for r in (await client.get(f"/portal/{store_id}/"),
              await client.post(f"/portal/{store_id}/credentials", data={"csrf_token": "x"}),
              await client.post(f"/portal/{store_id}/console", data={"csrf_token": "x"})):
        assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?required=1"
    page = await client.get(f"/portal/{store_id}/mfa?required=1")
    assert 'id="mfa-required"' in page.text and 'id="register-mfa"' in page.text


async def test_a_blocked_user_without_a_device_does_not_sign_in(client: httpx.AsyncClient,
                                                                runtime: Runtime) -> None:
    store_id = await make_store(runtime, InstanceSettings(no_mfa_device="BLOCK"))
    await make_portal_user(runtime, store_id)
    _flow, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.status_code == 400 and error_of(r.text) == t("portal.mfa_blocked") and not portal_cookie_set(r)
