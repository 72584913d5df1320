"""Access portal sign-in when the instance's identity source is an LDAP directory (slapd, tests/ldap_server.py):
the password is the directory's (StartTLS and LDAPS, the test CA); the directory user is made and kept up to date;
LDAP groups map to existing directory groups of the same name; an unknown name, a wrong or empty password and a
locked entry look like a wrong password; a disabled entry with the right password, an expired service account
password, an unreachable directory and a certificate naming another host each show the failure page with a
reference the administrator can diagnose; the portal's throttle counts LDAP guesses too."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from markupsafe import escape

from http_steps import error_of, make_account
from integration.test_portal_signin_http import make_store, password_step, portal_cookie_set, start, step
from ldap_server import (
    EXPIRED_SERVICE_DN,
    EXPIRED_SERVICE_PASSWORD,
    GROUPS,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    LdapServer,
)
from support import csrf_of, last_code
from vestibule.core.throttle import Scope, ThrottleKey
from vestibule.runtime import Runtime
from vestibule.services.federation.failures import REFERENCE, diagnose
from vestibule.services.identity_center import directory, identity_sources, instances
from vestibule.services.identity_center.directory_profile import UserProfile
from vestibule.services.identity_center.identity_sources import LdapSource
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.mail import DevMailbox
from vestibule.store.models import SsoInstance
from vestibule.web.i18n import Translator

t = Translator("en")


def shown(key: str) -> str:
    """The message as a page shows it (HTML-escaped)."""
    return str(escape(t(key)))


@pytest.fixture(scope="module")
def ldap() -> Iterator[LdapServer]:
    with LdapServer() as server:
        yield server


def source_for(ldap: LdapServer, **changes: object) -> LdapSource:
    source = LdapSource(url=ldap.starttls_url, starttls=True, ca_file=str(ldap.ca_file), bind_dn=SERVICE_DN,
                        base_dn=PEOPLE, group_base_dn=GROUPS, user_filter="(objectClass=inetOrgPerson)",
                        disabled_filter="(|(pwdAccountLockedTime=*)(employeeType=disabled))", timeout=3)
    return replace(source, **changes)  # type: ignore[arg-type]


async def ldap_portal(runtime: Runtime, source: LdapSource, password: str = SERVICE_PASSWORD,
                      settings: InstanceSettings | None = None) -> tuple[str, str]:
    """An instance (its own account) whose identity source is `source`: (identity store ID, instance ARN)."""
    account_id = await make_account(runtime, email=f"ldap-{secrets.token_hex(4)}@example.com", alias=None)
    store_id, arn = f"d-{secrets.token_hex(5)}", f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}"
    async with runtime.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=arn, identity_store_id=store_id, owner_account_id=account_id, name="ldap", kind="ACCOUNT",
            status="ACTIVE", client_token=None, created_at=runtime.deps.clock(),
            settings=(settings or InstanceSettings(mfa_prompt="NEVER")).to_json(), tags="[]"))
    await identity_sources.set_source(runtime.deps, source, instance_arn=arn, password=password)
    return store_id, arn


async def failure_page(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert not portal_cookie_set(r)
    found = re.search(r'<code id="reference">(F-[A-Z2-7]{16})</code>', r.text)
    assert found and REFERENCE.fullmatch(found.group(1)), r.text
    assert "Traceback" not in r.text
    return found.group(1)


async def test_sign_in_with_the_directory_password(client: httpx.AsyncClient, runtime: Runtime,
                                                   ldap: LdapServer) -> None:
    store_id, _ = await ldap_portal(runtime, source_for(ldap))
    async with runtime.deps.store.unit() as uow:
        engineers = await directory.create_group(uow, store_id, "engineers", actor="test", now=runtime.deps.clock())
        stale = await directory.create_group(uow, store_id, "former-team", actor="test", now=runtime.deps.clock())
        manual = await directory.create_group(uow, store_id, "hand-made", actor="test", now=runtime.deps.clock())
    _flow, r = await password_step(client, store_id, "ALICE", ldap.password("alice"))
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)
    home = await client.get(f"/portal/{store_id}/")
    assert home.status_code == 200 and 'id="portal-user">Alice Liddell<' in home.text
    async with runtime.deps.store.unit() as uow:
        user = await directory.user_by_name(uow, store_id, "alice")
        assert user is not None and user.user_name == "alice" and user.email == "alice@example.com"
        assert user.password_hash is None and user.created_by == "ldap"
        # groups: engineers (mapped; "admins" and "unmapped" have no directory group, none is made)
        assert await directory.group_ids_of_user(uow, store_id, user.id) == [engineers.id]
        assert (await directory.find_groups(uow, store_id, display_name="admins")).items == ()
        # a membership the LDAP source made for a group the entry left goes; one an administrator made stays
        await directory.add_member(uow, store_id, stale.id, user.id, actor="ldap", now=runtime.deps.clock())
        await directory.add_member(uow, store_id, manual.id, user.id, actor="admin", now=runtime.deps.clock())
        await directory.replace_user(uow, store_id, user.id, "alice", replace(user.profile, display_name="Old"),
                                     actor="test", now=runtime.deps.clock())
    client.cookies.clear()
    _flow, r = await password_step(client, store_id, "alice", ldap.password("alice"))
    assert r.status_code == 303 and portal_cookie_set(r)
    async with runtime.deps.store.unit() as uow:
        again = await directory.user_by_name(uow, store_id, "alice")
        assert again is not None and again.id == user.id and again.display_name == "Alice Liddell"
        assert sorted(await directory.group_ids_of_user(uow, store_id, user.id)) == sorted([engineers.id, manual.id])


async def test_ldaps_and_an_existing_directory_user(client: httpx.AsyncClient, runtime: Runtime,
                                                    ldap: LdapServer) -> None:
    store_id, _ = await ldap_portal(runtime, source_for(ldap, url=ldap.ldaps_url, starttls=False))
    async with runtime.deps.store.unit() as uow:
        existing = await directory.create_user(uow, store_id, "Bob", UserProfile(display_name="Bobby"),
                                               actor="test", now=runtime.deps.clock(),
                                               password_hash=runtime.deps.hasher.hash("vestibule password 1"))
    _flow, r = await password_step(client, store_id, "bob", "vestibule password 1")  # not the directory's
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_credentials")
    _flow, r = await password_step(client, store_id, "bob", ldap.password("bob"))
    assert r.status_code == 303 and portal_cookie_set(r)
    async with runtime.deps.store.unit() as uow:
        user = await directory.user_by_name(uow, store_id, "bob")
    assert user is not None and user.id == existing.id and user.user_name == "Bob"
    assert (user.display_name, user.email) == ("Bob Builder", "bob@example.com")


async def test_refusals_look_like_a_wrong_password(client: httpx.AsyncClient, runtime: Runtime,
                                                   ldap: LdapServer) -> None:
    store_id, arn = await ldap_portal(runtime, source_for(ldap))
    for name, password in (("alice", "not the password"), ("mallory", "any password 1"), ("alice", ""),
                           ("carol", ldap.password("carol")),  # locked by the password policy: bind refused
                           ("*", ldap.password("alice")), ("alice)(uid=*", ldap.password("alice")),
                           ("cn=admin,dc=example,dc=com", "admin password 1")):
        _flow, r = await password_step(client, store_id, name, password)
        assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_credentials"), (name, r.text)
        assert not portal_cookie_set(r)
    async with runtime.deps.store.unit() as uow:
        for name in ("alice", "mallory", "carol"):
            assert await directory.user_by_name(uow, store_id, name) is None
        instance = await instances.by_arn(uow, arn)
        assert instance is not None
        reasons = [e.detail.get("reason") for e in await uow.audit.for_account(instance.owner_account_id)
                   if e.event == "ConsoleLogin" and e.method == "portal_ldap"]
    assert reasons[:4] == ["ldap: bind refused", "ldap: no such entry", "ldap: empty user name or password",
                           "ldap: entry disabled; bind refused"], reasons


async def test_passwords_ldap_cannot_send_are_wrong_passwords(client: httpx.AsyncClient, runtime: Runtime,
                                                              ldap: LdapServer) -> None:
    """ldap3 prepares a simple bind's password with SASLprep (RFC 4013), which refuses control characters and a
    password of characters mapped to nothing: the user's wrong password, not an unreachable directory (no
    failure page, no reference row a stranger could write at will)."""
    store_id, arn = await ldap_portal(runtime, source_for(ldap))
    for name, password in (("alice", "\u00ad"), ("alice", "pass\x01word"), ("mallory", "del\x7fin it")):
        _flow, r = await password_step(client, store_id, name, password)
        assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_credentials"), (password, r.text)
    async with runtime.deps.store.unit() as uow:
        instance = await instances.by_arn(uow, arn)
        assert instance is not None
        events = await uow.audit.for_account(instance.owner_account_id)
    assert not [e for e in events if e.event == "FederatedSignInFailed"]
    assert [e.detail.get("reason") for e in events if e.event == "ConsoleLogin" and e.method == "portal_ldap"] == [
        "ldap: password refused by SASLprep (RFC 4013: control or unassigned characters)"] * 3


async def test_a_disabled_entry_with_its_password_is_told_so(client: httpx.AsyncClient, runtime: Runtime,
                                                             ldap: LdapServer) -> None:
    store_id, _ = await ldap_portal(runtime, source_for(ldap))
    _flow, r = await password_step(client, store_id, "erin", "wrong password")
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_credentials")
    _flow, r = await password_step(client, store_id, "erin", ldap.password("erin"))
    reference = await failure_page(r, 403)
    assert shown("federation.failure.user_disabled") in r.text
    found = await diagnose(runtime.deps, reference)
    assert found is not None and found.cause == "user_disabled" and found.door == "portal-ldap"
    assert found.admin["dn"] == f"uid=erin,{PEOPLE}" and found.principal == "erin"


async def test_expired_service_account_is_diagnosable(client: httpx.AsyncClient, runtime: Runtime,
                                                      ldap: LdapServer) -> None:
    store_id, arn = await ldap_portal(runtime, source_for(ldap, bind_dn=EXPIRED_SERVICE_DN),
                                      password=EXPIRED_SERVICE_PASSWORD)
    _flow, r = await password_step(client, store_id, "alice", ldap.password("alice"))
    reference = await failure_page(r, 503)
    assert shown("federation.failure.ldap_service_account") in r.text
    assert EXPIRED_SERVICE_DN not in r.text and EXPIRED_SERVICE_PASSWORD not in r.text
    assert f'href="/portal/{store_id}/start"' in r.text
    found = await diagnose(runtime.deps, reference)
    assert found is not None and found.cause == "ldap_service_account"
    assert found.admin["bind_dn"] == EXPIRED_SERVICE_DN and found.admin["password_policy"] == "passwordExpired"
    assert found.provider == ldap.starttls_url and EXPIRED_SERVICE_PASSWORD not in str(found)
    # a wrong service password: the same cause, without the policy's word
    await identity_sources.set_source(runtime.deps, source_for(ldap), instance_arn=arn, password="not it")
    _flow, r = await password_step(client, store_id, "alice", ldap.password("alice"))
    found = await diagnose(runtime.deps, await failure_page(r, 503))
    assert found is not None and found.cause == "ldap_service_account" and "password_policy" not in found.admin


async def test_unreachable_and_untrusted_directories(client: httpx.AsyncClient, runtime: Runtime,
                                                     ldap: LdapServer) -> None:
    closed = f"ldaps://127.0.0.1:{_closed_port()}"
    for source, word in ((source_for(ldap, url=closed, starttls=False), "refused"),
                         (source_for(ldap, url=ldap.misnamed_url, starttls=False), "127.0.0.2"),
                         (source_for(ldap, url=ldap.ldaps_url, starttls=False, ca_file=None), "CERTIFICATE_VERIFY"),
                         (source_for(ldap, url=ldap.ldaps_url.replace("ldaps:", "ldap:")), "")):
        store_id, _ = await ldap_portal(runtime, source)
        _flow, r = await password_step(client, store_id, "alice", ldap.password("alice"))
        reference = await failure_page(r, 503)
        assert shown("federation.failure.ldap_unreachable") in r.text
        found = await diagnose(runtime.deps, reference)
        assert found is not None and found.cause == "ldap_unreachable" and word in found.admin["error"], found


async def test_a_server_refusing_starttls_is_never_spoken_to_in_clear(client: httpx.AsyncClient,
                                                                      runtime: Runtime) -> None:
    """A directory that answers on ldap:// but refuses StartTLS (a downgrade, or a misconfigured server): the
    sign-in stops there, as unreachable; it does not bind (with the service account's or the user's password)
    over the plain connection, which would have let alice in."""
    with LdapServer(tls=False) as plain:
        store_id, _ = await ldap_portal(runtime, LdapSource(
            url=plain.starttls_url, starttls=True, ca_file=str(plain.ca_file), bind_dn=SERVICE_DN, base_dn=PEOPLE,
            timeout=3))
        _flow, r = await password_step(client, store_id, "alice", plain.password("alice"))
        reference = await failure_page(r, 503)
    found = await diagnose(runtime.deps, reference)
    assert found is not None and found.cause == "ldap_unreachable", found
    assert "startTLS" in found.admin["error"] or "StartTLS" in found.admin["error"], found.admin


async def test_spellings_of_one_entry_share_its_throttle(client: httpx.AsyncClient, runtime: Runtime,
                                                         ldap: LdapServer) -> None:
    """The directory matches "ａｌｉｃｅ" (full width) and "ALICE" to alice's entry: guesses under those spellings
    count against alice's one per-user bucket, not a fresh bucket each."""
    store_id, _ = await ldap_portal(runtime, source_for(ldap))
    for name in ("ａｌｉｃｅ", "ALICE", "Ａlice"):
        _flow, r = await password_step(client, store_id, name, "wrong password")
        assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_credentials"), (name, r.text)
    [state] = await runtime.deps.throttle.states(
        [ThrottleKey(Scope.PRINCIPAL, f"directory-user:{store_id}:alice")], runtime.deps.clock())
    assert state.failures == 3, state


