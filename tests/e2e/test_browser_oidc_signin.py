"""Console sign-in with an OIDC provider in Chromium, with the real test provider of tests/oidc_idp.py (its own
sign-in form), set up as an administrator does (boto3 CreateOpenIDConnectProvider and CreateRole, then the
button): the IAM sign-in page's "Sign in with ..." button -> the provider -> back -> the role chooser ->
/console shows the role and session name -> sign out; a user no role trusts sees the failure page with its
reference, which the administrator looks up. Screenshots are saved as artifacts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site, run_async
from oidc_idp import OidcProvider, User
from oidc_signin_steps import CLIENT_ID, add_button, web_identity_trust
from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts
from vestibule.services.federation import failures
from vestibule.services.federation.failures import Diagnosis
from vestibule.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(federation_insecure_loopback=True)


@pytest.fixture
def idp() -> Iterator[OidcProvider]:
    users = (User("alice", "alice's idp password", {"email": "alice@example.com"}),
             User("bob", "bob's idp password", {"email": "bob@example.com"}))
    with OidcProvider(clients={CLIENT_ID: None}, users=users) as provider:
        yield provider


def _at_provider(site: Site, page: Page, idp: OidcProvider, user: str, password: str, step: str) -> None:
    page.wait_for_url(re.compile(re.escape(f"{idp.issuer}/authorize")))
    site.shot(page, f"{step}-provider")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _administrator(site: Site, email: str) -> tuple[str, Any]:
    """A new account and an IAM client with its root user's keys (the administrator's tools)."""
    async def make(rt: Runtime) -> tuple[str, str, str]:
        async with rt.deps.store.unit() as uow:
            created = await accounts.create_account(rt.deps, uow, email=email, password="Owner pass phrase 1",
                                                    alias="oidc-team")
            key = await access_keys.create(rt.deps, uow, created.account_id, f"root:{created.account_id}")
        return created.account_id, key.access_key_id, key.secret_access_key

    account_id, key_id, secret = run_async(site.settings, make)
    return account_id, boto3.client("iam", endpoint_url=site.url, region_name="us-east-1",
                                    aws_access_key_id=key_id, aws_secret_access_key=secret)


def test_sign_in_with_the_provider_choose_a_role_and_sign_out(site: Site, idp: OidcProvider) -> None:
    account_id, iam = _administrator(site, "owner-oidc@example.com")
    formatted = f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}"
    provider = iam.create_open_id_connect_provider(Url=idp.issuer, ClientIDList=[CLIENT_ID])[
        "OpenIDConnectProviderArn"]
    assert provider == f"arn:aws:iam::{account_id}:oidc-provider/{idp.url}"
    for name in ("Developers", "Auditors"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=web_identity_trust(
            provider, {"StringEquals": {f"{idp.url}:aud": CLIENT_ID, f"{idp.url}:sub": "alice"}}))

    async def button(rt: Runtime) -> None:
        await add_button(rt, account_id, provider, label="Example SSO")

    run_async(site.settings, button)
    page = site.new_browser()
    page.goto("/oidc-team/console")
    site.shot(page, "iam-signin-with-button")
    page.get_by_role("link", name="Sign in with Example SSO").click()
    _at_provider(site, page, idp, "alice", "alice's idp password", "alice")
    page.wait_for_url(re.compile(r"/oidc/choose\?flow="))
    site.shot(page, "role-chooser")
    assert "alice@example.com" in page.locator("#oidc-choose-intro").inner_text()
    page.get_by_label(re.compile(r"^Auditors")).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{site.url}/console")
    site.shot(page, "console-as-role")
    assert page.locator("#identity-name").inner_text() == "Auditors/alice@example.com"
    body = page.locator("body").inner_text()
    assert f"arn:aws:sts::{account_id}:assumed-role/Auditors/alice@example.com" in body
    assert formatted in body
    site.sign_out(page)
    page.goto("/console")
    assert site.path_of(page).split("?")[0] != "/console"

    # bob signs in at the provider, but no role of the account trusts him
    other = site.new_browser()
    other.goto(f"/{account_id}/console")
    other.get_by_role("link", name="Sign in with Example SSO").click()
    _at_provider(site, other, idp, "bob", "bob's idp password", "bob")
    other.wait_for_selector("#failure-cause")
    site.shot(other, "no-trusted-role")
    assert other.locator("#failure-cause").get_attribute("data-cause") == "no_trusted_role"
    assert "Example SSO" in other.locator("#failure-cause").inner_text()
    reference = other.locator("#reference").inner_text()
    assert re.fullmatch(r"F-[A-Z2-7]{16}", reference)

    async def look_up(rt: Runtime) -> Diagnosis | None:
        return await failures.diagnose(rt.deps, reference)

    found = run_async(site.settings, look_up)
    assert found is not None and (found.door, found.provider, found.principal) == ("oidc-console", provider, "bob")
    other.click("#start-over")
    assert site.path_of(other) == f"/{account_id}/console"
