"""Access keys created on the console sign AWS API calls; deactivating one on the console stops it."""

from __future__ import annotations

import re

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from support import csrf_of
from vestibule.runtime import Runtime
from vestibule.services import accounts, iam_users


async def _signed_caller_identity(client: httpx.AsyncClient, key_id: str, secret: str) -> httpx.Response:
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url="http://testserver/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key_id, secret), "sts", "us-east-1").add_auth(request)
    return await client.post("/", content=body, headers=dict(request.headers.items()))


async def test_console_key_signs_api_calls_until_deactivated(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.deps.store.unit() as uow:
        created = await accounts.create_account(runtime.deps, uow, email="keys@example.com",
                                                password="root password 1", alias="keys-co")
        account = await accounts.require(uow, "keys-co")
        await iam_users.create_user(runtime.deps, uow, account, "dev", password="dev password 1")
    page = await client.get("/keys-co/console")
    r = await client.post("/keys-co/console", data={"csrf_token": csrf_of(page.text), "username": "dev",
                                                    "password": "dev password 1"})
    assert r.headers["location"] == "/console"
    security = await client.get("/console/security")
    assert 'id="create-access-key"' in security.text
    shown = await client.post("/console/access-keys/new", data={"csrf_token": csrf_of(security.text),
                                                                "password": "dev password 1"})
    assert shown.status_code == 200 and "no-store" in shown.headers["cache-control"]
    key_match = re.search(r'id="new-access-key-id">(AKIA[A-Z2-7]{16})<', shown.text)
    secret_match = re.search(r'id="new-secret-access-key">([^<]{40})<', shown.text)
    assert key_match and secret_match
    key_id, secret = key_match.group(1), secret_match.group(1)

    ok = await _signed_caller_identity(client, key_id, secret)
    assert ok.status_code == 200
    assert f"<Arn>arn:aws:iam::{created.account_id}:user/dev</Arn>" in ok.text

    security = await client.get("/console/security")
    assert key_id in security.text and secret not in security.text
    r = await client.post("/console/access-keys/update", data={"csrf_token": csrf_of(security.text),
                                                               "access_key_id": key_id, "action": "deactivate"})
    assert r.status_code == 303
    refused = await _signed_caller_identity(client, key_id, secret)
    assert refused.status_code == 403 and "<Code>InvalidClientTokenId</Code>" in refused.text