async def test_guesses_are_throttled_and_outages_are_not_counted(client: httpx.AsyncClient, runtime: Runtime,
                                                                 ldap: LdapServer) -> None:
    store_id, arn = await ldap_portal(runtime, source_for(ldap, bind_dn=EXPIRED_SERVICE_DN),
                                      password=EXPIRED_SERVICE_PASSWORD)
    for _ in range(8):  # the directory's fault: the user's attempts are taken back
        _flow, r = await password_step(client, store_id, "alice", "wrong password")
        assert r.status_code == 503
    await identity_sources.set_source(runtime.deps, source_for(ldap), instance_arn=arn,
                                      password=SERVICE_PASSWORD)
    _flow, r = await password_step(client, store_id, "alice", ldap.password("alice"))
    assert r.status_code == 303 and portal_cookie_set(r)
    client.cookies.clear()
    statuses = []
    for _ in range(12):
        _flow, r = await password_step(client, store_id, "alice", "wrong password")
        statuses.append(r.status_code)
        if r.status_code == 429 or 'name="captcha"' in r.text:
            break
    assert statuses[-1] == 429 or 'name="captcha"' in r.text, statuses
    _flow, r = await password_step(client, store_id, "alice", ldap.password("alice"))
    assert not portal_cookie_set(r) and (r.status_code == 429 or 'name="captcha"' in r.text)


