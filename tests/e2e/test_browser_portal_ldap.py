"""An access portal whose identity source is an LDAP directory (Debian's slapd, tests/ldap_server.py), in Chromium:
the administrator sets the source with `vestibule sso identity-source set-ldap` (StartTLS, the test CA, the service
account's password from a file); a user of the directory signs in with the directory's password and sees the
account assigned to the directory group named like their LDAP group; sign-out; then the service account's password
expires and the sign-in shows the failure page whose reference `vestibule federation diagnose` explains.
Screenshots are saved as artifacts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site, identity_center_admin
from ldap_server import (
    EXPIRED_SERVICE_DN,
    EXPIRED_SERVICE_PASSWORD,
    GROUPS,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    LdapServer,
)
from vestibule.settings import Settings
from vestibule.web.i18n import Translator

VESTIBULE = str(Path(sys.executable).with_name("vestibule"))
t = Translator("en")


def _vestibule(settings: Settings, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VESTIBULE_DATABASE_URL=settings.database_url, VESTIBULE_MASTER_KEY=settings.master_key,
               VESTIBULE_DATA_DIR=str(settings.data_dir), VESTIBULE_PUBLIC_URL=settings.public_url)
    env.pop("VESTIBULE_REDIS_URL", None)
    return subprocess.run([VESTIBULE, *argv], capture_output=True, text=True, env=env, timeout=60, check=False)


def _set_ldap(settings: Settings, instance: str, ldap: LdapServer, bind_dn: str, password: str,
              tmp_path: Path) -> dict[str, object]:
    secret = tmp_path / "bind-password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    done = _vestibule(settings, "sso", "identity-source", "set-ldap", "--instance-arn", instance, "--url",
                      ldap.starttls_url, "--starttls", "--ca-file", str(ldap.ca_file), "--bind-dn", bind_dn,
                      "--bind-password-file", str(secret), "--base-dn", PEOPLE, "--group-base-dn", GROUPS)
    assert done.returncode == 0, done.stderr
    shown: dict[str, object] = json.loads(done.stdout)
    assert password not in done.stdout
    return shown


def _sign_in(site: Site, page: Page, store: str, user: str, password: str, step: str) -> None:
    page.goto(f"/portal/{store}/start")
    page.fill("input[name=username]", user)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.fill("input[name=password]", password)
    site.shot(page, f"{step}-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.browser
def test_portal_sign_in_with_the_directory_password(site: Site, tmp_path: Path) -> None:
    account_id, sso, ids = identity_center_admin(site, "ldap")
    instance = sso.create_instance(Name="portal")["InstanceArn"]
    store = sso.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    group_id = ids.create_group(IdentityStoreId=store, DisplayName="engineers")["GroupId"]
    ps_arn = sso.create_permission_set(InstanceArn=instance, Name="Engineers")["PermissionSet"]["PermissionSetArn"]
    sso.create_account_assignment(InstanceArn=instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=ps_arn, PrincipalType="GROUP", PrincipalId=group_id)
    done = _vestibule(site.settings, "sso", "settings", "set", "--instance-arn", instance, "--mfa-prompt", "never")
    assert done.returncode == 0, done.stderr
    with LdapServer() as ldap:
        shown = _set_ldap(site.settings, instance, ldap, SERVICE_DN, SERVICE_PASSWORD, tmp_path)
        assert shown["Kind"] == "LDAP"
        page = site.new_browser()
        _sign_in(site, page, store, "bob", ldap.password("alice"), "wrong")  # another user's password
        assert page.locator(".error").first.inner_text() == t("signin.invalid_credentials")
        _sign_in(site, page, store, "bob", ldap.password("bob"), "bob")
        page.wait_for_url(f"{site.url}/portal/{store}/")
        assert page.locator("#portal-user").inner_text() == "Bob Builder"
        assert page.locator(f'[data-account="{account_id}"]').count() == 1  # through the group "engineers"
        site.shot(page, "accounts")
        page.click("#sign-out")
        page.wait_for_url(re.compile(r"/start\?signed_out=1"))
        page.goto(f"/portal/{store}/")
        assert "/start" in page.url

        # the service account's password expired: the page says what is wrong; the reference explains it
        _set_ldap(site.settings, instance, ldap, EXPIRED_SERVICE_DN, EXPIRED_SERVICE_PASSWORD, tmp_path)
        _sign_in(site, page, store, "bob", ldap.password("bob"), "expired")
        page.wait_for_selector("#failure-cause")
        assert page.locator("#failure-cause").get_attribute("data-cause") == "ldap_service_account"
        reference = page.locator("#reference").inner_text()
        assert EXPIRED_SERVICE_DN not in page.content()
        site.shot(page, "failure")
        done = _vestibule(site.settings, "federation", "diagnose", "--reference", reference)
        assert done.returncode == 0, done.stderr
        diagnosis = json.loads(done.stdout)
        assert diagnosis["Cause"] == "ldap_service_account" and diagnosis["Door"] == "portal-ldap"
        assert diagnosis["Admin"]["password_policy"] == "passwordExpired"
        assert EXPIRED_SERVICE_PASSWORD not in done.stdout
