"""`vestibule sso settings show|set`: an Identity Center instance's portal, MFA and onboarding settings, their
secure defaults, their validation (exit 1 with one message line) and the unique custom portal subdomain."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from vestibule.runtime import build
from vestibule.settings import Settings
from vestibule.store.models import SsoInstance


async def _instance(settings: Settings, account_id: str) -> tuple[str, str]:
    """An instance row made straight in the store, for an account the CLI creates (SSO Admin is tested elsewhere)."""
    rt = await build(settings)
    try:
        arn, store = f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", f"d-{secrets.token_hex(5)}"
        async with rt.deps.store.unit() as uow:
            await uow.identity_center.add(SsoInstance(
                arn=arn, identity_store_id=store, owner_account_id=account_id, name="cli", kind="ACCOUNT",
                status="ACTIVE", created_at=time.time(), settings="{}", tags="[]"))
        return arn, store
    finally:
        await rt.close()


@pytest.fixture
def instance(cli: Cli, cli_env: Settings) -> tuple[str, str]:  # noqa: F811
    account = cli.ok("account", "create", "--email", f"sso-{secrets.token_hex(4)}@example.com",
                     "--password", "cli password 1")["AccountId"]
    return asyncio.run(_instance(cli_env, account))


def test_defaults_are_secure(cli: Cli, instance: tuple[str, str]) -> None:  # noqa: F811
    arn, store = instance
    shown = cli.ok("sso", "settings", "show", "--instance-arn", arn)
    assert (shown["InstanceArn"], shown["IdentityStoreId"]) == (arn, store)
    assert shown["Settings"] == {"PortalSessionSeconds": 8 * 3600, "MfaPromptMode": "EVERY_SIGN_IN",
                                 "NoMfaDevice": "REQUIRE_REGISTRATION", "Onboarding": "EMAIL_INVITATION",
                                 "PortalSubdomain": None}
    assert cli.ok("sso", "settings", "show", "--identity-store-id", store) == shown


def test_set_and_validate(cli: Cli, instance: tuple[str, str]) -> None:  # noqa: F811
    arn, store = instance
    changed = cli.ok("sso", "settings", "set", "--identity-store-id", store, "--portal-session-duration", "12h",
                     "--mfa-prompt", "context-change", "--no-mfa-device", "email-code", "--onboarding",
                     "one-time-password", "--portal-subdomain", "My-Team")["Settings"]
    assert changed == {"PortalSessionSeconds": 12 * 3600, "MfaPromptMode": "CONTEXT_CHANGE",
                       "NoMfaDevice": "EMAIL_CODE", "Onboarding": "ONE_TIME_PASSWORD", "PortalSubdomain": "my-team"}
    assert cli.ok("sso", "settings", "show", "--instance-arn", arn)["Settings"] == changed
    for duration in ("14m", "91d", "soon"):
        assert "duration" in cli.fails("sso", "settings", "set", "--instance-arn", arn,
                                       "--portal-session-duration", duration)
    assert cli.ok("sso", "settings", "set", "--instance-arn", arn, "--portal-session-duration", "15m")[
        "Settings"]["PortalSessionSeconds"] == 900
    for bad in ("-team", "team-", "ab", "d-0123456789", "x" * 64, "dots.not.allowed"):
        assert "subdomain" in cli.fails("sso", "settings", "set", "--instance-arn", arn, f"--portal-subdomain={bad}")
    cli.fails("sso", "settings", "set", "--instance-arn", arn, "--mfa-prompt", "sometimes", code=2)
    cli.fails("sso", "settings", "set", code=2)  # no instance named
    cli.fails("sso", "settings", "show", "--identity-store-id", "d-0000000000")
    assert cli.ok("sso", "settings", "set", "--instance-arn", arn, "--clear-portal-subdomain")[
        "Settings"]["PortalSubdomain"] is None


def test_a_portal_subdomain_belongs_to_one_instance(cli: Cli, cli_env: Settings,  # noqa: F811
                                                    instance: tuple[str, str]) -> None:
    arn, _ = instance
    other = cli.ok("account", "create", "--email", f"sso-{secrets.token_hex(4)}@example.com",
                   "--password", "cli password 1")["AccountId"]
    second, _ = asyncio.run(_instance(cli_env, other))
    cli.ok("sso", "settings", "set", "--instance-arn", arn, "--portal-subdomain", "shared-name")
    assert "taken" in cli.fails("sso", "settings", "set", "--instance-arn", second, "--portal-subdomain",
                                "Shared-Name")
    cli.ok("sso", "settings", "set", "--instance-arn", arn, "--portal-subdomain", "shared-name")  # its own: fine
