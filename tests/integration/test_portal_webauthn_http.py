"""Security keys and passkeys of access portal (Identity Center directory) users, driven over HTTP with a software
authenticator: registered on the portal's MFA devices page (one list with the TOTP devices), used at the portal
sign-in's MFA step, refused when the challenge is wrong or spent or the key is another user's, renamed, removed with
the password again and the warning before the last factor; and the breached-password check when a portal user sets
a password."""

from __future__ import annotations

import httpx

from http_steps import error_of, notice_of
from integration.test_portal_password_http import link_of
from integration.test_portal_signin_http import (
    EMAIL,
    PASSWORD,
    make_portal_user,
    make_store,
    password_step,
    portal_cookie_set,
    sign_in,
    step,
)
from support import csrf_of, deliver_mail, last_code
from vestibule.core.flows.portal_signin import directory_user_ref
from vestibule.core.webauthn import CredentialKind, b64url
from vestibule.runtime import Runtime
from vestibule.services import webauthn
from vestibule.services.context import Client
from vestibule.services.identity_center import directory, instances, portal_users
from vestibule.services.identity_center.directory_profile import Email, UserProfile
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent
from vestibule.web.i18n import Translator
from webauthn_authenticator import SoftAuthenticator
from webauthn_steps import field_of, options_of, register_from

t = Translator("en")
zh = Translator("zh-TW")


async def add_key(client: httpx.AsyncClient, store_id: str, key: SoftAuthenticator, name: str = "Blue key",
                  kind: str = "security_key") -> httpx.Response:
    """MFA devices -> Add security key -> the browser's answer (a sign-in in the last 5 minutes, as for TOTP)."""
    page = await client.get(f"/portal/{store_id}/mfa")
    assert page.status_code == 200 and 'id="add-security-key"' in page.text and 'id="add-passkey"' in page.text
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/new", data={"csrf_token": csrf_of(page.text),
                                                                        "kind": kind})
    return await register_from(client, r, f"/portal/{store_id}/mfa/webauthn/register", key, kind=kind, name=name,
                               resident=kind == "passkey")


async def _account(runtime: Runtime, store_id: str) -> str:
    async with runtime.deps.store.unit() as uow:
        instance = await instances.by_identity_store_id(uow, store_id)
    assert instance is not None
    return instance.owner_account_id


