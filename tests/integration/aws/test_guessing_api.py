"""Guessing budgets through the AWS API with boto3 (issue 7 items 4 and 6): MFA codes of GetSessionToken,
AssumeRole, EnableMFADevice and ResyncMFADevice go through the console's one TOTP check (counted per device
and principal, slowed, then refused with Throttling, each failure audited), and ChangePassword's old password
is a sign-in guess on the user's own counter; a password changed through the API ends console sessions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pyotp
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from support import csrf_of
from vestibule.core.throttle import CODE_REFUSAL_SECONDS, RULES, WINDOW_SECONDS, Scope
from vestibule.services.context import Deps
from vestibule.store.models import AuditEvent

CODES = RULES[Scope.CODES]
PASSWORD = "user password 1"


def _failures(world: AwsWorld, account_id: str, event: str, result: str = "Failure") -> list[AuditEvent]:
    async def read(deps: Deps) -> list[AuditEvent]:
        async with deps.store.unit() as uow:
            return list(await uow.audit.for_account(account_id, limit=10_000))

    return [e for e in world.run(read) if e.event == event and e.result == result]


def _refused(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value


class Later:
    """Moves the server's (and botocore's signing) clock forward, step by step."""

    def __init__(self, world: AwsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
        self.world, self.monkeypatch, self.offset = world, monkeypatch, 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.world.shift(self.monkeypatch, self.offset)


def _wrong(totp: Any, world: AwsWorld) -> str:
    now = world.clock()
    valid = {totp.at(now + k * 30) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def _user_with_device(world: AwsWorld, account: Account, name: str) -> tuple[Keys, str, Any]:
    iam = world.iam(account.root)
    keys = world.api_user(account, name)
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    serial, totp = world.enable_virtual_mfa(iam, f"{name}-phone", user_name=name)
    return keys, serial, totp


def test_session_token_codes_are_slowed_refused_and_audited(world: AwsWorld, account: Account,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    keys, serial, totp = _user_with_device(world, account, "alice")
    sts = world.sts(keys)
    later = Later(world, monkeypatch)
    for failures in range(10):
        later.advance(CODES.delay(failures))
        err = _refused(sts.get_session_token, SerialNumber=serial, TokenCode=_wrong(totp, world))
        assert error_code(err) == "AccessDenied", (failures, err.response["Error"])
    assert len(_failures(world, account.account_id, "GetSessionToken")) == 10

    err = _refused(sts.get_session_token, SerialNumber=serial, TokenCode=totp.at(world.clock()))
    assert error_code(err) == "Throttling" and err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["Error"]["Message"] == "Rate exceeded"
    later.advance(CODE_REFUSAL_SECONDS - 60)
    err = _refused(sts.get_session_token, SerialNumber=serial, TokenCode=totp.at(world.clock()))
    assert error_code(err) == "Throttling", "the right code does not work while refused"
    assert len(_failures(world, account.account_id, "GetSessionToken")) == 10, "refusals check nothing"

    later.advance(61)
    credentials = sts.get_session_token(SerialNumber=serial, TokenCode=totp.at(world.clock()))["Credentials"]
    assert credentials["SessionToken"]
    err = _refused(sts.get_session_token, SerialNumber=serial, TokenCode=_wrong(totp, world))
    assert error_code(err) == "AccessDenied", "the success cleared the count: a wrong code is checked again"


def test_console_and_api_guesses_share_the_principal_budget(world: AwsWorld, account: Account,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Five wrong codes through AssumeRole, five on the console: the eleventh, the right one, is refused
    in both places."""
    world.clear_signin_failures()
    keys, serial, totp = _user_with_device(world, account, "bob")
    iam = world.iam(account.root)
    role = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": account.user_arn("bob")}}]}))["Role"]["Arn"]
    sts = world.sts(keys)
    later = Later(world, monkeypatch)
    for _ in range(5):
        err = _refused(sts.assume_role, RoleArn=role, RoleSessionName="ops-session", SerialNumber=serial,
                       TokenCode=_wrong(totp, world))
        assert error_code(err) == "AccessDenied"
    assert len(_failures(world, account.account_id, "AssumeRole")) == 5

    async def console() -> int:
        async with httpx.AsyncClient(base_url=world.url) as browser:
            page = await browser.get(f"/{account.alias}/console")
            r = await browser.post(f"/{account.alias}/console", data={
                "csrf_token": csrf_of(page.text), "username": "bob", "password": PASSWORD})
            flow_url = r.headers["location"]
            for failures in range(5, 10):
                later.advance(CODES.delay(failures))
                page = await browser.get(flow_url)
                r = await browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "mfa",
                                                       "mfa_code": _wrong(totp, world)})
                assert r.status_code in (200, 410), (failures, r.status_code)
            r = await browser.post(f"/{account.alias}/console", data={
                "csrf_token": csrf_of((await browser.get(f"/{account.alias}/console")).text), "username": "bob",
                "password": PASSWORD})
            flow_url = r.headers["location"]
            page = await browser.get(flow_url)
            r = await browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "mfa",
                                                   "mfa_code": totp.at(world.clock())})
            return r.status_code

    assert asyncio.run(console()) == 429
    err = _refused(sts.assume_role, RoleArn=role, RoleSessionName="ops-session", SerialNumber=serial,
                   TokenCode=totp.at(world.clock()))
    assert error_code(err) == "Throttling"


