"""Security keys and passkeys on the console's pages, driven over HTTP with a software authenticator: adding one
(password again, then the browser's answer), one list with the TOTP devices, the MFA step of sign-in for root
and IAM users (completed through the one completion: method password+webauthn, MFA used), a refused answer,
renaming, and the warning before the last factor is removed."""

from __future__ import annotations

import html
import json
import re

import httpx
import pyotp

from http_steps import (
    ROOT_PASSWORD,
    USER_PASSWORD,
    error_of,
    make_account,
    make_user,
    notice_of,
    root_password,
    sign_in_iam,
    sign_in_root,
    sign_out,
)
from support import csrf_of
from vestibule.core import totp
from vestibule.core.identifiers import mfa_arn
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent, MfaDevice
from vestibule.web.i18n import Translator
from webauthn_authenticator import SoftAuthenticator
from webauthn_steps import options_of, register_from

t = Translator("en")
zh = Translator("zh-TW")


async def add_key(client: httpx.AsyncClient, key: SoftAuthenticator, password: str, name: str = "Blue key",
                  kind: str = "security_key") -> httpx.Response:
    """Security credentials -> Add security key -> the password -> the browser's answer."""
    page = await client.get("/console/security")
    r = await client.post("/console/webauthn/new", data={"csrf_token": csrf_of(page.text), "kind": kind})
    assert r.status_code == 403 and 'id="reauth-form"' in r.text  # the password again first
    r = await client.post("/console/webauthn/new", data={"csrf_token": csrf_of(r.text), "kind": kind,
                                                         "password": password})
    return await register_from(client, r, "/console/webauthn/register", key, kind=kind, name=name, resident=False)


async def _events(runtime: Runtime, account_id: str, event: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        return [e for e in await uow.audit.for_account(account_id) if e.event == event]


async def test_root_adds_a_security_key_and_signs_in_with_it(client: httpx.AsyncClient, runtime: Runtime,
                                                             mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    key = SoftAuthenticator()
    r = await add_key(client, key, ROOT_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=webauthn.added"
    page = await client.get(r.headers["location"])
    assert notice_of(page.text) == t("notice.webauthn.added")
    row = re.search(rf'<tr class="webauthn-credential" data-credential="{key.id}">(.*?)</tr>', page.text, re.DOTALL)
    assert row and t("webauthn.type_security_key") in row.group(1) and "Blue key" in row.group(1)
    assert f"arn:aws:iam::{account_id}:u2f/root/Blue-key-" in row.group(1)
    assert t("mfa_devices.never_used") in row.group(1)
    assert 'id="recovery-codes' in page.text or "recovery" in page.text  # the first factor: codes shown once
    [registered] = await _events(runtime, account_id, "RegisterWebAuthnCredential")
    assert registered.result == "Success" and registered.detail["kind"] == "security_key"

    await sign_out(client)
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    page = await client.get(flow_url)
    assert t("webauthn.use_key") in page.text and 'id="totp-form"' not in page.text  # no TOTP device
    answer = key.assertion(options_of(page.text))
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "webauthn",
                                          "webauthn_response": answer})
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text
    logins = [e for e in await _events(runtime, account_id, "ConsoleLogin") if e.result == "Success"]
    assert logins[-1].method == "password+webauthn" and logins[-1].mfa_used
    page = await client.get("/console/security")
    assert t("mfa_devices.never_used") not in page.text.split('class="webauthn-credential"')[1].split("</tr>")[0]


async def test_a_refused_or_replayed_answer_does_not_sign_in(client: httpx.AsyncClient, runtime: Runtime,
                                                             mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    key = SoftAuthenticator()
    assert (await add_key(client, key, ROOT_PASSWORD)).status_code == 303
    await sign_out(client)
    flow_url, _ = await root_password(client)
    page = await client.get(flow_url)
    stranger = SoftAuthenticator()
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "webauthn",
                                          "webauthn_response": stranger.assertion(options_of(page.text))})
    assert r.status_code == 200 and "location" not in r.headers
    assert error_of(r.text) == t("webauthn.rejected")
    # the page shown after the failure carries a new challenge; the old one is spent
    old_options = options_of(page.text)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(old_options)})
    assert error_of(r.text) == t("webauthn.rejected")
    r = await client.post(flow_url, data={"csrf_token": csrf_of(r.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options_of(r.text))})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    failures = [e.detail["reason"] for e in await _events(runtime, account_id, "ConsoleLogin") if e.result == "Failure"]
    assert any(r.startswith("unknown WebAuthn credential") for r in failures)
    assert "wrong WebAuthn challenge" in failures


