"""Edges of the AWS query endpoint seen through raw HTTP: ordering of auth errors, bad bytes, request IDs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vestibule.core import arns
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts
from vestibule.services.api_call import ApiCall
from vestibule.services.aws_identity import Caller
from vestibule.wire.calls import UndeclaredBehaviour, api_call, run
from vestibule.wire.operations import OperationTable

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


async def test_an_operation_that_skips_its_declared_authorization_or_audit_fails(runtime: Runtime) -> None:
    """The endpoint checks what the row declares: a handler that never authorizes its action, or never
    records its audit event, is answered as an internal failure, not a silent success."""
    key_id, _ = await _root_key(runtime)
    async with runtime.deps.store.unit() as uow:
        key = await uow.access_keys.get(key_id)
        assert key is not None
        account_id = key.account_id
    caller = Caller(account_id, arns.root_arn(account_id), account_id, "root", PrincipalRef.root(account_id), key_id)
    table: OperationTable[ApiCall, str] = OperationTable()

    @table.operation("Careless", action="iam:Careless", audit="Careless")
    async def careless(call: ApiCall) -> str:
        return "done"

    @table.operation("Careful", action="iam:Careful", audit="Careful")
    async def careful(call: ApiCall) -> str:
        async with call.unit() as uow:
            await call.authorize(uow, "*")
            await call.record(uow)
        return "done"

    @table.operation("Unrecorded", action="iam:Unrecorded", audit="Unrecorded")
    async def unrecorded(call: ApiCall) -> str:
        async with call.unit() as uow:
            await call.authorize(uow, "*")
        return "done"

    for name, outcome in (("Careless", None), ("Careful", "done"), ("Unrecorded", None)):
        row = table.rows[name]
        call = api_call(runtime.deps, caller, "iam", row, source_ip="192.0.2.1", secure=False)
        if outcome is None:
            with pytest.raises(UndeclaredBehaviour):
                await run(row, call, call)
        else:
            assert await run(row, call, call) == outcome
