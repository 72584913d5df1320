"""The basic root and IAM sign-in paths through the in-process app."""

from __future__ import annotations

import httpx

from support import csrf_of, last_code
from vestibule.runtime import Runtime
from vestibule.services import accounts, iam_users
from vestibule.services.mail import DevMailbox


async def _account(runtime: Runtime, email: str = "owner@example.com", alias: str | None = "acme") -> str:
    async with runtime.deps.store.unit() as uow:
        created = await accounts.create_account(runtime.deps, uow, email=email, password="root password 1",
                                                alias=alias)
    return created.account_id


async def test_root_sign_in_with_mailed_code_then_sign_out(client: httpx.AsyncClient, runtime: Runtime,
                                                           mailbox: DevMailbox) -> None:
    account_id = await _account(runtime)
    page = await client.get("/")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                     "email": "Owner@Example.com"})
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
    flow_url = r.headers["location"]
    page = await client.get(flow_url)
    assert 'name="password"' in page.text
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": "root password 1"})
    assert r.status_code == 303
    page = await client.get(flow_url)
    assert 'name="verification_code"' in page.text
    code = last_code(mailbox, "owner@example.com")
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                          "verification_code": code})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    home = await client.get("/console")
    assert home.status_code == 200
    formatted = f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"
    assert formatted in home.text and f"arn:aws:iam::{account_id}:root" in home.text
    r = await client.post("/signout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303
    assert (await client.get("/console")).status_code == 303


async def test_iam_user_forced_password_change(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await _account(runtime)
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, "acme")
        await iam_users.create_user(runtime.deps, uow, account, "alice", password="first password",
                                    password_reset_required=True)
    page = await client.get("/acme/console")
    r = await client.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                 "password": "first password"})
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow=")
    flow_url = r.headers["location"]
    assert (await client.get("/console")).status_code == 303  # no session before the change
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "new_password",
                                          "new_password": "second password", "confirm_password": "second password"})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    home = await client.get("/console")
    assert "arn:aws:iam::" in home.text and ":user/alice" in home.text
