"""Closing, reopening, suspending and reinstating an account, over HTTP: the root user closes it after the
password and MFA again (or a mailed code); everything of a closed or suspended account stops at its next
request (sign-in, console sessions, access keys, temporary credentials, the access portal); the root user
reopens it within 90 days (a clock the test moves); its email never serves a new account (a +tag address
does); a suspended account's page is shown only after the right password."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    USER_PASSWORD,
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    post_step,
    root_password,
    sign_in_iam,
    sign_in_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.core import totp
from vestibule.core.identifiers import mfa_arn
from vestibule.errors import AlreadyExists
from vestibule.runtime import Runtime
from vestibule.services import access_keys, account_lifecycle, accounts, mfa
from vestibule.services.aws_identity import KeyDirectory
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox
from vestibule.store.models import MfaDevice
from vestibule.web.i18n import Translator

t = Translator("en")
DAY = 86400.0


async def _signed(client: httpx.AsyncClient, key_id: str, secret: str, body: str, token: str | None = None,
                  service: str = "sts") -> httpx.Response:
    request = AWSRequest(method="POST", url="http://testserver/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key_id, secret, token), service, "us-east-1").add_auth(request)
    return await client.post("/", content=body, headers=dict(request.headers.items()))


async def _identity(client: httpx.AsyncClient, key: tuple[str, str, str | None]) -> httpx.Response:
    return await _signed(client, key[0], key[1], "Action=GetCallerIdentity&Version=2011-06-15", key[2])


def _code(r: httpx.Response) -> str:
    match = re.search(r"<Code>([^<]+)</Code>", r.text)
    return match.group(1) if match else ""


async def _keys(runtime: Runtime, client: httpx.AsyncClient, account_id: str, user_id: str
                ) -> dict[str, tuple[str, str, str | None]]:
    """A root key, an IAM user's key and temporary credentials from the user's GetSessionToken."""
    async with runtime.deps.store.unit() as uow:
        root = await access_keys.create(runtime.deps, uow, account_id, f"root:{account_id}")
        user = await access_keys.create(runtime.deps, uow, account_id, f"user:{user_id}")
    r = await _signed(client, user.access_key_id, user.secret_access_key,
                      "Action=GetSessionToken&Version=2011-06-15")
    assert r.status_code == 200, r.text

    def field(name: str) -> str:
        match = re.search(rf"<{name}>([^<]+)</{name}>", r.text)
        assert match, name
        return match.group(1)

    return {"root": (root.access_key_id, root.secret_access_key, None),
            "user": (user.access_key_id, user.secret_access_key, None),
            "temporary": (field("AccessKeyId"), field("SecretAccessKey"), field("SessionToken"))}


async def _root_mfa(runtime: Runtime, account_id: str) -> str:
    """An enabled TOTP device of the root user; its secret."""
    secret = totp.new_secret()
    serial = mfa_arn(account_id, "root-device")
    now = runtime.deps.clock()
    async with runtime.deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=f"root:{account_id}", name="root-device",
                                    serial=serial, secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=now, last_used_step=None, created_at=now))
    return secret


def _totp(runtime: Runtime, secret: str, later: int = 0) -> str:
    return totp.code_at(secret, totp.step_of(runtime.deps.clock()) + later)


async def _status(runtime: Runtime, account_id: str) -> str:
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
    assert account is not None
    return account.status


async def _events(runtime: Runtime, account_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    async with runtime.deps.store.unit() as uow:
        rows = await uow.audit.for_account(account_id, 200)
    return [(row.event, row.result, dict(row.detail or {})) for row in rows]


async def _close_directly(runtime: Runtime, account_id: str) -> None:
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None
        await account_lifecycle.close(runtime.deps, uow, account, Client(), method="test")


async def test_root_closes_with_password_and_mfa_and_everything_stops_at_once(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    keys = await _keys(runtime, client, account_id, user_id)
    for key in keys.values():
        assert (await _identity(client, key)).status_code == 200
    secret = await _root_mfa(runtime, account_id)
    flow_url, r = await root_password(client)
    assert r.headers["location"] == flow_url
    r = await post_step(client, flow_url, "mfa", mfa_code=_totp(runtime, secret))
    assert r.headers["location"] == "/console"
    async with browser(runtime, captcha) as alice:
        await sign_in_iam(alice)
        assert (await alice.get("/console")).status_code == 200

        security = await client.get("/console/security")
        assert 'href="/console/close"' in security.text
        page = await client.get("/console/close")
        assert page.status_code == 200 and 'id="close-warning"' in page.text and 'name="mfa_code"' in page.text
        form = {"csrf_token": csrf_of(page.text), "step": "confirm", "password": ROOT_PASSWORD, "confirm": "on"}
        # not confirmed, a wrong password, a wrong MFA code: nothing happens
        r = await client.post("/console/close", data={**form, "confirm": "", "mfa_code": _totp(runtime, secret, 1)})
        assert r.status_code == 400 and t("lifecycle.confirm_required") in r.text
        r = await client.post("/console/close", data={**form, "password": "wrong", "mfa_code": "000000"})
        assert r.status_code == 400 and t("reauth.wrong_password") in r.text
        r = await client.post("/console/close", data={**form, "mfa_code": "000000" if _totp(runtime, secret, 1)
                                                      != "000000" else "111111"})
        assert r.status_code == 400 and t("signin.invalid_code") in r.text
        assert await _status(runtime, account_id) == "active"

        r = await client.post("/console/close", data={**form, "mfa_code": _totp(runtime, secret, 1)})
        assert r.status_code == 200 and 'id="account-closed"' in r.text, r.text
        assert await _status(runtime, account_id) == "closed"
        # every session ended, every key and temporary credential refused, at the next request
        assert (await client.get("/console")).status_code == 303
        assert (await alice.get("/console")).status_code == 303
    for name, key in keys.items():
        refused = await _identity(client, key)
        assert refused.status_code == 403 and _code(refused) == "InvalidClientTokenId", (name, refused.text)
    closed = [e for e in await _events(runtime, account_id) if e[0] == "AccountClosed"]
    assert [(e[1]) for e in closed] == ["Success"]
    assert any("was closed" in m.subject for m in mailbox.messages if m.to == ROOT_EMAIL)


async def test_without_mfa_a_code_mailed_to_the_root_email_confirms_the_closure(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    page = await client.get("/console/close")
    assert 'name="mfa_code"' not in page.text and 'id="close-code-hint"' in page.text
    r = await client.post("/console/close", data={"csrf_token": csrf_of(page.text), "step": "confirm",
                                                  "password": ROOT_PASSWORD, "confirm": "on"})
    assert r.status_code == 200 and 'id="close-code-form"' in r.text
    code = last_code(mailbox, ROOT_EMAIL)
    # the code works only in the session that asked for it
    async with browser(runtime, captcha) as other:
        await sign_in_root(other, mailbox)
        elsewhere = await other.post("/console/close", data={"csrf_token": csrf_of((await other.get("/console")).text),
                                                             "step": "code", "verification_code": code})
        assert elsewhere.status_code == 400 and await _status(runtime, account_id) == "active"
    wrong = "000000" if code != "000000" else "111111"
    r = await client.post("/console/close", data={"csrf_token": csrf_of(r.text), "step": "code",
                                                  "verification_code": wrong})
    assert r.status_code == 400 and t("signin.invalid_code") in r.text
    r = await client.post("/console/close", data={"csrf_token": csrf_of(r.text), "step": "code",
                                                  "verification_code": code})
    assert r.status_code == 200 and 'id="account-closed"' in r.text
    assert await _status(runtime, account_id) == "closed"
    methods = [(e[1], e[2]) for e in await _events(runtime, account_id) if e[0] == "AccountClosed"]
    assert [m[0] for m in methods] == ["Success", "Failure"] or [m[0] for m in methods] == ["Failure", "Success"]


async def test_iam_users_cannot_close_the_account(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    assert (await client.get("/console/close")).status_code == 403
    r = await client.post("/console/close", data={"csrf_token": csrf_of((await client.get("/console")).text),
                                                  "step": "confirm", "password": USER_PASSWORD, "confirm": "on"})
    assert r.status_code == 403 and await _status(runtime, account_id) == "active"


async def test_the_root_user_reopens_a_closed_account_within_90_days(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)  # this browser is known now: an active account would skip the code
    await _close_directly(runtime, account_id)
    clock.advance(89 * DAY)
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code == 303 and r.headers["location"] == flow_url  # not signed in yet: the reopen page
    page = await client.get(flow_url)
    assert 'id="reopen-form"' in page.text
    assert (await client.get("/console")).status_code == 303
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "reopen"})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert (await client.get("/console")).status_code == 200
    assert await _status(runtime, account_id) == "active"
    events = [e[0] for e in await _events(runtime, account_id)]
    assert "AccountReopened" in events
    assert any("reopened" in m.subject for m in mailbox.messages)


async def test_reopening_with_mfa_asks_for_the_code_first(client: httpx.AsyncClient, runtime: Runtime) -> None:
    use_clock(runtime)
    account_id = await make_account(runtime)
    secret = await _root_mfa(runtime, account_id)
    await _close_directly(runtime, account_id)
    flow_url, r = await root_password(client)
    page = await client.get(flow_url)
    assert 'name="mfa_code"' in page.text
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "reopen"})
    assert r.status_code == 400 and await _status(runtime, account_id) == "closed"  # out of order
    r = await post_step(client, flow_url, "mfa", mfa_code=_totp(runtime, secret))
    assert r.headers["location"] == flow_url
    r = await post_step(client, flow_url, "reopen")
    assert r.headers["location"] == "/console" and await _status(runtime, account_id) == "active"


async def test_after_90_days_the_account_is_closed_for_good_and_strangers_learn_nothing(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    _, unknown = await root_password(client, "nobody@example.com", "wrong password 1")
    await _close_directly(runtime, account_id)
    _, wrong = await root_password(client, ROOT_EMAIL, "wrong password 1")
    assert (wrong.status_code, error_of(wrong.text)) == (unknown.status_code, error_of(unknown.text))
    assert "closed" not in wrong.text.lower()
    iam_right = await iam_password(client, "acme", "alice", USER_PASSWORD)  # IAM users cannot reopen it
    assert iam_right.status_code == 403 and 'id="account-closed"' in iam_right.text
    assert 'id="reopen-form"' not in iam_right.text
    clock.advance(90 * DAY + 1)
    _, wrong = await root_password(client, ROOT_EMAIL, "wrong password 1")
    assert (wrong.status_code, error_of(wrong.text)) == (unknown.status_code, error_of(unknown.text))
    _, right = await root_password(client)
    assert right.status_code == 403 and 'id="account-closed_for_good"' in right.text
    # IAM users of a closed account: the right password shows that it is closed; a wrong one the usual answer
    iam_wrong = await iam_password(client, "acme", "alice", "wrong password 1")
    iam_unknown = await iam_password(client, "acme", "nobody", "wrong password 1")
    assert error_of(iam_wrong.text) == error_of(iam_unknown.text) == t("signin.invalid_credentials")
    iam_right = await iam_password(client, account_id, "alice", USER_PASSWORD)
    assert iam_right.status_code == 403 and 'id="account-closed_for_good"' in iam_right.text
    reasons = [e[2].get("reason") for e in await _events(runtime, account_id) if e[0] == "ConsoleLogin"]
    assert "account closed_for_good" in reasons


async def test_the_email_of_a_closed_account_never_serves_a_new_account(runtime: Runtime,
                                                                       client: httpx.AsyncClient) -> None:
    account_id = await make_account(runtime, email="Owner@Example.com")
    await _close_directly(runtime, account_id)
    use_clock(runtime).advance(365 * DAY)  # long after it is closed for good
    for email in ("owner@example.com", "OWNER@example.com"):
        with pytest.raises(AlreadyExists):
            async with runtime.deps.store.unit() as uow:
                await accounts.create_account(runtime.deps, uow, email=email, password="another password 1")
    async with runtime.deps.store.unit() as uow:
        created = await accounts.create_account(runtime.deps, uow, email="owner+new@example.com",
                                                password="another password 1")
    assert created.root_email == "owner+new@example.com"


async def test_suspended_account_page_after_the_right_password_only(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    keys = await _keys(runtime, client, account_id, user_id)
    directory = KeyDirectory(runtime.deps, ttl=3600)  # a node that cached the key long ago
    assert await directory.lookup(keys["user"][0]) is not None
    _, unknown = await root_password(client, "nobody@example.com", "wrong password 1")
    await sign_in_root(client, mailbox)

    state = await account_lifecycle.suspend(runtime.deps, account_id, reason="unpaid invoices",
                                            contact="billing@operator.example")
    assert state.standing is account_lifecycle.Standing.SUSPENDED
    assert await directory.lookup(keys["user"][0]) is None  # forgotten through the bus at once
    assert (await client.get("/console")).status_code == 303
    for key in keys.values():
        assert _code(await _identity(client, key)) == "InvalidClientTokenId"
    _, wrong = await root_password(client, ROOT_EMAIL, "wrong password 1")
    assert (wrong.status_code, error_of(wrong.text)) == (unknown.status_code, error_of(unknown.text))
    assert "suspended" not in wrong.text.lower()
    _, right = await root_password(client)
    assert right.status_code == 403 and 'id="account-suspended"' in right.text
    assert "billing@operator.example" in right.text and "unpaid" not in right.text
    iam_right = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert iam_right.status_code == 403 and 'id="account-suspended"' in iam_right.text
    iam_wrong = await iam_password(client, "acme", "alice", "wrong password 1")
    assert error_of(iam_wrong.text) == t("signin.invalid_credentials")
    with pytest.raises(account_lifecycle.WrongStanding):
        await account_lifecycle.suspend(runtime.deps, account_id, reason=None, contact=None)

    await account_lifecycle.reinstate(runtime.deps, account_id)
    for name in ("root", "user"):
        assert (await _identity(client, keys[name])).status_code == 200
    async with browser(runtime, captcha) as again:
        await sign_in_iam(again)
    events = [e[0] for e in await _events(runtime, account_id)]
    assert "AccountSuspended" in events and "AccountReinstated" in events


async def test_the_access_portal_of_a_suspended_or_closed_account_stops_at_once(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    from integration.test_portal_signin_http import make_portal_user, make_store, sign_in

    store_id = await make_store(runtime)
    await make_portal_user(runtime, store_id)
    await sign_in(client, mailbox, store_id)
    assert (await client.get(f"/portal/{store_id}/")).status_code == 200
    async with runtime.deps.store.unit() as uow:
        instance = await uow.identity_center.instance_of_store(store_id)
        assert instance is not None
        account_id = instance.owner_account_id
    await account_lifecycle.suspend(runtime.deps, account_id, reason=None, contact=None)
    assert (await client.get(f"/portal/{store_id}/")).status_code == 404  # no such portal now
    await account_lifecycle.reinstate(runtime.deps, account_id)
    assert (await client.get(f"/portal/{store_id}/")).status_code == 303  # back, but its sessions were ended
    await sign_in(client, mailbox, store_id)
    await _close_directly(runtime, account_id)
    assert (await client.get(f"/portal/{store_id}/start")).status_code == 404


async def test_role_credentials_of_a_suspended_account_are_refused(client: httpx.AsyncClient,
                                                                  runtime: Runtime) -> None:
    import json
    from urllib.parse import urlencode

    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    keys = await _keys(runtime, client, account_id, user_id)
    root, user = keys["root"], keys["user"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}}]}
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    for body in ({"Action": "CreateRole", "RoleName": "deploy", "AssumeRolePolicyDocument": json.dumps(trust)},
                 {"Action": "PutUserPolicy", "UserName": "alice", "PolicyName": "assume",
                  "PolicyDocument": json.dumps(allow)}):
        r = await _signed(client, root[0], root[1], urlencode({**body, "Version": "2010-05-08"}), service="iam")
        assert r.status_code == 200, r.text
    r = await _signed(client, user[0], user[1], urlencode({
        "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": f"arn:aws:iam::{account_id}:role/deploy",
        "RoleSessionName": "s1"}))
    assert r.status_code == 200, r.text
    found = [re.search(rf"<{n}>([^<]+)</{n}>", r.text) for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
    role = tuple(m.group(1) for m in found if m is not None)
    assert len(role) == 3, r.text
    assert "assumed-role/deploy/s1" in (await _identity(client, (role[0], role[1], role[2]))).text
    await account_lifecycle.suspend(runtime.deps, account_id, reason=None, contact=None)
    refused = await _identity(client, (role[0], role[1], role[2]))
    assert refused.status_code == 403 and _code(refused) == "InvalidClientTokenId"


async def test_a_forgotten_password_of_a_closed_account_is_reset_then_the_account_reopened(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    from integration.test_recovery_http import _links, _request, _reset

    account_id = await make_account(runtime)
    async with runtime.deps.store.unit() as uow:
        key = await access_keys.create(runtime.deps, uow, account_id, f"root:{account_id}")
    await _close_directly(runtime, account_id)
    assert _code(await _identity(client, (key.access_key_id, key.secret_access_key, None))) == "InvalidClientTokenId"
    await _request(client, captcha)
    (_, token), = _links(mailbox)
    r = await _reset(client, token, password="a new root password 1")
    assert r.status_code in (200, 303), r.text
    flow_url, r = await root_password(client, ROOT_EMAIL, "a new root password 1")
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.headers["location"] == flow_url
    r = await post_step(client, flow_url, "reopen")
    assert r.headers["location"] == "/console" and await _status(runtime, account_id) == "active"
    # the keys it had work again
    assert (await _identity(client, (key.access_key_id, key.secret_access_key, None))).status_code == 200
    # a suspended account's root user cannot reset the password (the operator decides): no link is mailed
    await account_lifecycle.suspend(runtime.deps, account_id, reason=None, contact=None)
    before = len(_links(mailbox))
    await _request(client, captcha)
    assert len(_links(mailbox)) == before


async def _fields(r: httpx.Response) -> tuple[str, str, str]:
    assert r.status_code == 200, r.text

    def field(name: str) -> str:
        match = re.search(rf"<{name}>([^<]+)</{name}>", r.text)
        assert match, name
        return match.group(1)

    return field("AccessKeyId"), field("SecretAccessKey"), field("SessionToken")


@pytest.mark.parametrize("end", ["suspend", "close"])
async def test_a_role_assumed_from_another_account_stops_when_the_source_account_is_suspended_or_closed(
        client: httpx.AsyncClient, runtime: Runtime, end: str) -> None:
    """Bob's IAM user assumed a role in Carol's account: suspending or closing Bob's account ends those role
    credentials (and his federation token) at their next request, though Carol's account stays active."""
    import json
    from urllib.parse import urlencode

    bob_id = await make_account(runtime, "bob@example.com", alias="bob")
    carol_id = await make_account(runtime, "carol@example.com", alias="carol")
    dev_id = await make_user(runtime, "bob", "dev")
    async with runtime.deps.store.unit() as uow:
        carol = await access_keys.create(runtime.deps, uow, carol_id, f"root:{carol_id}")
        bob = await access_keys.create(runtime.deps, uow, bob_id, f"root:{bob_id}")
        dev = await access_keys.create(runtime.deps, uow, bob_id, f"user:{dev_id}")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{bob_id}:root"}}]}
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for key, body in (
            (carol, {"Action": "CreateRole", "RoleName": "xacct", "AssumeRolePolicyDocument": json.dumps(trust)}),
            (carol, {"Action": "PutRolePolicy", "RoleName": "xacct", "PolicyName": "all",
                     "PolicyDocument": json.dumps(admin)}),
            (bob, {"Action": "PutUserPolicy", "UserName": "dev", "PolicyName": "all",
                   "PolicyDocument": json.dumps(admin)})):
        r = await _signed(client, key.access_key_id, key.secret_access_key,
                          urlencode({**body, "Version": "2010-05-08"}), service="iam")
        assert r.status_code == 200, r.text
    role = await _fields(await _signed(client, dev.access_key_id, dev.secret_access_key, urlencode({
        "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": f"arn:aws:iam::{carol_id}:role/xacct",
        "RoleSessionName": "xs"})))
    federated = await _fields(await _signed(client, dev.access_key_id, dev.secret_access_key, urlencode({
        "Action": "GetFederationToken", "Version": "2011-06-15", "Name": "fed"})))
    assert "assumed-role/xacct/xs" in (await _identity(client, role)).text
    assert (await _identity(client, federated)).status_code == 200
    made = await _signed(client, role[0], role[1], "Action=CreateUser&UserName=before&Version=2010-05-08",
                         role[2], service="iam")
    assert made.status_code == 200, made.text
    if end == "suspend":
        await account_lifecycle.suspend(runtime.deps, bob_id, reason=None, contact=None)
    else:
        await _close_directly(runtime, bob_id)
    assert await _status(runtime, carol_id) == "active"
    for temporary in (role, federated):
        refused = await _identity(client, temporary)
        assert refused.status_code == 403 and _code(refused) == "InvalidClientTokenId", refused.text
    refused = await _signed(client, role[0], role[1], "Action=CreateUser&UserName=after&Version=2010-05-08",
                            role[2], service="iam")
    assert refused.status_code == 403 and _code(refused) == "InvalidClientTokenId", refused.text
    # carol's own keys still work
    assert (await _identity(client, (carol.access_key_id, carol.secret_access_key, None))).status_code == 200


