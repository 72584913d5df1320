"""`vestibule sso scim-token create|list|revoke`: create prints one JSON object with the Token (shown once), which
authenticates SCIM requests for that identity store until revoked; list never shows a secret."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import httpx
import pytest

from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from vestibule.app import create_app
from vestibule.runtime import build
from vestibule.settings import Settings
from vestibule.store.models import SsoInstance


async def _instance(settings: Settings, account_id: str) -> str:
    """An instance row made straight in the store (SSO Admin is tested elsewhere); its identity store ID."""
    rt = await build(settings)
    try:
        store = f"d-{secrets.token_hex(5)}"
        async with rt.deps.store.unit() as uow:
            await uow.identity_center.add(SsoInstance(
                arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store,
                owner_account_id=account_id, name="cli", kind="ACCOUNT", status="ACTIVE", created_at=time.time(),
                settings="{}", tags="[]"))
        return store
    finally:
        await rt.close()


async def _status(settings: Settings, token: str) -> int:
    rt = await build(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(rt, close_runtime=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
            return response.status_code
    finally:
        await rt.close()


@pytest.fixture
def identity_store(cli: Cli, cli_env: Settings) -> str:  # noqa: F811
    account = cli.ok("account", "create", "--email", f"scim-{secrets.token_hex(4)}@example.com",
                     "--password", "cli password 1")["AccountId"]
    return asyncio.run(_instance(cli_env, account))


def test_create_list_revoke(cli: Cli, cli_env: Settings, identity_store: str) -> None:  # noqa: F811
    code, out, _ = cli("sso", "scim-token", "create", "--identity-store-id", identity_store, "--expires-in-days", "7")
    assert code == 0
    made = json.loads(out)  # exactly one JSON object
    assert set(made) == {"Token", "TokenId", "IdentityStoreId", "CreatedAt", "ExpiresAt"}
    assert made["Token"].startswith("vscim_") and made["IdentityStoreId"] == identity_store
    assert made["ExpiresAt"] is not None
    assert asyncio.run(_status(cli_env, made["Token"])) == 200
    listed = cli.ok("sso", "scim-token", "list", "--identity-store-id", identity_store)["ScimTokens"]
    assert [(t["TokenId"], t["Status"]) for t in listed] == [(made["TokenId"], "ACTIVE")]
    assert listed[0]["LastUsedAt"] is not None and made["Token"] not in json.dumps(listed)
    assert cli.ok("sso", "scim-token", "revoke", "--identity-store-id", identity_store, "--token-id",
                  made["TokenId"]) == {"TokenId": made["TokenId"], "Status": "REVOKED"}
    assert asyncio.run(_status(cli_env, made["Token"])) == 401
    cli.fails("sso", "scim-token", "revoke", "--identity-store-id", identity_store, "--token-id", made["TokenId"])


def test_refusals(cli: Cli, identity_store: str) -> None:  # noqa: F811
    cli.fails("sso", "scim-token", "create", "--identity-store-id", "d-0000000000")
    cli.fails("sso", "scim-token", "create", "--identity-store-id", identity_store, "--expires-in-days", "0")
    cli.fails("sso", "scim-token", "create", code=2)
    cli.fails("sso", "scim-token", "list", "--identity-store-id", "d-0000000000")
    no_expiry = cli.ok("sso", "scim-token", "create", "--identity-store-id", identity_store)
    assert no_expiry["ExpiresAt"] is None