async def test_iam_user_with_both_factors_chooses_and_lists_them_in_one_list(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    serial, secret = mfa_arn(account_id, "phone"), totp.new_secret()
    async with runtime.deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=f"user:{user_id}", name="phone",
                                    serial=serial, secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=1.0, last_used_step=None, created_at=1.0))
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": USER_PASSWORD})
    flow_url = r.headers["location"]
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "mfa",
                                          "mfa_code": pyotp.TOTP(secret).now()})
    assert r.headers["location"] == "/console"
    key = SoftAuthenticator()
    assert (await add_key(client, key, USER_PASSWORD, name="Yubi 5", kind="passkey")).status_code == 303
    page = await client.get("/console/security")
    assert page.text.count('class="mfa-type"') == 2
    assert t("webauthn.type_totp") in page.text and t("webauthn.type_passkey") in page.text
    assert 'id="add-built-in"' in page.text and t("webauthn.add_built_in") in html.unescape(page.text)
    assert f"arn:aws:iam::{account_id}:u2f/user/alice/Yubi-5-" in page.text

    await sign_out(client)
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": USER_PASSWORD})
    flow_url = r.headers["location"]
    page = await client.get(flow_url, headers={"accept-language": "zh-TW"})
    assert zh("webauthn.use_key") in page.text and zh("webauthn.or_code") in page.text
    assert 'id="totp-form"' in page.text
    options = json.loads(options_of(page.text))
    assert options["userVerification"] == "required"  # a passkey: the user is verified
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options)})
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_rename_and_remove_with_the_last_factor_warning(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    key = SoftAuthenticator()
    assert (await add_key(client, key, USER_PASSWORD)).status_code == 303
    page = await client.get(f"/console/webauthn/key?id={key.id}")
    assert page.status_code == 200 and 'id="reauth-hint"' not in page.text  # confirmed a moment ago
    r = await client.post("/console/webauthn/rename", data={"csrf_token": csrf_of(page.text), "credential": key.id,
                                                           "key_name": "Desk key"})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=webauthn.renamed"
    [renamed] = await _events(runtime, account_id, "RenameWebAuthnCredential")
    assert renamed.detail["previous_name"] == "Blue key" and renamed.detail["name"] == "Desk key"
    assert (await client.get("/console/webauthn/key?id=nope")).status_code == 404

    page = await client.get("/console/security")
    csrf = csrf_of(page.text)
    r = await client.post("/console/webauthn/remove", data={"csrf_token": csrf, "credential": key.id})
    assert r.status_code == 200 and 'id="last-device-warning"' in r.text
    assert t("mfa_devices.last_text", name="Desk key") in html.unescape(r.text)
    r = await client.post("/console/webauthn/remove", data={"csrf_token": csrf, "credential": key.id,
                                                           "confirm_last": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=webauthn.removed"
    page = await client.get("/console/security")
    assert 'class="webauthn-credential"' not in page.text and 'id="no-mfa"' in page.text
    [removed] = [e for e in await _events(runtime, account_id, "DeactivateMFADevice") if e.method == "console"]
    assert removed.detail["name"] == "Desk key"
    # signing in again asks no MFA
    await sign_out(client)
    await sign_in_iam(client)
