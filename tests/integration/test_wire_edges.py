"""Edges of the AWS query endpoint seen through raw HTTP: ordering of auth errors, bad bytes, request IDs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _code(response: httpx.Response) -> str:
    root = ET.fromstring(response.text)
    code = root.find(".//{*}Code")
    assert code is not None and code.text
    return code.text


async def _root_key(runtime: Runtime) -> tuple[str, str]:
    async with runtime.deps.store.unit() as uow:
        created = await accounts.create_account(runtime.deps, uow, email="wire@example.com",
                                                password="root password 1")
        key = await access_keys.create(runtime.deps, uow, created.account_id, f"root:{created.account_id}")
    return key.access_key_id, key.secret_access_key


def _signed(body: bytes, key: tuple[str, str], service: str = "iam") -> dict[str, str]:
    request = AWSRequest(method="POST", url="http://testserver/", data=body, headers=FORM)
    SigV4Auth(Credentials(*key), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


async def test_unsigned_unknown_action_is_an_authentication_error(client: httpx.AsyncClient) -> None:
    r = await client.post("/", content=b"Action=NoSuchThing&Version=2010-05-08", headers=FORM)
    assert r.status_code == 403 and _code(r) == "MissingAuthenticationToken"
    assert r.headers["x-amzn-requestid"] in r.text


async def test_signed_unknown_action_is_invalid_action(client: httpx.AsyncClient, runtime: Runtime) -> None:
    body = b"Action=NoSuchThing&Version=2010-05-08"
    r = await client.post("/", content=body, headers=_signed(body, await _root_key(runtime)))
    assert r.status_code == 400 and _code(r) == "InvalidAction"


async def test_body_that_is_not_utf8_gets_a_400(client: httpx.AsyncClient, runtime: Runtime) -> None:
    body = b"Action=GetUser&Version=2010-05-08&UserName=\xff\xfe"
    r = await client.post("/", content=body, headers=_signed(body, await _root_key(runtime)))
    assert r.status_code == 400 and _code(r) == "MalformedQueryString"


async def test_control_characters_never_break_the_xml(client: httpx.AsyncClient, runtime: Runtime) -> None:
    body = b"Action=GetUser&Version=2010-05-08&UserName=%00abc%01"
    r = await client.post("/", content=body, headers=_signed(body, await _root_key(runtime)))
    assert r.status_code == 400 and _code(r) == "ValidationError"  # parses as XML: no raw control characters
