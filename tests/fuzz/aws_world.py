"""The server the AWS fuzz suite talks to: the app in process (httpx over ASGI), one account with entities of
every kind the IAM and STS operations name, and three callers (the root user's key, an administrator's key
and temporary credentials of a role session), each request signed by botocore's own SigV4 signer."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import httpx

from fuzz.aws_inputs import Pools
from support import CHEAP_HASH
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services import access_keys, accounts
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings

BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
PASSWORD = "a fine password 1"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
T = TypeVar("T")


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def _doc(action: str, resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                               "Resource": resource}]})


def _trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
                                                               "Action": "sts:AssumeRole"}]})


def signed_request(method: str, body: bytes, keys: Keys, signing_name: str, headers: dict[str, str] | None = None,
                   *, path: str = "/", form: bool = True) -> httpx.Request:
    """Signed for `signing_name`: `body` as a form POST (or, with `form=False`, as it is), or as the query
    string of a form GET."""
    url = BASE + path
    if form and method == "GET" and body:
        url += f"?{body.decode('ascii')}"
    data = b"" if form and method == "GET" else body
    extra = {"Content-Type": FORM} if form and method == "POST" else {}
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=data, headers={**extra, **(headers or {})})
    credentials = botocore.credentials.Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    botocore.auth.SigV4Auth(credentials, signing_name, "us-east-1").add_auth(request)
    return httpx.Request(method, url, content=data, headers=raw_headers(list(request.headers.items())))


def raw_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header bytes: latin-1 where the text allows (as HTTP/1.1 carries it), else its UTF-8 bytes."""
    def encoded(value: str) -> bytes:
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            return value.encode("utf-8")

    return [(name.encode("latin-1"), encoded(value)) for name, value in headers]


def error_code(response: httpx.Response) -> str:
    root = ET.fromstring(response.text)
    return root.findtext(".//{*}Code") or ""


