"""Helpers for the real-client AWS tests: the live server with a clock the tests can move,
accounts and root access keys made in the server's own event loop, and boto3 clients pointed at it.

Every test makes its own account (unique e-mail and alias), so tests in a module share the server
and the database without seeing each other's users, roles or keys."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import botocore.auth
import botocore.config
import pyotp
import pytest

from support import LiveServer
from vestibule.core.throttle import Scope, ThrottleKey
from vestibule.services import access_keys, accounts, cli_login, iam_users
from vestibule.services.context import Client, Deps
from vestibule.services.identity_center import sso_oidc

T = TypeVar("T")
MASTER_KEY = "11" * 32
ROOT_PASSWORD = "root password 1"
REGION = "us-east-1"


class ShiftableClock:
    """The server's clock: real time plus an offset the tests move (and put back)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    @classmethod
    def of(cls, credentials: dict[str, Any]) -> Keys:
        """From an STS `Credentials` or IAM `AccessKey` shape."""
        return cls(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials.get("SessionToken"))


@dataclass
class Account:
    account_id: str
    alias: str
    email: str
    root: Keys
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def user_arn(self, name: str, path: str = "/") -> str:
        return f"arn:aws:iam::{self.account_id}:user{path}{name}"


class AwsWorld:
    """The live server and what the tests need around it."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.clock = ShiftableClock()
        live.runtime.deps.clock = self.clock
        self._session = boto3.session.Session(region_name=REGION)  # one model loader for every client

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def deps(self) -> Deps:
        return self.live.runtime.deps

    def run(self, fn: Callable[[Deps], Coroutine[Any, Any, T]]) -> T:
        """Run `fn(deps)` in the server's own event loop (its engine and connections live there)."""
        loop = self.live.server.servers[0].get_loop()
        return asyncio.run_coroutine_threadsafe(fn(self.deps), loop).result(60)

    # ---- data made directly through the services ---------------------------------------------

    def new_account(self, alias: str | None = None) -> Account:
        tag = uuid.uuid4().hex[:10]
        alias = alias or f"acct-{tag}"
        email = f"owner-{tag}@example.com"

        async def make(deps: Deps) -> Account:
            async with deps.store.unit() as uow:
                created = await accounts.create_account(deps, uow, email=email, password=ROOT_PASSWORD, alias=alias)
                key = await access_keys.create(deps, uow, created.account_id, f"root:{created.account_id}")
            return Account(created.account_id, alias, email, Keys(key.access_key_id, key.secret_access_key))

        return self.run(make)

    def service_user(self, account: Account, name: str, password: str | None = None) -> Keys:
        """An IAM user made through the services (as `vestibule iam-user create` does), with one access key."""

        async def make(deps: Deps) -> Keys:
            async with deps.store.unit() as uow:
                acct = await accounts.require(uow, account.account_id)
                user = await iam_users.create_user(deps, uow, acct, name, password=password)
                key = await access_keys.create(deps, uow, acct.id, f"user:{user.id}")
            return Keys(key.access_key_id, key.secret_access_key)

        return self.run(make)

    def clear_signin_failures(self, ip: str = "127.0.0.1") -> None:
        """Sign-in failures count per client address (towards a CAPTCHA after three, in the database or
        Redis, for an hour); every request of these tests comes from 127.0.0.1, so tests that sign in on
        the console start from a clean count."""

        async def reset(deps: Deps) -> None:
            await deps.throttle.settle([ThrottleKey(Scope.CLIENT, ip)], ())

        self.run(reset)

    def clear_request_budgets(self, ip: str = "127.0.0.1") -> None:
        """The per-address budgets of anonymous requests (SSO-OIDC registrations and device requests, the CLI
        login's /v1/authorize, refused CreateOAuth2Token calls) live in the database when there is no Redis and
        outlast a module; every request of these tests comes from 127.0.0.1."""
        client = Client(ip=ip)

        async def reset(deps: Deps) -> None:
            await deps.throttle.settle([*sso_oidc.request_keys(client), *cli_login.token_keys(client)], ())

        self.run(reset)

    # ---- clients ------------------------------------------------------------------------------

    def client(self, service: str, keys: Keys, *, validate: bool = True) -> Any:
        config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1},
                                        parameter_validation=validate, connect_timeout=10, read_timeout=20)
        return self._session.client(service, endpoint_url=self.url, region_name=REGION, config=config,
                                    aws_access_key_id=keys.access_key_id,
                                    aws_secret_access_key=keys.secret_access_key,
                                    aws_session_token=keys.session_token)

    def iam(self, keys: Keys, **kw: Any) -> Any:
        return self.client("iam", keys, **kw)

    def sts(self, keys: Keys, **kw: Any) -> Any:
        return self.client("sts", keys, **kw)

    def identitystore(self, keys: Keys, **kw: Any) -> Any:
        return self.client("identitystore", keys, **kw)

    def new_identity_store(self, account: Account) -> str:
        """The account's Identity Center instance (SSO Admin CreateInstance): its identity store ID."""
        sso = self.client("sso-admin", account.root)
        arn = sso.create_instance(Name=f"ic-{account.alias}")["InstanceArn"]
        return str(sso.describe_instance(InstanceArn=arn)["IdentityStoreId"])

    def new_directory_user(self, account: Account, identity_store_id: str, user_name: str, **attributes: Any) -> str:
        """A directory user made with the account root's keys (CreateUser): its user ID."""
        attributes.setdefault("DisplayName", user_name)
        created = self.identitystore(account.root).create_user(IdentityStoreId=identity_store_id,
                                                               UserName=user_name, **attributes)
        return str(created["UserId"])

    def organizations(self, keys: Keys, **kw: Any) -> Any:
        return self.client("organizations", keys, **kw)

    def new_organization(self, account: Account) -> dict[str, Any]:
        """An organization (FeatureSet ALL) with `account` as its management account: its Organization shape."""
        organization: dict[str, Any] = self.organizations(account.root).create_organization()["Organization"]
        return organization

    def new_member_account(self, management: Account, name: str | None = None) -> tuple[str, str]:
        """A member account made by CreateAccount in `management`'s organization: (account ID, root email)."""
        tag = uuid.uuid4().hex[:10]
        email = f"member-{tag}@example.com"
        status = self.organizations(management.root).create_account(Email=email, AccountName=name or f"member {tag}")
        assert status["CreateAccountStatus"]["State"] == "SUCCEEDED", status
        return str(status["CreateAccountStatus"]["AccountId"]), email

    # ---- common set-ups through the API ---------------------------------------------------------

    def api_user(self, account: Account, name: str, *policies: str) -> Keys:
        """An IAM user created with the root's keys, with the managed policies attached and one key."""
        iam = self.iam(account.root)
        iam.create_user(UserName=name)
        for arn in policies:
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        return Keys.of(iam.create_access_key(UserName=name)["AccessKey"])

    def enable_virtual_mfa(self, iam: Any, name: str, user_name: str | None = None) -> tuple[str, pyotp.TOTP]:
        """CreateVirtualMFADevice + EnableMFADevice with codes of the two previous 30 s steps.

        The device's last used step is then the previous one, so codes of the current and the
        next step are still fresh for one use each (no waiting for the next step)."""
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
        totp = pyotp.TOTP(device["Base32StringSeed"].decode())
        now = self.clock()
        enable: dict[str, Any] = {"SerialNumber": device["SerialNumber"],
                                  "AuthenticationCode1": totp.at(now - 60), "AuthenticationCode2": totp.at(now - 30)}
        if user_name:
            enable["UserName"] = user_name
        iam.enable_mfa_device(**enable)
        return device["SerialNumber"], totp

    def enable_root_mfa(self, account: Account, name: str) -> str:
        """A virtual device made through the API and assigned to the root user in-process, as the console's
        enrolment does: EnableMFADevice names an IAM user (its `UserName` is required, as the model says)."""
        serial = str(self.iam(account.root).create_virtual_mfa_device(
            VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"])

        async def assign(deps: Deps) -> None:
            async with deps.store.unit() as uow:
                device = await uow.mfa.by_serial(serial)
                assert device is not None
                device.principal_key, device.enabled_at = f"root:{account.account_id}", deps.clock()

        self.run(assign)
        return serial

    # ---- time travel ------------------------------------------------------------------------------

    def shift(self, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
        """Move the server's clock and botocore's signing clock together by `seconds`.

        The server checks the SigV4 request time against its own clock (5 minutes either way),
        so a request to a server living in the future must be signed in that future too."""
        self.clock.offset = seconds
        def shifted(remove_tzinfo: bool = True) -> datetime:
            moment = datetime.now(UTC) + timedelta(seconds=seconds)
            return moment.replace(tzinfo=None) if remove_tzinfo else moment

        monkeypatch.setattr(botocore.auth, "get_current_datetime", shifted)


def error_code(exc: Any) -> str:
    return str(exc.response["Error"]["Code"])


def at_once(calls: list[Callable[[], Any]]) -> list[str]:
    """Run the calls in threads released together; each answers "ok" or its error code."""
    from botocore.exceptions import ClientError

    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> str:
        barrier.wait()
        try:
            call()
        except ClientError as exc:
            return error_code(exc)
        return "ok"

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
