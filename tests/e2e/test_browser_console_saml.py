"""IdP-initiated console sign-in by SAML with Chromium and the pysaml2 test IdP of tests/saml_idp.py (served on
loopback, its page posts the response to /saml by itself): two roles -> the role chooser -> /console shows
`<role>/<session>` -> Sign out ends the session; an expired assertion shows its cause and a reference that
`vestibule federation diagnose` finds. Screenshots are saved as artifacts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from e2e.browser_support import Site, run_async
from saml_idp import SamlIdpServer
from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts, aws_identity
from vestibule.services.api_call import ApiCall
from vestibule.services.iam import identity_providers

VESTIBULE = Path(sys.executable).parent / "vestibule"


@pytest.fixture
def idp() -> Iterator[SamlIdpServer]:
    with SamlIdpServer() as server:
        yield server


def _iam(site: Site) -> tuple[str, Any]:
    async def make(rt: Runtime) -> tuple[str, str, str]:
        async with rt.deps.store.unit() as uow:
            created = await accounts.create_account(rt.deps, uow, email="owner-saml@example.com",
                                                    password="Owner pass phrase 1", alias="corp-saml")
            key = await access_keys.create(rt.deps, uow, created.account_id, f"root:{created.account_id}")
        return created.account_id, key.access_key_id, key.secret_access_key

    account_id, key_id, secret = run_async(site.settings, make)
    return account_id, boto3.client("iam", endpoint_url=site.url, region_name="us-east-1",
                                    aws_access_key_id=key_id, aws_secret_access_key=secret)


def _saml_provider(site: Site, account_id: str, metadata: str) -> str:
    """CreateSAMLProvider through its use case (as root), so this test does not wait for the IAM wire row."""
    async def make(rt: Runtime) -> str:
        async with rt.deps.store.unit() as uow:
            caller = await aws_identity.caller_for_principal(uow, f"root:{account_id}", "AKIATESTCALLER000000")
        assert caller is not None
        call = ApiCall(rt.deps, caller, "iam", "iam:CreateSAMLProvider", "CreateSAMLProvider")
        return (await identity_providers.create_saml_provider(call, "Corp", metadata, [])).arn

    return run_async(site.settings, make)


def _diagnose(site: Site, reference: str) -> tuple[int, str]:
    settings = site.settings
    env = {**os.environ, "VESTIBULE_DATABASE_URL": settings.database_url, "VESTIBULE_MASTER_KEY": settings.master_key,
           "VESTIBULE_DATA_DIR": str(settings.data_dir), "VESTIBULE_PUBLIC_URL": site.url}
    env.pop("VESTIBULE_REDIS_URL", None)
    done = subprocess.run([str(VESTIBULE), "federation", "diagnose", "--reference", reference], env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def test_idp_initiated_sign_in_with_the_role_chooser(site: Site, idp: SamlIdpServer) -> None:
    account_id, iam = _iam(site)
    provider = _saml_provider(site, account_id, idp.idp.metadata())
    sp = f"{site.url}/saml"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": sp}}}]}
    for name in ("Admin", "ReadOnly"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    roles = [(f"arn:aws:iam::{account_id}:role/{name}", provider) for name in ("Admin", "ReadOnly")]
    idp.sign.sp_entity_id = idp.sign.acs_url = sp
    idp.sign.options = {"roles": roles, "session_name": "alice@example.com", "name_id": "alice@example.com"}

    page = site.new_browser()
    page.goto(f"{idp.base_url}/start")  # the IdP's page posts the signed response to /saml
    page.wait_for_url(re.compile(r".*/saml/choose\?flow=.*"))
    site.shot(page, "role-chooser")
    assert page.locator("h1").inner_text() == "Select a role"
    assert "corp-saml" in page.locator("#role-chooser").inner_text()
    page.get_by_label("ReadOnly").check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/console")
    site.shot(page, "console-as-saml-role")
    assert page.locator("#identity-name").inner_text() == "ReadOnly/alice@example.com"
    assert f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}" in page.locator("body").inner_text()

    site.sign_out(page)
    page.goto("/console")
    assert site.path_of(page).split("?")[0] != "/console"  # the federated session ended

    # an expired assertion (issued within the clock skew, past its NotOnOrAfter): the cause and a reference
    now = time.time()
    idp.sign.options = {**idp.sign.options, "now": now - 200, "not_on_or_after": now - 400}
    late = site.new_browser()
    late.goto(f"{idp.base_url}/start")
    late.wait_for_url(f"{site.url}/saml")
    site.shot(late, "expired-assertion")
    assert late.locator("#failure-cause").get_attribute("data-cause") == "expired"
    assert "has expired" in late.locator("#failure-cause").inner_text()
    reference = late.locator("#reference").inner_text()
    assert re.fullmatch(r"F-[A-Z2-7]{16}", reference)
    code, out = _diagnose(site, reference)
    assert code == 0, out
    shown = json.loads(out)
    assert (shown["Reference"], shown["Cause"], shown["Door"]) == (reference, "expired", "saml")
    assert shown["Provider"] == provider and "not_on_or_after" in shown["Admin"]
    assert _diagnose(site, "F-AAAAAAAAAAAAAAAA")[0] == 1
