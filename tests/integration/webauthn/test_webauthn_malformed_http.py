"""Deeply nested JSON in a WebAuthn answer (the red team's finding: a RecursionError gave a 500): refused like any
malformed answer, audited, at the console's MFA step and registration and on the profile's passkey pages."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from http_steps import ROOT_PASSWORD, error_of, make_account, root_password, sign_in_root, sign_out
from integration.profiles.test_profile_passkeys import (
    _answer,
    _passkey_page,
    _profile_with_key,
    _sign_out,
)
from integration.webauthn.test_console_webauthn_http import _events, add_key
from support import csrf_of
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator
from webauthn_authenticator import SoftAuthenticator

t = Translator("en")
DEEP = "[" * 3000


def _deep_client_data() -> str:
    """A well-formed credential whose clientDataJSON is 3000 nested arrays."""
    data = base64.urlsafe_b64encode(b"[" * 3000).rstrip(b"=").decode()
    return json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "clientExtensionResults": {},
                       "response": {"clientDataJSON": data, "authenticatorData": "AAAA", "signature": "AAAA",
                                    "attestationObject": "AAAA"}})


@pytest.mark.parametrize("answer", [DEEP, _deep_client_data()], ids=["outer", "client_data"])
async def test_console_mfa_step_and_registration_refuse_deep_json(client: httpx.AsyncClient, runtime: Runtime,
                                                                  mailbox: DevMailbox, answer: str) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    key = SoftAuthenticator()
    assert (await add_key(client, key, ROOT_PASSWORD)).status_code == 303
    page = await client.get("/console/security")
    r = await client.post("/console/webauthn/new", data={"csrf_token": csrf_of(page.text), "kind": "security_key",
                                                         "password": ROOT_PASSWORD})
    flow = r.text.split('name="flow" value="')[1].split('"')[0]
    r = await client.post("/console/webauthn/register", data={
        "csrf_token": csrf_of(r.text), "flow": flow, "kind": "security_key", "key_name": "Deep",
        "webauthn_response": answer})
    assert r.status_code < 500 and error_of(r.text) == t("webauthn.rejected"), r.text[:300]
    registered = await _events(runtime, account_id, "RegisterWebAuthnCredential")
    assert registered[-1].result == "Failure" and "registration refused" in registered[-1].detail["reason"]

    await sign_out(client)
    flow_url, _ = await root_password(client)
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "webauthn",
                                          "webauthn_response": answer})
    assert r.status_code == 200 and error_of(r.text) == t("webauthn.rejected")
    failures = [e.detail["reason"] for e in await _events(runtime, account_id, "ConsoleLogin") if e.result == "Failure"]
    assert failures[-1] == "malformed WebAuthn response"


@pytest.mark.parametrize("answer", [DEEP, _deep_client_data()], ids=["outer", "client_data"])
async def test_profile_passkey_pages_refuse_deep_json(client: httpx.AsyncClient, runtime: Runtime,
                                                      answer: str) -> None:
    await _profile_with_key(runtime, client, kind="passkey")
    page = await client.get("/profile/security")
    r = await client.post("/profile/security/passkey/new", data={"csrf_token": csrf_of(page.text),
                                                                "kind": "passkey"})
    flow = r.text.split('name="flow" value="')[1].split('"')[0]
    r = await client.post("/profile/security/passkey/register", data={
        "csrf_token": csrf_of(r.text), "flow": flow, "kind": "passkey", "key_name": "Deep",
        "webauthn_response": answer})
    assert 400 <= r.status_code < 500, r.text[:300]
    await _sign_out(client)
    url, page = await _passkey_page(client)
    r = await _answer(client, url, page, answer)
    assert 400 <= r.status_code < 500 and error_of(r.text) == t("profile_webauthn.passkey_refused")
