"""`vestibule federation oidc-signin add|list|remove`: the buttons of an account's IAM sign-in page, the checks
on the provider and client ID, the client secret read from a file and kept sealed (never printed), the audit
events, and the errors (exit 1 with one line)."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import pytest

from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from vestibule.runtime import build
from vestibule.services import audit
from vestibule.services.federation import console_oidc
from vestibule.settings import Settings
from vestibule.store.models import OidcProvider

URL = "idp.example.com/tenant"


async def _provider(settings: Settings, account_id: str, url: str = URL) -> str:
    """An IAM OIDC provider row, as CreateOpenIDConnectProvider stores it (the IAM API is tested elsewhere)."""
    rt = await build(settings)
    try:
        arn = f"arn:aws:iam::{account_id}:oidc-provider/{url}"
        async with rt.deps.store.unit() as uow:
            await uow.oidc_providers.add(OidcProvider(
                id="OIDP" + secrets.token_hex(8).upper(), account_id=account_id, url=url,
                issuer=f"https://{url}", arn=arn, client_ids=["console", "other"], thumbprints=[], created_at=0.0))
        return arn
    finally:
        await rt.close()


async def _secret_and_events(settings: Settings, account_id: str, arn: str) -> tuple[str | None, list[str]]:
    rt = await build(settings)
    try:
        async with rt.deps.store.unit() as uow:
            found = await console_oidc.registration(rt.deps, uow, account_id, arn)
            row = await uow.console_oidc_logins.get(account_id, arn)
            assert row is not None and row.client_secret_sealed and "hunter2" not in row.client_secret_sealed
            events = [audit.as_json_line(e) for e in await uow.audit.for_account(account_id)]
        return found.client_secret, events
    finally:
        await rt.close()


@pytest.fixture
def account(cli: Cli) -> str:  # noqa: F811
    created: str = cli.ok("account", "create", "--email", "oidc@example.com", "--password", "cli password 1",
                          "--alias", "oidc-team")["AccountId"]
    return created


def test_add_list_remove(cli: Cli, cli_env: Settings, account: str, tmp_path: Path) -> None:  # noqa: F811
    arn = asyncio.run(_provider(cli_env, account))
    secret = tmp_path / "secret"
    secret.write_text("hunter2 is long\n")
    added = cli.ok("federation", "oidc-signin", "add", "--account", "oidc-team", "--provider-arn", arn,
                   "--client-id", "console", "--client-secret-file", str(secret), "--label", " Example SSO ")
    assert added == {"AccountId": account, "ProviderArn": arn, "ClientId": "console", "Label": "Example SSO",
                     "ClientSecret": True, "SignInUrl": "http://testserver/oidc-team/console",
                     "RedirectUri": "http://testserver/oidc/callback"}
    shown = cli.ok("federation", "oidc-signin", "list", "--account", account)
    assert shown == {"AccountId": account, "OidcSignIns": [{k: v for k, v in added.items()
                                                            if k not in ("AccountId", "RedirectUri")}]}
    assert "hunter2" not in json.dumps(shown)
    opened, events = asyncio.run(_secret_and_events(cli_env, account, arn))
    assert opened == "hunter2 is long"
    assert any('"ConsoleOidcSignInAdded"' in e and '"has_client_secret": true' in e for e in events)
    assert not any("hunter2" in e for e in events)
    assert "already has a sign-in button" in cli.fails(
        "federation", "oidc-signin", "add", "--account", account, "--provider-arn", arn, "--client-id", "other",
        "--label", "Again")
    removed = cli.ok("federation", "oidc-signin", "remove", "--account", account, "--provider-arn", arn)
    assert removed == {"AccountId": account, "Removed": arn}
    assert cli.ok("federation", "oidc-signin", "list", "--account", account)["OidcSignIns"] == []
    assert "has no sign-in button" in cli.fails("federation", "oidc-signin", "remove", "--account", account,
                                                "--provider-arn", arn)
    public = cli.ok("federation", "oidc-signin", "add", "--account", account, "--provider-arn", arn,
                    "--client-id", "other", "--label", "Public client")
    assert public["ClientSecret"] is False
    _, events = asyncio.run(_secret_and_events_any(cli_env, account))
    assert any('"ConsoleOidcSignInRemoved"' in e for e in events)


async def _secret_and_events_any(settings: Settings, account_id: str) -> tuple[None, list[str]]:
    rt = await build(settings)
    try:
        async with rt.deps.store.unit() as uow:
            return None, [audit.as_json_line(e) for e in await uow.audit.for_account(account_id)]
    finally:
        await rt.close()


def test_refusals(cli: Cli, cli_env: Settings, account: str, tmp_path: Path) -> None:  # noqa: F811
    arn = asyncio.run(_provider(cli_env, account))
    other_account = cli.ok("account", "create", "--email", "else@example.com", "--password", "cli password 1")[
        "AccountId"]
    foreign = asyncio.run(_provider(cli_env, other_account, "idp.example.org"))

    def add(*extra: str, provider: str = arn, client_id: str = "console", account_ref: str = account) -> str:
        return cli.fails("federation", "oidc-signin", "add", "--account", account_ref, "--provider-arn", provider,
                         "--client-id", client_id, "--label", "Example", *extra)

    assert "no OIDC provider" in add(provider=foreign)
    assert "no OIDC provider" in add(provider=arn + "x")
    assert "is not a client ID of" in add(client_id="stranger")
    assert "no account" in add(account_ref="nosuchalias")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "is empty" in add("--client-secret-file", str(empty))
    assert "cannot read the client secret" in add("--client-secret-file", str(tmp_path / "missing"))
    assert "label" in cli.fails("federation", "oidc-signin", "add", "--account", account, "--provider-arn", arn,
                                "--client-id", "console", "--label", "x" * 65)
    assert "label" in cli.fails("federation", "oidc-signin", "add", "--account", account, "--provider-arn", arn,
                                "--client-id", "console", "--label", "bad\x07label")
    cli.fails("federation", "oidc-signin", "add", "--account", account, code=2)
    assert cli.ok("federation", "oidc-signin", "list", "--account", account)["OidcSignIns"] == []