async def _events(runtime: Runtime, account_id: str, event: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        return [e for e in await uow.audit.for_account(account_id) if e.event == event]


async def _sign_out(client: httpx.AsyncClient, store_id: str) -> None:
    page = await client.get(f"/portal/{store_id}/mfa")
    r = await client.post(f"/portal/{store_id}/signout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303


async def _to_mfa_step(client: httpx.AsyncClient, store_id: str, username: str = "alice") -> tuple[str, str]:
    """The password, then the MFA page offering the key: its flow URL and the page."""
    flow_url, r = await password_step(client, store_id, username, PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    page = await client.get(flow_url)
    assert page.status_code == 200 and 'data-webauthn="get"' in page.text
    assert 'name="verification_code"' not in page.text
    return flow_url, page.text


async def _answer(client: httpx.AsyncClient, flow_url: str, page: str, response: str) -> httpx.Response:
    return await client.post(flow_url, data={"csrf_token": csrf_of(page), "step": "webauthn",
                                             "webauthn_response": response})


async def test_register_a_key_and_sign_in_with_it(client: httpx.AsyncClient, runtime: Runtime,
                                                  mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime)
    user_id = await make_portal_user(runtime, store_id)
    account_id = await _account(runtime, store_id)
    await sign_in(client, mailbox, store_id)  # no device yet: the mailed code
    key = SoftAuthenticator()
    r = await add_key(client, store_id, key)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?notice=webauthn_added"
    page = await client.get(r.headers["location"])
    assert notice_of(page.text) == t("portal_webauthn.added")
    assert 'class="webauthn-credential"' in page.text and f'data-credential="{key.id}"' in page.text
    assert t("webauthn.type_security_key") in page.text and "Blue key" in page.text
    assert t("mfa_devices.never_used") in page.text
    ref = directory_user_ref(user_id)
    async with runtime.deps.store.unit() as uow:
        [row] = await uow.webauthn.for_principal(ref.key)
    assert row.account_id == account_id and row.serial is None and row.principal_key == ref.key
    [registered] = await _events(runtime, account_id, "RegisterWebAuthnCredential")
    assert registered.principal.endswith(f"user/{user_id}") and registered.method == "portal"

    await _sign_out(client, store_id)
    flow_url, mfa_page = await _to_mfa_step(client, store_id)
    assert 'id="totp-form"' not in mfa_page  # no TOTP device: the key only
    r = await _answer(client, flow_url, mfa_page, key.assertion(options_of(mfa_page)))
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)
    logins = [e for e in await _events(runtime, account_id, "ConsoleLogin") if e.result == "Success"]
    assert logins[-1].method == "password+webauthn" and logins[-1].mfa_used
    listed = await client.get(f"/portal/{store_id}/mfa")
    assert t("mfa_devices.never_used") not in listed.text  # last used now
    # the zh-TW page
    zh_page = await client.get(f"/portal/{store_id}/mfa", headers={"accept-language": "zh-TW"})
    assert zh("webauthn.type_security_key") in zh_page.text and zh("portal_webauthn.manage_key") in zh_page.text
    # deleting the directory user deletes its keys
    async with runtime.deps.store.unit() as uow:
        await directory.delete_user(uow, store_id, user_id)
    async with runtime.deps.store.unit() as uow:
        assert not await uow.webauthn.for_principal(ref.key)


async def test_wrong_challenge_replay_and_another_users_key_are_refused(client: httpx.AsyncClient, runtime: Runtime,
                                                                       mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    account_id = await _account(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    alice_key = SoftAuthenticator()
    assert (await add_key(client, store_id, alice_key)).status_code == 303
    await _sign_out(client, store_id)
    async with runtime.deps.store.unit() as uow:  # bob, with a key of his own
        await directory.create_user(uow, store_id, "bob", UserProfile(
            display_name="Bob", emails=(Email(value="bob@example.com", primary=True),)), actor="test",
            now=runtime.deps.clock(), password_hash=runtime.deps.hasher.hash(PASSWORD))
    flow_url, r = await password_step(client, store_id, "bob", PASSWORD)
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, "bob@example.com"))
    assert r.status_code == 303 and portal_cookie_set(r)
    bob_key = SoftAuthenticator()
    assert (await add_key(client, store_id, bob_key, name="Bob's key")).status_code == 303
    await _sign_out(client, store_id)

    flow_url, page = await _to_mfa_step(client, store_id)
    options = options_of(page)
    # a reload shows the same challenge
    assert options_of((await client.get(flow_url)).text) == options
    # an answer to another challenge: refused, and it spends the page's challenge
    r = await _answer(client, flow_url, page, alice_key.assertion(options, challenge=b64url(b"x" * 32)))
    assert r.status_code == 400 and error_of(r.text) == t("webauthn.rejected") and not portal_cookie_set(r)
    # the right answer to the spent challenge (a replay of the page's ceremony): refused
    r = await _answer(client, flow_url, page, alice_key.assertion(options))
    assert r.status_code == 400 and error_of(r.text) == t("webauthn.rejected") and not portal_cookie_set(r)
    # bob's key answering alice's fresh challenge: refused
    page = (await client.get(flow_url)).text
    assert options_of(page) != options
    r = await _answer(client, flow_url, page, bob_key.assertion(options_of(page)))
    assert r.status_code == 400 and error_of(r.text) == t("webauthn.rejected") and not portal_cookie_set(r)
    failures = [e for e in await _events(runtime, account_id, "ConsoleLogin") if e.result == "Failure"]
    assert len(failures) >= 3
    # a successful answer cannot be posted again to sign in a second time
    page = (await client.get(flow_url)).text
    good = alice_key.assertion(options_of(page))
    r = await _answer(client, flow_url, page, good)
    assert r.status_code == 303 and portal_cookie_set(r)
    await _sign_out(client, store_id)
    flow_url, page = await _to_mfa_step(client, store_id)
    r = await _answer(client, flow_url, page, good)
    assert r.status_code == 400 and error_of(r.text) == t("webauthn.rejected")
    # alice cannot see, rename or remove bob's key
    r = await _answer(client, flow_url, (await client.get(flow_url)).text,
                      alice_key.assertion(options_of((await client.get(flow_url)).text)))
    assert r.status_code == 303
    assert (await client.get(f"/portal/{store_id}/mfa/webauthn/key?id={bob_key.id}")).status_code == 404
    page = (await client.get(f"/portal/{store_id}/mfa")).text
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/remove", data={
        "csrf_token": csrf_of(page), "credential": bob_key.id, "password": PASSWORD, "confirm_last": "1"})
    assert r.status_code == 404
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/rename", data={
        "csrf_token": csrf_of(page), "credential": bob_key.id, "key_name": "mine"})
    assert r.status_code == 404