def test_enrolment_and_resync_codes_are_counted_and_audited(world: AwsWorld, account: Account,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="carol")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    later = Later(world, monkeypatch)
    for failures in range(10):
        later.advance(CODES.delay(failures))
        err = _refused(iam.enable_mfa_device, UserName="carol", SerialNumber=serial,
                       AuthenticationCode1=_wrong(totp, world), AuthenticationCode2=_wrong(totp, world))
        assert error_code(err) == "InvalidAuthenticationCode", failures
    now = world.clock()
    err = _refused(iam.enable_mfa_device, UserName="carol", SerialNumber=serial,
                   AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    assert error_code(err) == "Throttling"
    assert len(_failures(world, account.account_id, "EnableMFADevice")) == 10
    later.advance(CODE_REFUSAL_SECONDS + 1)
    now = world.clock()
    iam.enable_mfa_device(UserName="carol", SerialNumber=serial, AuthenticationCode1=totp.at(now - 30),
                          AuthenticationCode2=totp.at(now))
    err = _refused(iam.resync_mfa_device, UserName="carol", SerialNumber=serial,
                   AuthenticationCode1=_wrong(totp, world), AuthenticationCode2=_wrong(totp, world))
    assert error_code(err) == "InvalidAuthenticationCode"
    assert len(_failures(world, account.account_id, "ResyncMFADevice")) == 1


async def _console_failures(world: AwsWorld, account: Account, name: str, n: int) -> None:
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=world.url, transport=transport) as attacker:
        for _ in range(n):
            page = await attacker.get(f"/{account.alias}/console")
            await attacker.post(f"/{account.alias}/console", data={
                "csrf_token": csrf_of(page.text), "username": name, "password": "wrong password 0"})


def test_change_password_shares_the_user_sign_in_counter(world: AwsWorld, account: Account,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Three wrong passwords on the console (from another address) and the user's ChangePassword is refused,
    the right old password too, until the window has passed; its own wrong guesses count on the console."""
    world.clear_signin_failures()
    iam = world.iam(account.root)
    keys = world.api_user(account, "dave")
    iam.create_login_profile(UserName="dave", Password=PASSWORD)
    asyncio.run(_console_failures(world, account, "dave", 3))
    me = world.iam(keys)
    err = _refused(me.change_password, OldPassword=PASSWORD, NewPassword="amber lantern quietly 2")
    assert error_code(err) == "Throttling"
    Later(world, monkeypatch).advance(WINDOW_SECONDS + 1)
    me.change_password(OldPassword=PASSWORD, NewPassword="amber lantern quietly 2")
    world.clear_signin_failures()


def test_change_password_through_the_api_ends_console_sessions(world: AwsWorld, account: Account) -> None:
    world.clear_signin_failures()
    iam = world.iam(account.root)
    keys = world.api_user(account, "erin")
    iam.create_login_profile(UserName="erin", Password=PASSWORD)

    async def signed_in() -> httpx.Cookies:
        async with httpx.AsyncClient(base_url=world.url) as browser:
            page = await browser.get(f"/{account.alias}/console")
            r = await browser.post(f"/{account.alias}/console", data={
                "csrf_token": csrf_of(page.text), "username": "erin", "password": PASSWORD})
            assert r.status_code == 303 and r.headers["location"] == "/console"
            assert (await browser.get("/console")).status_code == 200
            return browser.cookies

    async def console_status(cookies: httpx.Cookies) -> int:
        async with httpx.AsyncClient(base_url=world.url, cookies=cookies) as browser:
            return (await browser.get("/console")).status_code

    cookies = asyncio.run(signed_in())
    world.iam(keys).change_password(OldPassword=PASSWORD, NewPassword="amber lantern quietly 3")
    assert asyncio.run(console_status(cookies)) == 303, "the console session ended with the API's change"
    changed = _failures(world, account.account_id, "PasswordChanged", "Success")
    assert [e.detail.get("sessions_ended") for e in changed] == [1]
