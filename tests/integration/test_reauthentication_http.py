"""A signed-in session must type its password again before it adds or removes a credential (an MFA device, an
access key, the password): a hijacked session cookie alone cannot enrol its own device. A wrong password is
refused, audited and counted on the same counters as sign-in (the CAPTCHA and the delays follow); a confirmed
password lasts five minutes, in the browser that typed it only."""

from __future__ import annotations

import httpx
import pytest

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    USER_PASSWORD,
    browser,
    error_of,
    make_account,
    make_user,
    sign_in_iam,
    sign_in_root,
    start_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of
from vestibule.core import totp
from vestibule.core.identifiers import mfa_arn
from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts, iam_users, mfa
from vestibule.services.mail import DevMailbox
from vestibule.store.models import MfaDevice
from vestibule.web.i18n import Translator

t = Translator("en")


async def _signed_in(kind: str, client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> tuple[str, str]:
    """Sign `kind` (root or iam) in; returns (principal key, password)."""
    account_id = await make_account(runtime)
    if kind == "root":
        await sign_in_root(client, mailbox)
        return f"root:{account_id}", ROOT_PASSWORD
    user_id = await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    return f"user:{user_id}", USER_PASSWORD


async def _credentials(runtime: Runtime, principal_key: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(MFA device serials, (access key ID, status)) of the principal, read from the database."""
    async with runtime.deps.store.unit() as uow:
        devices = [d.serial for d in await uow.mfa.enabled_for(principal_key)]
        keys = [(k.id, k.status) for k in await uow.access_keys.for_principal(principal_key)]
    return devices, keys


async def _given_device_and_key(runtime: Runtime, principal_key: str) -> tuple[str, str]:
    """A device and an access key the administrator gave the principal (not through the console)."""
    account_id = principal_key.split(":")[1] if principal_key.startswith("root:") else None
    async with runtime.deps.store.unit() as uow:
        if account_id is None:
            user = await uow.users.get(principal_key.split(":")[1])
            assert user is not None
            account_id = user.account_id
        serial = mfa_arn(account_id, "given")
        now = runtime.deps.clock()
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=principal_key, name="given", serial=serial,
                                    secret_sealed=mfa.seal_secret(runtime.deps, serial, totp.new_secret()),
                                    enabled_at=now, last_used_step=None, created_at=now))
        key = await access_keys.create(runtime.deps, uow, account_id, principal_key)
    return serial, key.access_key_id


def _is_prompt(r: httpx.Response, action: str) -> bool:
    return (f'<form method="post" action="{action}" class="card" id="reauth-form">' in r.text
            and 'name="password" type="password"' in r.text)


@pytest.mark.parametrize("kind", ["root", "iam"])
async def test_credential_changes_without_a_recent_password_are_asked_for_it(
        kind: str, client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    principal_key, _ = await _signed_in(kind, client, runtime, mailbox)
    serial, key_id = await _given_device_and_key(runtime, principal_key)
    before = await _credentials(runtime, principal_key)
    csrf = csrf_of((await client.get("/console/security")).text)
    asks = {
        "/console/mfa/new": {},
        "/console/mfa/remove": {"serial": serial},
        "/console/access-keys/new": {},
        "/console/access-keys/update": {"access_key_id": key_id, "action": "deactivate"},
    }
    for action, fields in asks.items():
        r = await client.post(action, data={"csrf_token": csrf, **fields})
        assert r.status_code == 403, f"{action}: {r.status_code}"
        assert _is_prompt(r, action), action
        for name, value in fields.items():  # the prompt posts the same change again, with the password
            assert f'name="{name}" value="{value}"' in r.text, (action, name)
    assert await _credentials(runtime, principal_key) == before, "a credential changed without the password"


async def test_the_prompt_carries_the_change_through(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: DevMailbox) -> None:
    principal_key, password = await _signed_in("root", client, runtime, mailbox)
    serial, key_id = await _given_device_and_key(runtime, principal_key)
    csrf = csrf_of((await client.get("/console/security")).text)
    prompt = await client.post("/console/mfa/remove", data={"csrf_token": csrf, "serial": serial})
    assert prompt.status_code == 403
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf_of(prompt.text), "serial": serial,
                                                       "password": password})
    assert 'id="last-device-warning"' in r.text, "the last device: a warning first"
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf_of(r.text), "serial": serial,
                                                       "confirm_last": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.removed"
    devices, _ = await _credentials(runtime, principal_key)
    assert serial not in devices
    # confirmed a moment ago: the next change is not asked again
    r = await client.post("/console/access-keys/update", data={"csrf_token": csrf, "access_key_id": key_id,
                                                               "action": "deactivate"})
    assert r.status_code == 303
    assert (await _credentials(runtime, principal_key))[1] == [(key_id, "Inactive")]
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, principal_key.split(":")[1])
        events = [(e.event, e.result) for e in await uow.audit.for_account(account.id)]
    assert ("ConsoleReauthentication", "Success") in events


async def test_a_confirmed_password_lasts_five_minutes(client: httpx.AsyncClient, runtime: Runtime,
                                                       mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await _signed_in("root", client, runtime, mailbox)
    page = await client.get("/console/confirm")
    assert page.status_code == 200 and _is_prompt(page, "/console/confirm")
    r = await client.post("/console/confirm", data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=reauth.confirmed"
    csrf = csrf_of(page.text)
    clock.advance(4 * 60)
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/mfa/new?flow=")
    clock.advance(61)
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf})
    assert r.status_code == 403 and _is_prompt(r, "/console/mfa/new")


async def test_signing_in_is_not_a_reauthentication(client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    """Right after the password was typed at sign-in, a credential change is still asked for it."""
    await _signed_in("root", client, runtime, mailbox)
    r = await client.post("/console/access-keys/new", data={"csrf_token": csrf_of((await client.get("/console")).text)})
    assert r.status_code == 403


async def test_a_hijacked_session_cookie_cannot_add_its_own_device(client: httpx.AsyncClient, runtime: Runtime,
                                                                    mailbox: DevMailbox) -> None:
    """The attacker holds the victim's session cookie in another browser. Even while the victim has just
    confirmed the password in their own browser, the attacker is asked; wrong guesses are refused, audited and
    counted like sign-in guesses: from the third a CAPTCHA is required, and it shows at sign-in too."""
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    session_cookie = next(v for k, v in client.cookies.items() if k == "vestibule_session")
    page = await client.get("/console/confirm")
    r = await client.post("/console/confirm", data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
    assert r.status_code == 303, "the victim confirmed the password in their browser"

    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.66") as attacker:
        attacker.cookies.set("vestibule_session", session_cookie)
        security = await attacker.get("/console/security")
        assert security.status_code == 200, "the stolen cookie is a live session"
        csrf = csrf_of(security.text)
        r = await attacker.post("/console/mfa/new", data={"csrf_token": csrf})
        assert r.status_code == 403 and _is_prompt(r, "/console/mfa/new")
        for guess in ("password1", "letmein123", "owner password"):
            r = await attacker.post("/console/mfa/new", data={"csrf_token": csrf, "password": guess})
            assert r.status_code == 400 and error_of(r.text) == t("reauth.wrong_password"), guess
            assert _is_prompt(r, "/console/mfa/new")
        r = await attacker.post("/console/mfa/new", data={"csrf_token": csrf, "password": "fourth guess"})
        assert r.status_code == 400 and error_of(r.text) == t("captcha.required")
        assert 'name="captcha"' in r.text
        # the root user's own sign-in counter holds those guesses: sign-in asks for a CAPTCHA too
        async with browser(runtime, CaptchaAnswers(), ip="192.0.2.44") as elsewhere:
            flow_url = await start_root(elsewhere, ROOT_EMAIL)
            assert 'name="captcha"' in (await elsewhere.get(flow_url)).text

    devices, _ = await _credentials(runtime, f"root:{account_id}")
    assert devices == []
    async with runtime.deps.store.unit() as uow:
        events = [e for e in await uow.audit.for_account(account_id) if e.event == "ConsoleReauthentication"]
    failures = [e for e in events if e.result == "Failure"]
    assert len(failures) == 3
    assert {e.client_ip for e in failures} == {"198.51.100.66"}
    assert all(e.detail.get("action") == "EnableMFADevice" for e in failures)
    assert ROOT_PASSWORD not in str([e.detail for e in events])


async def test_the_password_change_counts_wrong_current_passwords_like_sign_in(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    csrf = csrf_of((await client.get("/console/security")).text)
    for n in range(3):
        r = await client.post("/console/password", data={"csrf_token": csrf, "password": f"wrong {n}",
                                                         "new_password": "next password 1",
                                                         "confirm_password": "next password 1"})
        assert r.status_code == 400, n
    security = await client.get("/console/security")
    assert 'name="captcha"' in security.text, "the change-password form asks for the CAPTCHA now"
    async with browser(runtime, CaptchaAnswers(), ip="192.0.2.45") as elsewhere:
        page = await elsewhere.get("/acme/console")
        r = await elsewhere.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                        "password": USER_PASSWORD})
        assert r.status_code == 200 and error_of(r.text) == t("captcha.required"), \
            "the user's sign-in counter did not hold the wrong current passwords"
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, "acme")
        user = await iam_users.require_user(uow, account, "alice")
        assert runtime.deps.hasher.verify(user.password_hash, USER_PASSWORD)