async def test_the_instance_mfa_settings_still_apply(client: httpx.AsyncClient, runtime: Runtime, mailbox: object,
                                                     ldap: LdapServer) -> None:
    store_id, _ = await ldap_portal(runtime, source_for(ldap),
                                    settings=InstanceSettings(mfa_prompt="EVERY_SIGN_IN", no_mfa_device="EMAIL_CODE"))
    flow_url, r = await password_step(client, store_id, "alice", ldap.password("alice"))
    assert r.status_code == 303 and r.headers["location"] == flow_url and not portal_cookie_set(r)
    r = await step(client, flow_url, "email_code",
                   verification_code=last_code(mailbox, "alice@example.com"))  # type: ignore[arg-type]
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{store_id}/" and portal_cookie_set(r)


def _closed_port() -> int:
    from support import free_port

    return free_port()


async def test_the_pages_say_the_password_is_the_directorys(client: httpx.AsyncClient, runtime: Runtime,
                                                            mailbox: DevMailbox, ldap: LdapServer) -> None:
    store_id, _ = await ldap_portal(runtime, source_for(ldap))
    r = await start(client, store_id, "alice")
    page = await client.get(r.headers["location"])
    assert shown("identity_sources.ldap_password_hint") in page.text and 'id="forgot-password"' in page.text
    forgot = await client.get(f"/portal/{store_id}/forgot")
    assert forgot.status_code == 200 and shown("identity_sources.ldap_forgot") in forgot.text
    assert 'name="username"' not in forgot.text
    r = await client.post(f"/portal/{store_id}/forgot", data={"csrf_token": csrf_of(page.text),
                                                              "username": "alice"})
    assert r.status_code == 200 and shown("identity_sources.ldap_forgot") in r.text
    assert mailbox.messages == []  # no reset mail: Vestibule keeps no password for these users
    zh = await client.get(f"/portal/{store_id}/forgot", headers={"Accept-Language": "zh-TW"})
    assert str(escape(Translator("zh-TW")("identity_sources.ldap_forgot"))) in zh.text
    # the instance's own directory: the usual hint-less page and the reset form
    own = await make_store(runtime)
    r = await start(client, own, "alice")
    assert shown("identity_sources.ldap_password_hint") not in (await client.get(r.headers["location"])).text
    assert 'name="username"' in (await client.get(f"/portal/{own}/forgot")).text
