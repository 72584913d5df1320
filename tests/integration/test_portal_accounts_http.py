"""The portal's Accounts tab against the live server, with the world made through boto3 (SSO Admin, Identity
Store): accounts assigned directly and through a group with their roles, and Access keys that are real STS
credentials of the reserved role (GetCallerIdentity answers the assumed-role ARN); an empty Accounts tab."""

from __future__ import annotations

import html
import re

import boto3
import httpx
import pytest

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.conftest import account, aws_settings, world  # noqa: F401 (fixtures)
from support import csrf_of
from vestibule.services.context import Deps
from vestibule.services.identity_center import instances, portal_users
from vestibule.services.identity_center import settings as ic_settings

NEW_PASSWORD = "portal password 9"


class Portal:
    def __init__(self, world: AwsWorld, account: Account) -> None:  # noqa: F811
        self.world, self.account = world, account
        self.sso = world.client("sso-admin", account.root)
        self.instance = self.sso.create_instance(Name="portal")["InstanceArn"]
        self.store = self.sso.describe_instance(InstanceArn=self.instance)["IdentityStoreId"]
        self.ids = world.identitystore(account.root)

        async def no_mfa(deps: Deps) -> None:
            async with deps.store.unit() as uow:
                row = await instances.require(uow, instance_arn=self.instance)
                current = instances.of_row(row).settings
                await instances.set_settings(uow, row, ic_settings.changed(current, mfa_prompt="NEVER"))

        world.run(no_mfa)

    def user(self, name: str) -> str:
        return str(self.ids.create_user(IdentityStoreId=self.store, UserName=name, DisplayName=name.title(),
                                        Name={"GivenName": name, "FamilyName": "X"},
                                        Emails=[{"Value": f"{name}@example.com", "Primary": True}])["UserId"])

    def permission_set(self, name: str, duration: str = "PT2H") -> str:
        made = self.sso.create_permission_set(InstanceArn=self.instance, Name=name, SessionDuration=duration)
        arn = str(made["PermissionSet"]["PermissionSetArn"])
        self.sso.attach_managed_policy_to_permission_set(InstanceArn=self.instance, PermissionSetArn=arn,
                                                         ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        return arn

    def assign(self, ps: str, principal: str, kind: str = "USER") -> None:
        self.sso.create_account_assignment(InstanceArn=self.instance, TargetId=self.account.account_id,
                                           TargetType="AWS_ACCOUNT", PermissionSetArn=ps, PrincipalType=kind,
                                           PrincipalId=principal)

    def sign_in(self, name: str) -> httpx.Client:
        async def otp(deps: Deps) -> str:
            return await portal_users.reset_with_one_time_password(deps, self.store, name)

        one_time = self.world.run(otp)
        browser = httpx.Client(base_url=self.world.url, follow_redirects=False, timeout=30)
        page = browser.get(f"/portal/{self.store}/start")
        r = browser.post(f"/portal/{self.store}/start", data={"csrf_token": csrf_of(page.text), "username": name})
        flow_url = r.headers["location"]
        page = browser.get(flow_url)
        r = browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password", "password": one_time})
        assert r.headers["location"] == flow_url
        page = browser.get(flow_url)
        r = browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "new_password",
                                         "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == f"/portal/{self.store}/", r.text
        return browser


@pytest.fixture
def portal(world: AwsWorld, account: Account) -> Portal:  # noqa: F811
    return Portal(world, account)


def test_accounts_roles_and_access_keys(world: AwsWorld, account: Account, portal: Portal) -> None:  # noqa: F811
    developers, ops = portal.permission_set("Developers", "PT2H"), portal.permission_set("Ops")
    user = portal.user("grace")
    group = str(portal.ids.create_group(IdentityStoreId=portal.store, DisplayName="ops")["GroupId"])
    portal.ids.create_group_membership(IdentityStoreId=portal.store, GroupId=group, MemberId={"UserId": user})
    portal.assign(developers, user)
    portal.assign(ops, group, "GROUP")
    browser = portal.sign_in("grace")
    home = browser.get(f"/portal/{portal.store}/")
    assert home.status_code == 200
    assert f'data-account="{account.account_id}"' in home.text and account.email in home.text
    assert 'data-role="Developers"' in home.text and 'data-role="Ops"' in home.text
    r = browser.post(f"/portal/{portal.store}/credentials", data={
        "csrf_token": csrf_of(home.text), "account_id": account.account_id, "permission_set_arn": developers})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    text = html.unescape(r.text)
    keys = dict(re.findall(r'export (AWS_[A-Z_]+)="([^"]+)"', text))
    assert keys["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    for line in ("set AWS_ACCESS_KEY_ID=", "$Env:AWS_SESSION_TOKEN=", "aws_session_token="):
        assert line in text
    sts = boto3.client("sts", endpoint_url=world.url, region_name="us-east-1",
                       aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=keys["AWS_SESSION_TOKEN"])
    identity = sts.get_caller_identity()
    assert re.fullmatch(rf"arn:aws:sts::{account.account_id}:assumed-role/AWSReservedSSO_Developers_[0-9a-f]{{16}}"
                        r"/grace", identity["Arn"]), identity["Arn"]
    assert identity["Account"] == account.account_id
    # another user's role, or a permission set not assigned, gives nothing
    r = browser.post(f"/portal/{portal.store}/credentials", data={
        "csrf_token": csrf_of(home.text), "account_id": "000000000000", "permission_set_arn": developers})
    assert r.status_code == 403 and "ASIA" not in r.text
    # without the CSRF token nothing is issued
    r = browser.post(f"/portal/{portal.store}/credentials", data={
        "account_id": account.account_id, "permission_set_arn": developers})
    assert r.status_code == 403 and "ASIA" not in r.text


def test_management_console_as_the_role(world: AwsWorld, account: Account, portal: Portal) -> None:  # noqa: F811
    developers = portal.permission_set("Developers", "PT1H")
    portal.assign(developers, portal.user("ivan"))
    browser = portal.sign_in("ivan")
    home = browser.get(f"/portal/{portal.store}/")
    assert 'class="link management-console"' in home.text
    r = browser.post(f"/portal/{portal.store}/console", data={"account_id": account.account_id,
                                                              "permission_set_arn": developers})
    assert r.status_code == 403
    r = browser.post(f"/portal/{portal.store}/console", data={
        "csrf_token": csrf_of(home.text), "account_id": account.account_id, "permission_set_arn": developers})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    console = browser.get("/console")
    assert console.status_code == 200
    shown = re.search(r'id="signed-in-as">([^<]+)<', console.text)
    assert shown and re.fullmatch(r"AWSReservedSSO_Developers_[0-9a-f]{16}/ivan", shown.group(1)), console.text
    assert f"arn:aws:sts::{account.account_id}:assumed-role/AWSReservedSSO_Developers_" in console.text
    kind = re.search(r'class="identity-kind">([^<]+)<', console.text)
    assert kind and kind.group(1) == "Role session", "the top bar names a role session, not an IAM user"
    for page in ("/console/security", "/console/mfa/new", "/console/access-keys"):
        assert browser.get(page).status_code < 500, page
    # the console session ends with the role's credentials (1 hour)
    world.clock.offset = 3601
    assert browser.get("/console").status_code == 303
    # and another user's account opens nothing
    world.clock.offset = 0
    r = browser.post(f"/portal/{portal.store}/console", data={
        "csrf_token": csrf_of(home.text), "account_id": "000000000000", "permission_set_arn": developers})
    assert r.status_code == 403


def test_no_assignments_is_an_explained_empty_tab(world: AwsWorld, account: Account,  # noqa: F811
                                                  portal: Portal) -> None:
    portal.user("heidi")
    browser = portal.sign_in("heidi")
    home = browser.get(f"/portal/{portal.store}/")
    assert home.status_code == 200 and 'id="no-accounts"' in home.text and "data-account=" not in home.text
    apps = browser.get(f"/portal/{portal.store}/?tab=applications")
    assert 'id="no-applications"' in apps.text