async def test_closure_code_mails_have_a_resend_wait_and_a_budget_and_a_resend_keeps_the_tries(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)

    def mails() -> int:
        return sum(1 for mail in mailbox.messages if mail.to == ROOT_EMAIL and "closure code" in mail.subject.lower())

    async def ask() -> httpx.Response:
        page = await client.get("/console/close")
        return await client.post("/console/close", data={"csrf_token": csrf_of(page.text), "step": "confirm",
                                                         "password": ROOT_PASSWORD, "confirm": "on"})

    first = await ask()
    assert first.status_code == 200 and 'id="close-code-form"' in first.text and mails() == 1
    code = last_code(mailbox, ROOT_EMAIL)
    again = await ask()  # at once: no new mail, the code form again with the wait
    assert again.status_code == 429 and 'id="close-code-form"' in again.text, again.text
    assert "still works" in error_of(again.text) and mails() == 1
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        r = await client.post("/console/close", data={"csrf_token": csrf_of(again.text), "step": "code",
                                                      "verification_code": wrong})
        assert r.status_code == 400
    clock.advance(61)
    resent = await ask()
    assert resent.status_code == 200 and mails() == 2
    async with runtime.deps.store.unit() as uow:
        row = await uow.lifecycle.get(account_id)
        assert row is not None and row.closure_code_attempts == 2, "a resend does not buy more guesses"
    # one account's budget: a resend every minute is refused long before twelve mails
    outcomes = []
    for _ in range(12):
        clock.advance(61)
        outcomes.append((await ask()).status_code)
    assert 429 in outcomes and mails() < 14, (outcomes, mails())
    assert await _status(runtime, account_id) == "active"
