"""`vestibule sso user reset-password --identity-store-id d-... --user-name NAME (--mail | --one-time-password)`."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import pytest

from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from vestibule.runtime import build
from vestibule.services.identity_center import directory
from vestibule.services.identity_center.directory_profile import Email, UserProfile
from vestibule.settings import Settings
from vestibule.store.models import SsoInstance


async def _store_with_user(settings: Settings, account_id: str) -> tuple[str, str]:
    rt = await build(settings)
    try:
        store = f"d-{secrets.token_hex(5)}"
        async with rt.deps.store.unit() as uow:
            await uow.identity_center.add(SsoInstance(
                arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store,
                owner_account_id=account_id, name="cli", kind="ACCOUNT", status="ACTIVE", created_at=time.time(),
                settings="{}", tags="[]"))
            user = await directory.create_user(uow, store, "alice", UserProfile(
                emails=(Email(value="alice@example.com", primary=True),)), actor="test", now=time.time())
        return store, user.id
    finally:
        await rt.close()


async def _user(settings: Settings, store: str, user_id: str) -> directory.DirectoryUser | None:
    rt = await build(settings)
    try:
        async with rt.deps.store.unit() as uow:
            return await directory.get_user(uow, store, user_id)
    finally:
        await rt.close()


@pytest.fixture
def store(cli: Cli, cli_env: Settings) -> tuple[str, str]:  # noqa: F811
    account = cli.ok("account", "create", "--email", f"portal-{secrets.token_hex(4)}@example.com",
                     "--password", "cli password 1")["AccountId"]
    return asyncio.run(_store_with_user(cli_env, account))


def test_one_time_password(cli: Cli, cli_env: Settings, store: tuple[str, str]) -> None:  # noqa: F811
    store_id, user_id = store
    code, out, _err = cli("sso", "user", "reset-password", "--identity-store-id", store_id, "--user-name", "ALICE",
                          "--one-time-password")
    assert code == 0
    shown = json.loads(out)  # exactly one JSON object
    assert set(shown) == {"UserName", "OneTimePassword"} and len(shown["OneTimePassword"]) == 20
    user = asyncio.run(_user(cli_env, store_id, user_id))
    assert user is not None and user.password_must_change and user.password_hash
    assert shown["OneTimePassword"] not in user.password_hash and user.password_hash.startswith("$argon2id$")


def test_mail_and_errors(cli: Cli, cli_env: Settings, store: tuple[str, str]) -> None:  # noqa: F811
    store_id, user_id = store
    shown = cli.ok("sso", "user", "reset-password", "--identity-store-id", store_id, "--user-name", "alice", "--mail")
    assert shown == {"UserName": "alice", "MailedTo": "alice@example.com"}
    user = asyncio.run(_user(cli_env, store_id, user_id))
    assert user is not None and user.password_hash is None, "a mailed link changes nothing until it is used"
    assert "nobody" in cli.fails("sso", "user", "reset-password", "--identity-store-id", store_id,
                                 "--user-name", "nobody", "--mail")
    assert cli.fails("sso", "user", "reset-password", "--identity-store-id", store_id, "--user-name", "alice",
                     code=2)
