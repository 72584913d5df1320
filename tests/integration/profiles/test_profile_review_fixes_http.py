"""The red team's findings on the personal profile's sign-in, each fixed: the trusted browser's cookie lives as
long as its row; the MFA and passkey pages keep their pending challenge on a reload; a passkey flow opened at
the password page's address goes to the passkey page."""

from __future__ import annotations

import httpx
import pytest

from http_steps import error_of, make_account
from integration.profiles.test_profile_signin import TRUST_COOKIE, UA, _trusted
from profile_steps import (
    PROFILE_PASSWORD,
    add_profile_totp,
    make_profile,
    open_profile_session,
    profile_password,
    step,
    totp_now,
)
from support import csrf_of
from vestibule.core import totp
from vestibule.core.profile_trust import TRUST_LIFETIME
from vestibule.errors import LimitExceeded
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.services.mfa import MAX_DEVICES_PER_PRINCIPAL
from vestibule.store.models import ProfileTrustedBrowser, WebAuthnCredential


async def test_the_trusted_browser_cookie_lasts_as_long_as_its_row(client: httpx.AsyncClient,
                                                                   runtime: Runtime) -> None:
    secret = await add_profile_totp(runtime, await make_profile(runtime))
    client.headers.update(UA)
    flow_url, _ = await profile_password(client, trusted_device="on")
    r = await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, secret))
    assert r.status_code == 303
    [header] = [h for h in r.headers.get_list("set-cookie") if h.startswith(f"{TRUST_COOKIE}=")]
    row: ProfileTrustedBrowser = (await _trusted(runtime))[0]
    assert f"Max-Age={TRUST_LIFETIME}" in header, header
    assert round(row.expires_at - row.created_at) == TRUST_LIFETIME == 90 * 86400


async def _webauthn_keys(runtime: Runtime, principal_key: str, count: int) -> None:
    now = runtime.deps.clock()
    async with runtime.deps.store.unit() as uow:
        for n in range(count):
            await uow.webauthn.add(WebAuthnCredential(
                principal_key=principal_key, account_id=None, credential_id=f"key{n}{principal_key[-6:]}",
                public_key=b"\x00", sign_count=0, transports="usb", aaguid="", discoverable=False,
                kind="security_key", user_handle="aGFuZGxl", name=f"key {n}", serial=None, created_at=now,
                last_used_at=None))


async def _try_totp(client: httpx.AsyncClient, runtime: Runtime) -> httpx.Response:
    page = await client.get("/profile/security")
    started = await client.post("/profile/security/mfa/new", data={"csrf_token": csrf_of(page.text),
                                                                  "password": PROFILE_PASSWORD})
    if started.status_code != 303:
        return started
    enrol = await client.get(started.headers["location"])
    secret = enrol.text.split('data-secret="')[1].split('"')[0]
    now_step = totp.step_of(runtime.deps.clock())
    return await client.post(started.headers["location"], data={
        "csrf_token": csrf_of(enrol.text), "device_name": "phone", "mfa_code": totp.code_at(secret, now_step - 1),
        "mfa_code_2": totp.code_at(secret, now_step)})


async def test_security_keys_count_towards_the_eight_factors_at_totp_enrolment(client: httpx.AsyncClient,
                                                                               runtime: Runtime) -> None:
    profile_id = await make_profile(runtime)
    await open_profile_session(runtime, client, profile_id)
    key = f"profile:{profile_id}"
    await _webauthn_keys(runtime, key, MAX_DEVICES_PER_PRINCIPAL)
    r = await _try_totp(client, runtime)
    assert r.status_code == 400 and "maximum of 8 MFA devices" in error_of(r.text), r.text[:300]
    async with runtime.deps.store.unit() as uow:
        assert await uow.mfa.enabled_for(key) == []
        first = await uow.webauthn.by_credential_id(f"key0{key[-6:]}")
        assert first is not None
        await uow.webauthn.delete(first)
    r = await _try_totp(client, runtime)  # seven keys and this device: eight factors
    assert r.status_code == 303 and r.headers["location"] == "/profile/security?notice=mfa_added", r.text[:300]


async def test_the_console_and_the_iam_api_count_them_too(runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    key = f"root:{account_id}"
    await _webauthn_keys(runtime, key, MAX_DEVICES_PER_PRINCIPAL)
    async with runtime.deps.store.unit() as uow:
        with pytest.raises(LimitExceeded):
            await mfa.ensure_room_for_device(uow, key)


async def test_a_passkey_flow_at_the_password_address_goes_to_the_passkey_page(client: httpx.AsyncClient,
                                                                               runtime: Runtime) -> None:
    await make_profile(runtime)
    start = await client.get("/profile")
    r = await client.post("/profile/passkey", data={"csrf_token": csrf_of(start.text)})
    passkey_url = r.headers["location"]
    flow_id = passkey_url.split("flow=")[1]
    r = await client.get(f"/profile/signin?flow={flow_id}")
    assert r.status_code == 303 and r.headers["location"] == passkey_url, r.text[:300]
    r = await client.post(f"/profile/signin?flow={flow_id}", data={
        "csrf_token": csrf_of(start.text), "step": "password", "password": PROFILE_PASSWORD})
    assert r.status_code == 400 and 'name="password"' not in r.text, r.text[:300]  # no password in this flow