class FuzzWorld:
    def __init__(self, runtime: Runtime, client: httpx.AsyncClient, runner: asyncio.Runner, tag: str) -> None:
        self.runtime = runtime
        self.client = client
        self.runner = runner
        self.tag = tag  # makes the account's e-mail and alias unique in a database other suites also use
        self.pools = Pools()
        self.callers: dict[str, Keys] = {}

    @classmethod
    async def open(cls, settings: Settings, runner: asyncio.Runner, tag: str) -> FuzzWorld:
        from vestibule.app import create_app

        runtime = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
        app = create_app(runtime, close_runtime=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.51.100.20", 40000)),
                                   base_url=BASE)
        world = cls(runtime, client, runner, tag)
        await world.populate()
        return world

    async def close(self) -> None:
        await self.client.aclose()
        await self.runtime.close()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the module's event loop (where the runtime's engine and connections live)."""
        return self.runner.run(work)

    async def call(self, keys: Keys, service: str, action: str, **params: str) -> str:
        version = "2011-06-15" if service == "sts" else "2010-05-08"
        body = urlencode({"Action": action, "Version": version, **params}).encode()
        response = await self.client.send(signed_request("POST", body, keys, service))
        assert response.status_code == 200, (action, response.text)
        return response.text

    async def populate(self) -> None:
        deps = self.runtime.deps
        async with deps.store.unit() as uow:
            created = await accounts.create_account(deps, uow, email=f"fuzz-{self.tag}@example.com",
                                                    password=PASSWORD, alias=f"fuzz-{self.tag}")
            key = await access_keys.create(deps, uow, created.account_id, f"root:{created.account_id}")
        account_id = created.account_id
        root = Keys(key.access_key_id, key.secret_access_key)
        iam = "iam"
        await self.call(root, iam, "CreateUser", UserName="fuzz-admin")
        await self.call(root, iam, "AttachUserPolicy", UserName="fuzz-admin", PolicyArn=ADMIN)
        admin = _keys_in(await self.call(root, iam, "CreateAccessKey", UserName="fuzz-admin"))
        await self.call(root, iam, "CreateUser", UserName="alice", Path="/team/", **{
            "Tags.member.1.Key": "team", "Tags.member.1.Value": "blue"})
        await self.call(root, iam, "CreateLoginProfile", UserName="alice", Password=PASSWORD)
        alice_key = _keys_in(await self.call(root, iam, "CreateAccessKey", UserName="alice"))
        await self.call(root, iam, "CreateGroup", GroupName="devs")
        await self.call(root, iam, "AddUserToGroup", GroupName="devs", UserName="alice")
        await self.call(root, iam, "PutUserPolicy", UserName="alice", PolicyName="inline",
                        PolicyDocument=_doc("iam:GetUser"))
        await self.call(root, iam, "PutGroupPolicy", GroupName="devs", PolicyName="inline",
                        PolicyDocument=_doc("iam:ListUsers"))
        policy_arn = _text_of(await self.call(root, iam, "CreatePolicy", PolicyName="fuzz-policy",
                                              PolicyDocument=_doc("iam:Get*")), "Arn")
        role_arn = _text_of(await self.call(root, iam, "CreateRole", RoleName="ops", AssumeRolePolicyDocument=_trust(
            f"arn:aws:iam::{account_id}:user/fuzz-admin")), "Arn")
        await self.call(root, iam, "AttachRolePolicy", RoleName="ops", PolicyArn=ADMIN)
        await self.call(root, iam, "PutRolePolicy", RoleName="ops", PolicyName="inline",
                        PolicyDocument=_doc("iam:List*"))
        serial = _text_of(await self.call(root, iam, "CreateVirtualMFADevice", VirtualMFADeviceName="fuzz-device"),
                          "SerialNumber")
        session = _keys_in(await self.call(admin, "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="fuzz"))
        self.callers = {"root": root, "admin": admin, "role-session": session}

        p = self.pools
        p.add("UserName", "alice", "nobody", account_id)
        p.add("GroupName", "devs", "nogroup")
        p.add("RoleName", "ops", "norole")
        p.add("PolicyName", "inline", "fuzz-policy", "nopolicy")
        p.add("PolicyArn", policy_arn, "arn:aws:iam::aws:policy/ReadOnlyAccess", ADMIN,
              f"arn:aws:iam::{account_id}:policy/none", "arn:aws:iam::123456789012:policy/other")
        p.add("arn", policy_arn, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        p.add("RoleArn", role_arn, f"arn:aws:iam::{account_id}:role/norole", "arn:aws:iam::123456789012:role/x")
        p.add("SerialNumber", serial, f"arn:aws:iam::{account_id}:mfa/none")
        p.add("AccessKeyId", alice_key.access_key_id, "AKIAIOSFODNN7EXAMPLE")
        p.add("VirtualMFADeviceName", "fuzz-device-2", "fuzz-device")
        for name in ("PolicyDocument", "Policy"):
            p.add(name, _doc("iam:GetUser"), _doc("*"), '{"Version":"2012-10-17","Statement":[]}', "{}", "[]",
                  '{"Statement":{"Effect":"Deny","NotAction":"x","NotResource":"*"}}')
        p.add("AssumeRolePolicyDocument", _trust(account_id), _trust("*"))
        p.add("PolicyDocument", _trust(f"arn:aws:iam::{account_id}:user/fuzz-admin"))
        p.add("AccountAlias", f"fuzz-{self.tag}", f"fuzz-{self.tag}-2")
        for name in ("Password", "OldPassword", "NewPassword"):
            p.add(name, PASSWORD, "another fine password 2", "short")
        p.add("Marker", "1", "2", "0")
        p.add("MaxItems", "1", "2")
        for name in ("TokenCode", "AuthenticationCode1", "AuthenticationCode2"):
            p.add(name, "123456", "000000")
        p.add("RoleSessionName", "s1", "fuzz-session")
        p.add("Path", "/", "/team/")
        p.add("PathPrefix", "/", "/team/")
        p.add("Key", "team", "aws:reserved")
        p.add("Value", "blue", "")
        p.add("Status", "Active", "Inactive")
        p.add("Name", "fuzz-federated")


def _text_of(xml: str, tag: str) -> str:
    found = ET.fromstring(xml).findtext(f".//{{*}}{tag}")
    assert found, (tag, xml)
    return found


def _keys_in(xml: str) -> Keys:
    return Keys(_text_of(xml, "AccessKeyId"), _text_of(xml, "SecretAccessKey"),
                ET.fromstring(xml).findtext(".//{*}SessionToken"))


def check_answer(response: httpx.Response, protocol: str) -> None:
    """No server error, no stack trace, and an answer in the protocol's shape: XML for the query protocol (an
    ErrorResponse with a code for every 4xx), JSON with `__type` for errors of the JSON protocols."""
    text = response.text
    assert response.status_code < 500, (response.status_code, text[:2000])
    assert "Traceback" not in text and 'File "/' not in text, text[:2000]
    if protocol == "query":
        root = ET.fromstring(text)
        if response.status_code >= 400:
            assert root.tag.endswith("ErrorResponse") and root.findtext(".//{*}Code"), text[:2000]
    elif response.status_code >= 400:
        assert json.loads(text).get("__type"), text[:2000]