async def test_rename_and_remove_with_the_password_and_the_last_factor_warning(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime)
    user_id = await make_portal_user(runtime, store_id)
    account_id = await _account(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    key = SoftAuthenticator()
    assert (await add_key(client, store_id, key, kind="passkey", name="Phone")).status_code == 303
    page = await client.get(f"/portal/{store_id}/mfa/webauthn/key?id={key.id}")
    assert page.status_code == 200 and t("webauthn.type_passkey") in page.text
    assert '<label for="key_name">' in page.text and '<label for="remove-password">' in page.text
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/rename", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "key_name": "  "})
    assert r.status_code == 400 and error_of(r.text)
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/rename", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "key_name": "Work phone"})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?notice=webauthn_renamed"
    assert "Work phone" in (await client.get(f"/portal/{store_id}/mfa")).text
    [renamed] = await _events(runtime, account_id, "RenameWebAuthnCredential")
    assert renamed.principal.endswith(f"user/{user_id}")

    # removal: the password again (a wrong one is refused and audited), then the warning: it is the last factor
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/remove", data={
        "csrf_token": csrf_of(page.text), "credential": key.id})
    assert r.status_code == 400 and error_of(r.text) == t("reauth.required")
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/remove", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "password": "not it at all"})
    assert r.status_code == 400 and error_of(r.text) == t("portal_webauthn.password_wrong")
    assert [e.result for e in await _events(runtime, account_id, "PortalReauthentication")] == ["Failure"]
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/remove", data={
        "csrf_token": csrf_of(page.text), "credential": key.id, "password": PASSWORD})
    assert r.status_code == 200 and 'id="last-device-warning"' in r.text and "Work phone" in r.text
    async with runtime.deps.store.unit() as uow:
        assert await uow.webauthn.for_principal(directory_user_ref(user_id).key)  # not removed yet
    # confirmed in this browser within minutes of the password: no password asked again
    r = await client.post(f"/portal/{store_id}/mfa/webauthn/remove", data={
        "csrf_token": csrf_of(r.text), "credential": key.id, "confirm_last": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?notice=webauthn_removed"
    listed = await client.get(r.headers["location"])
    assert notice_of(listed.text) == t("portal_webauthn.removed") and 'id="no-mfa-devices"' in listed.text
    [removed] = await _events(runtime, account_id, "DeactivateMFADevice")
    assert removed.principal.endswith(f"user/{user_id}") and removed.method == "portal"
    # with no factor left, the next sign-in asks the mailed code again
    await _sign_out(client, store_id)
    flow_url, r = await password_step(client, store_id, "alice", PASSWORD)
    assert 'name="verification_code"' in (await client.get(flow_url)).text


async def test_a_key_counts_as_the_device_an_instance_requires(client: httpx.AsyncClient, runtime: Runtime,
                                                               mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime, InstanceSettings(no_mfa_device="REQUIRE_REGISTRATION"))
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    r = await client.get(f"/portal/{store_id}/")
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/mfa?required=1"
    assert 'id="mfa-required"' in (await client.get(r.headers["location"])).text
    key = SoftAuthenticator()
    assert (await add_key(client, store_id, key)).status_code == 303
    assert (await client.get(f"/portal/{store_id}/")).status_code == 200
    await _sign_out(client, store_id)
    flow_url, page = await _to_mfa_step(client, store_id)
    r = await _answer(client, flow_url, page, key.assertion(options_of(page)))
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/"
    assert (await client.get(f"/portal/{store_id}/")).status_code == 200


async def test_portal_passwords_known_from_breaches_are_refused(client: httpx.AsyncClient, runtime: Runtime,
                                                                mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    one_time = await portal_users.reset_with_one_time_password(runtime.deps, store_id, "alice")
    flow_url, r = await password_step(client, store_id, "alice", one_time)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    for breached in ("Passw0rd!", "password123"):
        r = await step(client, flow_url, "new_password", new_password=breached, confirm_password=breached)
        assert r.status_code == 400 and error_of(r.text) == t("password.breached")
    r = await step(client, flow_url, "new_password", new_password="mine now 123", confirm_password="mine now 123")
    assert r.status_code == 303
    r = await step(client, flow_url, "email_code", verification_code=last_code(mailbox, EMAIL))
    assert r.status_code == 303 and portal_cookie_set(r)
    # the mailed reset link's page too
    await portal_users.reset_by_mail(runtime.deps, store_id, "alice")
    await deliver_mail(runtime)
    page = await client.get(link_of(mailbox, store_id))
    token = field_of(page.text, "token")
    r = await client.post(f"/portal/{store_id}/password", data={
        "csrf_token": csrf_of(page.text), "token": token, "new_password": "qwerty123", "confirm_password": "qwerty123"})
    assert r.status_code == 400 and error_of(r.text) == t("password.breached")
    r = await client.post(f"/portal/{store_id}/password", data={
        "csrf_token": csrf_of(page.text), "token": token, "new_password": "another one 456",
        "confirm_password": "another one 456"})
    assert r.status_code == 200 and 'id="password-set"' in r.text


async def test_a_key_lets_a_user_in_where_the_instance_blocks_users_without_a_device(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    store_id = await make_store(runtime, InstanceSettings(no_mfa_device="BLOCK"))
    user_id = await make_portal_user(runtime, store_id)
    _flow, r = await password_step(client, store_id, "alice", PASSWORD)
    assert r.status_code == 400 and error_of(r.text) == t("portal.mfa_blocked")
    key = SoftAuthenticator()
    owner = webauthn.Owner(directory_user_ref(user_id).key, "alice", "Alice", "arn:test",
                           await _account(runtime, store_id), iam_serial=False)
    browser = Client(ip="127.0.0.1", user_agent="test", browser_hash="b")
    ceremony = await webauthn.begin_registration(runtime.deps, browser, owner, CredentialKind.SECURITY_KEY)
    await webauthn.finish_registration(runtime.deps, browser, owner, ceremony.flow_id,
                                       key.register(ceremony.options), "Desk key")
    flow_url, page = await _to_mfa_step(client, store_id)
    r = await _answer(client, flow_url, page, key.assertion(options_of(page)))
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)
