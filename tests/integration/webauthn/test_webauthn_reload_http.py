"""A reload or a second tab of a WebAuthn page keeps the first page's challenge (the red team's finding: every
GET saved a new challenge, so the first page's answer was refused): the console's MFA step, the profile's MFA
step and its passkey page. A spent or nearly expired challenge is replaced."""

from __future__ import annotations

import httpx

from http_steps import ROOT_PASSWORD, make_account, root_password, sign_in_root, sign_out, use_clock
from integration.profiles.test_profile_passkeys import _answer, _passkey_page, _profile_with_key, _sign_out
from integration.webauthn.test_console_webauthn_http import add_key
from profile_steps import profile_password
from support import csrf_of
from vestibule.core.webauthn import CHALLENGE_LIFETIME
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from webauthn_authenticator import SoftAuthenticator
from webauthn_steps import options_of


async def test_console_mfa_page_shown_twice_keeps_its_challenge(client: httpx.AsyncClient, runtime: Runtime,
                                                                mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    key = SoftAuthenticator()
    assert (await add_key(client, key, ROOT_PASSWORD)).status_code == 303
    await sign_out(client)
    flow_url, _ = await root_password(client)
    first = await client.get(flow_url)
    second = await client.get(flow_url)  # a reload, or the same page in a second tab
    assert options_of(second.text) == options_of(first.text)
    clock.advance(CHALLENGE_LIFETIME - 30)  # too little time left for a ceremony: a new challenge
    third = await client.get(flow_url)
    assert options_of(third.text) != options_of(first.text)
    fourth = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(fourth.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options_of(third.text))})
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text[:300]


async def test_console_first_page_answer_still_signs_in(client: httpx.AsyncClient, runtime: Runtime,
                                                        mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    key = SoftAuthenticator()
    assert (await add_key(client, key, ROOT_PASSWORD)).status_code == 303
    await sign_out(client)
    flow_url, _ = await root_password(client)
    first = await client.get(flow_url)
    await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(first.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options_of(first.text))})
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text[:300]


async def test_profile_mfa_and_passkey_pages_shown_twice_keep_their_challenge(client: httpx.AsyncClient,
                                                                              runtime: Runtime) -> None:
    _, key = await _profile_with_key(runtime, client, kind="passkey")
    await _sign_out(client)
    flow_url, _ = await profile_password(client)
    first = await client.get(flow_url)
    await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(first.text), "step": "webauthn",
                                          "webauthn_response": key.assertion(options_of(first.text))})
    assert r.status_code == 303, r.text[:300]
    await _sign_out(client)
    url, page = await _passkey_page(client)
    again = await client.get(url.replace("/profile/passkey/answer?", "/profile/passkey?"))
    assert options_of(again.text) == options_of(page.text)
    r = await _answer(client, url, page, key.assertion(options_of(page.text)))
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=signed_in", r.text[:300]
