"""The access portal in Chromium, with the world made through boto3 (SSO Admin, Identity Store) against the live
server: invitation mail -> set password -> sign in with the mailed code -> register TOTP -> sign out -> sign in
with TOTP -> Accounts -> Access keys -> GetCallerIdentity with them -> Management console as the role -> sign out;
a first sign-in with a one-time password; forgot password. Screenshots are saved as artifacts."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import boto3
import pyotp
import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site, identity_center_admin, run_async
from vestibule.runtime import Runtime
from vestibule.services.identity_center import applications, portal_users

PASSWORD = "Portal pass phrase 7"


@dataclass
class World:
    account_id: str
    store: str
    user: str
    email: str
    permission_set: str


def _world(site: Site, user: str) -> World:
    account_id, sso, ids = identity_center_admin(site, user)
    instance = sso.create_instance(Name="portal")["InstanceArn"]
    store = sso.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    email = f"{user}@example.com"
    user_id = ids.create_user(IdentityStoreId=store, UserName=user, DisplayName=user.title(),
                              Name={"GivenName": user, "FamilyName": "Tester"},
                              Emails=[{"Value": email, "Primary": True}])["UserId"]
    ps = sso.create_permission_set(InstanceArn=instance, Name="Developers", SessionDuration="PT1H")
    ps_arn = ps["PermissionSet"]["PermissionSetArn"]
    sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn,
                                                ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sso.create_account_assignment(InstanceArn=instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=ps_arn, PrincipalType="USER", PrincipalId=user_id)
    return World(account_id, store, user, email, ps_arn)


def _password_and_next(site: Site, page: Page, world: World, password: str, step: str) -> None:
    page.goto(f"/portal/{world.store}/start")
    page.fill("input[name=username]", world.user)
    site.shot(page, f"{step}-username")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.fill("input[name=password]", password)
    site.solve_captcha_if_shown(page)
    site.shot(page, f"{step}-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _set_password_from_link(site: Site, page: Page, world: World, after: int, step: str) -> None:
    _, path = site.smtp.wait_for(world.email, r"http://[^/\s]+(/portal/\S+/password\?token=\S+)", after=after)
    page.goto(path)
    site.shot(page, f"{step}-link")
    page.fill("input[name=new_password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_selector("#password-set")
    site.shot(page, f"{step}-done")


@pytest.mark.browser
def test_invitation_codes_totp_accounts_keys_console(site: Site) -> None:
    world = _world(site, "grace")
    mails = len(site.smtp.messages)

    async def invite(rt: Runtime) -> None:
        await portal_users.reset_by_mail(rt.deps, world.store, world.user, invitation=True)

    run_async(site.settings, invite)
    page = site.new_browser()
    _set_password_from_link(site, page, world, mails, "invitation")
    mails = len(site.smtp.messages)
    _password_and_next(site, page, world, PASSWORD, "first")
    assert page.locator("input[name=verification_code]").count() == 1, page.content()
    _, code = site.smtp.wait_for(world.email, r"verification code is: (\d{6})", after=mails)
    page.fill("input[name=verification_code]", code)
    site.shot(page, "first-code")
    page.get_by_role("button", name="Submit").click()
    # the instance's default: a user without a device registers one before anything else
    page.wait_for_url(re.compile(r"/mfa\?required=1"))
    assert page.locator("#mfa-required").count() == 1
    site.shot(page, "mfa-required")
    page.click("#register-mfa")
    page.wait_for_url(re.compile(r"/mfa\?flow="))
    secret = page.locator("#mfa-secret").get_attribute("data-secret") or ""
    totp = pyotp.TOTP(secret)
    page.fill("input[name=device_name]", "phone")
    page.fill("input[name=mfa_code]", totp.at(time.time() - 30))
    page.fill("input[name=mfa_code_2]", totp.now())
    site.shot(page, "register-totp")
    page.get_by_role("button", name=re.compile(".")).last.click()
    page.wait_for_url(re.compile(r"/mfa\?notice=added"))
    site.shot(page, "totp-registered")
    page.goto(f"/portal/{world.store}/")
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/start\?signed_out=1"))
    site.shot(page, "signed-out")

    _password_and_next(site, page, world, PASSWORD, "totp")
    page.fill("input[name=mfa_code]", totp.at(time.time() + 30))  # the next step: the enrolment used this one
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"{site.url}/portal/{world.store}/")
    assert page.locator(f'[data-account="{world.account_id}"]').count() == 1

    async def bookmark(rt: Runtime) -> None:
        made = await applications.create(rt.deps, world.store, "Team wiki", "https://wiki.example.com/")
        await applications.assign(rt.deps, world.store, made.id, user_name=world.user)

    run_async(site.settings, bookmark)
    page.goto(f"/portal/{world.store}/?tab=applications")
    link = page.get_by_role("link", name="Team wiki")
    assert link.get_attribute("href") == "https://wiki.example.com/" and link.get_attribute("target") == "_blank"
    site.shot(page, "applications")
    page.goto(f"/portal/{world.store}/")
    page.locator("button.access-keys").first.click()
    page.wait_for_load_state()
    site.shot(page, "access-keys")
    linux = page.locator("#creds-linux").inner_text()
    keys = dict(re.findall(r'export (AWS_[A-Z_]+)="([^"]+)"', linux))
    identity = boto3.client("sts", endpoint_url=site.url, region_name="us-east-1",
                            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=keys["AWS_SESSION_TOKEN"]).get_caller_identity()
    assert re.fullmatch(rf"arn:aws:sts::{world.account_id}:assumed-role/AWSReservedSSO_Developers_[0-9a-f]{{16}}"
                        r"/grace", identity["Arn"])
    page.goto(f"/portal/{world.store}/")
    page.locator("button.management-console").first.click()
    page.wait_for_url(f"{site.url}/console")
    assert re.fullmatch(r"AWSReservedSSO_Developers_[0-9a-f]{16}/grace", page.locator("#signed-in-as").inner_text())
    site.shot(page, "console-as-role")
    page.goto(f"/portal/{world.store}/")
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/start\?signed_out=1"))
    page.goto(f"/portal/{world.store}/")
    assert "/start" in page.url


@pytest.mark.browser
def test_first_sign_in_with_a_one_time_password(site: Site) -> None:
    world = _world(site, "heidi")

    async def otp(rt: Runtime) -> str:
        return await portal_users.reset_with_one_time_password(rt.deps, world.store, world.user)

    one_time = run_async(site.settings, otp)
    page = site.new_browser()
    _password_and_next(site, page, world, one_time, "otp")
    assert page.locator("input[name=new_password]").count() == 1
    page.fill("input[name=new_password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    site.shot(page, "otp-new-password")
    mails = len(site.smtp.messages)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_selector("input[name=verification_code]")
    _, code = site.smtp.wait_for(world.email, r"verification code is: (\d{6})", after=mails)
    page.fill("input[name=verification_code]", code)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/mfa\?required=1"))
    site.shot(page, "otp-mfa-required")


@pytest.mark.browser
def test_forgot_password(site: Site) -> None:
    world = _world(site, "ivan")
    page = site.new_browser()
    page.goto(f"/portal/{world.store}/start")
    page.fill("input[name=username]", world.user)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.click("#forgot-password")
    page.fill("input[name=username]", world.user)
    page.wait_for_selector("fieldset.captcha[data-state=done]", timeout=60_000)
    site.shot(page, "forgot")
    mails = len(site.smtp.messages)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("#forgot-sent")
    site.shot(page, "forgot-sent")
    _set_password_from_link(site, page, world, mails, "forgot")
    _password_and_next(site, page, world, PASSWORD, "after-reset")
    assert page.locator("input[name=verification_code]").count() == 1
