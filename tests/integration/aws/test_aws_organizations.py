"""AWS Organizations through boto3 and the `aws` command against the live server: the organization, its root,
member accounts made by CreateAccount (a real account with its own root email, no usable password and the
OrganizationAccountAccessRole the management account may assume), the errors the model declares, the IAM
organization-only operations in an organization, and the member's root user setting its password by the
root "forgot password" mail, then signing in."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import ROOT_PASSWORD, Account, AwsWorld, Keys, at_once, error_code
from support import csrf_of
from vestibule.services.mail import DevMailbox

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
_ORG_ID = re.compile(r"o-[a-z0-9]{10}")
_LINK = re.compile(r"https?://\S+/recovery/reset\?token=([A-Za-z0-9_-]+)")


def _fails(code: str, call: Any, **kw: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kw)
    assert error_code(caught.value) == code, caught.value.response
    return caught.value


def test_create_and_describe_organization(world: AwsWorld, account: Account) -> None:
    orgs = world.organizations(account.root)
    _fails("AWSOrganizationsNotInUseException", orgs.describe_organization)
    org = world.new_organization(account)
    assert _ORG_ID.fullmatch(org["Id"])
    assert org["Arn"] == f"arn:aws:organizations::{account.account_id}:organization/{org['Id']}"
    assert org["FeatureSet"] == "ALL" and org["MasterAccountId"] == account.account_id
    assert org["MasterAccountEmail"] == account.email
    assert org["MasterAccountArn"] == f"arn:aws:organizations::{account.account_id}:account/{org['Id']}/" \
                                      f"{account.account_id}"
    assert orgs.describe_organization()["Organization"] == org
    err = _fails("AlreadyInOrganizationException", orgs.create_organization, FeatureSet="CONSOLIDATED_BILLING")
    assert isinstance(err, orgs.exceptions.AlreadyInOrganizationException)

    roots = orgs.list_roots()["Roots"]
    assert len(roots) == 1 and re.fullmatch(r"r-[0-9a-z]{4,32}", roots[0]["Id"]) and roots[0]["Name"] == "Root"
    assert roots[0]["Arn"] == f"arn:aws:organizations::{account.account_id}:root/{org['Id']}/{roots[0]['Id']}"


def test_concurrent_create_organization_makes_one(world: AwsWorld, account: Account) -> None:
    clients = [world.organizations(account.root) for _ in range(4)]
    outcomes = at_once([c.create_organization for c in clients])
    assert sorted(outcomes) == ["AlreadyInOrganizationException"] * 3 + ["ok"]


def test_concurrent_create_account_with_one_email_makes_one_account(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    clients = [world.organizations(account.root) for _ in range(3)]
    calls: list[Callable[[], Any]] = [functools.partial(c.create_account, Email=email, AccountName="race")
                                      for c in clients]
    assert at_once(calls) == ["ok"] * 3
    states = clients[0].list_create_account_status()["CreateAccountStatuses"]
    assert sorted(s["State"] for s in states) == ["FAILED", "FAILED", "SUCCEEDED"]
    assert {s.get("FailureReason") for s in states if s["State"] == "FAILED"} == {"EMAIL_ALREADY_EXISTS"}
    assert [a["Email"] for a in clients[0].list_accounts()["Accounts"]] == [account.email, email]


def test_consolidated_billing_feature_set_is_kept(world: AwsWorld, account: Account) -> None:
    org = world.organizations(account.root).create_organization(FeatureSet="CONSOLIDATED_BILLING")
    assert org["Organization"]["FeatureSet"] == "CONSOLIDATED_BILLING"


def test_create_account_makes_a_real_account_with_its_access_role(world: AwsWorld, account: Account) -> None:
    org = world.new_organization(account)
    orgs = world.organizations(account.root)
    email = f"Member-{uuid.uuid4().hex[:8]}@Example.com"
    status = orgs.create_account(Email=email, AccountName="Payments prod",
                                 Tags=[{"Key": "team", "Value": "payments"}])["CreateAccountStatus"]
    assert re.fullmatch(r"car-[0-9a-f]{32}", status["Id"])
    assert status["State"] == "SUCCEEDED" and status["AccountName"] == "Payments prod"
    member_id = status["AccountId"]
    assert re.fullmatch(r"\d{12}", member_id) and member_id != account.account_id
    assert status["CompletedTimestamp"] >= status["RequestedTimestamp"]
    assert orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"] == status

    described = orgs.describe_account(AccountId=member_id)["Account"]
    assert described["Arn"] == f"arn:aws:organizations::{account.account_id}:account/{org['Id']}/{member_id}"
    assert described["Email"] == email.lower() and described["Name"] == "Payments prod"
    assert described["Status"] == "ACTIVE" and described["JoinedMethod"] == "CREATED"
    management = orgs.describe_account(AccountId=account.account_id)["Account"]
    assert management["JoinedMethod"] == "INVITED" and management["Email"] == account.email

    # the management account's IAM user assumes the member's OrganizationAccountAccessRole: AdministratorAccess
    admin = world.api_user(account, "org-admin", ADMIN)
    role_arn = f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole"
    session = Keys.of(world.sts(admin).assume_role(RoleArn=role_arn, RoleSessionName="setup")["Credentials"])
    assert world.sts(session).get_caller_identity()["Account"] == member_id
    member_iam = world.iam(session)
    role = member_iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": account.root_arn}
    attached = member_iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMIN]
    member_iam.create_user(UserName="made-in-member")  # the role really administers the member account
    assert world.iam(session).get_user(UserName="made-in-member")["User"]["Arn"].startswith(
        f"arn:aws:iam::{member_id}:user/")
    # the member is in the organization too, and not its management account
    assert world.organizations(session).describe_organization()["Organization"]["Id"] == org["Id"]
    _fails("AccessDeniedException", world.organizations(session).list_accounts)
    _fails("AccessDeniedException", world.organizations(session).create_account, Email="x-" + email,
           AccountName="nested")


def test_create_account_role_name_and_duplicate_email(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    orgs = world.organizations(account.root)
    member_id, email = world.new_member_account(account)
    status = orgs.create_account(Email=email, AccountName="again")["CreateAccountStatus"]
    assert status["State"] == "FAILED" and status["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in status
    taken = orgs.create_account(Email=account.email, AccountName="mgmt email")["CreateAccountStatus"]
    assert taken["FailureReason"] == "EMAIL_ALREADY_EXISTS"

    custom = orgs.create_account(Email=f"c-{uuid.uuid4().hex[:8]}@example.com", AccountName="custom",
                                 RoleName="Breakglass", IamUserAccessToBilling="DENY")["CreateAccountStatus"]
    admin = world.api_user(account, "org-admin", ADMIN)
    sts = world.sts(admin)
    sts.assume_role(RoleArn=f"arn:aws:iam::{custom['AccountId']}:role/Breakglass", RoleSessionName="setup")
    _fails("AccessDenied", sts.assume_role, RoleArn=f"arn:aws:iam::{custom['AccountId']}:role/"
           "OrganizationAccountAccessRole", RoleSessionName="setup")

    failed = orgs.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert {s["Id"] for s in failed} == {status["Id"], taken["Id"]}
    succeeded = orgs.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert {s["AccountId"] for s in succeeded} == {member_id, custom["AccountId"]}
    assert len(orgs.list_create_account_status()["CreateAccountStatuses"]) == 4
    bad = orgs.create_account(Email="x@-bad-.com", AccountName="bad")["CreateAccountStatus"]
    assert bad["State"] == "FAILED" and bad["FailureReason"] == "INVALID_EMAIL"
    _fails("CreateAccountStatusNotFoundException", orgs.describe_create_account_status,
           CreateAccountRequestId="car-" + "0" * 32)
    _fails("AccountNotFoundException", orgs.describe_account, AccountId="000000000000")
    other = world.new_account()  # an account outside the organization is not found in it
    _fails("AccountNotFoundException", orgs.describe_account, AccountId=other.account_id)
    unvalidated = world.organizations(account.root, validate=False)
    _fails("InvalidInputException", unvalidated.create_account, Email="a@b.cd", AccountName="tags",
           Tags=[{"Key": "bad\ttab", "Value": "v"}])


def test_list_accounts_pages_and_lists_for_the_root(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    orgs = world.organizations(account.root)
    members = [world.new_member_account(account)[0] for _ in range(4)]
    first = orgs.list_accounts(MaxResults=2)
    assert [a["Id"] for a in first["Accounts"]] == [account.account_id, members[0]]
    second = orgs.list_accounts(MaxResults=2, NextToken=first["NextToken"])
    third = orgs.list_accounts(MaxResults=2, NextToken=second["NextToken"])
    assert [a["Id"] for a in second["Accounts"] + third["Accounts"]] == members[1:]
    assert "NextToken" not in third
    paged = [a["Id"] for page in orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 3})
             for a in page["Accounts"]]
    assert paged == [account.account_id, *members]
    _fails("InvalidInputException", orgs.list_accounts, NextToken="not a token")

    root_id = orgs.list_roots()["Roots"][0]["Id"]
    assert [a["Id"] for a in orgs.list_accounts_for_parent(ParentId=root_id)["Accounts"]] == [account.account_id,
                                                                                              *members]
    _fails("ParentNotFoundException", orgs.list_accounts_for_parent, ParentId="r-zzzz")


def test_operations_outside_an_organization(world: AwsWorld, account: Account) -> None:
    orgs = world.organizations(account.root)
    for name, kw in (("describe_organization", {}), ("delete_organization", {}), ("list_accounts", {}),
                     ("list_roots", {}), ("list_create_account_status", {}),
                     ("describe_account", {"AccountId": account.account_id}),
                     ("create_account", {"Email": "n@example.com", "AccountName": "n"}),
                     ("describe_create_account_status", {"CreateAccountRequestId": "car-" + "1" * 32}),
                     ("list_accounts_for_parent", {"ParentId": "r-abcd"})):
        err = _fails("AWSOrganizationsNotInUseException", getattr(orgs, name), **kw)
        assert isinstance(err, orgs.exceptions.AWSOrganizationsNotInUseException)


def test_iam_principals_need_organizations_actions(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    nobody = world.organizations(world.api_user(account, "nobody"))
    _fails("AccessDeniedException", nobody.describe_organization)
    _fails("AccessDeniedException", nobody.create_account, Email="z@example.com", AccountName="z")
    reader = world.organizations(world.api_user(account, "reader", "arn:aws:iam::aws:policy/IAMReadOnlyAccess"))
    _fails("AccessDeniedException", reader.list_accounts)
    admin = world.organizations(world.api_user(account, "admin", ADMIN))
    assert len(admin.list_accounts()["Accounts"]) == 1


def test_delete_organization_only_when_no_members_remain(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    orgs = world.organizations(account.root)
    orgs.delete_organization()
    _fails("AWSOrganizationsNotInUseException", orgs.describe_organization)
    world.new_organization(account)  # a new one may follow
    world.new_member_account(account)
    err = _fails("OrganizationNotEmptyException", orgs.delete_organization)
    assert isinstance(err, orgs.exceptions.OrganizationNotEmptyException)
    assert orgs.describe_organization()["Organization"]["MasterAccountId"] == account.account_id
    events = world.run(_events(account.account_id))
    assert {"OrganizationCreated", "OrganizationDeleted", "OrganizationAccountCreated"} <= events


def _events(account_id: str) -> Any:
    async def read(deps: Any) -> set[str]:
        async with deps.store.unit() as uow:
            return {e.event for e in await uow.audit.for_account(account_id)}

    return read


def test_iam_organization_features_in_an_organization(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    iam = world.iam(account.root)
    _fails("ServiceAccessNotEnabledException", iam.list_organizations_features)
    _fails("ServiceAccessNotEnabledException", iam.enable_organizations_root_sessions)
    admin = world.api_user(account, "org-admin", ADMIN)
    member_id, _ = world.new_member_account(account)
    session = Keys.of(world.sts(admin).assume_role(
        RoleArn=f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"])
    _fails("AccountNotManagementOrDelegatedAdministratorException", world.iam(session).list_organizations_features)
    job = iam.generate_organizations_access_report(EntityPath="o-aaaaaaaaaa/r-aaaa")["JobId"]
    report = iam.get_organizations_access_report(JobId=job)
    assert report["JobStatus"] == "FAILED"
    assert report["ErrorDetails"]["Code"] == "ServiceAccessNotEnabledException"


def test_aws_cli_organizations(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "AWS_ENDPOINT_URL": world.url,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": str(tmp_path / "c"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "k"), "PYTHONWARNINGS": "ignore",
           "AWS_ACCESS_KEY_ID": account.root.access_key_id, "AWS_SECRET_ACCESS_KEY": account.root.secret_access_key}
    aws = str(Path(sys.executable).parent / "aws")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([aws, "organizations", *args, "--output", "json"], env=env, capture_output=True,
                              text=True, timeout=60, check=False)

    missing = run("describe-organization")
    assert missing.returncode != 0 and "AWSOrganizationsNotInUseException" in missing.stderr
    created = run("create-organization", "--feature-set", "ALL")
    assert created.returncode == 0, created.stderr
    org_id = json.loads(created.stdout)["Organization"]["Id"]
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    made = run("create-account", "--email", email, "--account-name", "cli member")
    assert made.returncode == 0, made.stderr
    request_id = json.loads(made.stdout)["CreateAccountStatus"]["Id"]
    state = run("describe-create-account-status", "--create-account-request-id", request_id,
                "--query", "CreateAccountStatus.State")
    assert json.loads(state.stdout) == "SUCCEEDED"
    listed = run("list-accounts", "--query", "Accounts[].Email")
    assert json.loads(listed.stdout) == [account.email, email]
    assert json.loads(run("describe-organization").stdout)["Organization"]["Id"] == org_id


def test_member_root_sets_its_password_by_mail_and_signs_in(world: AwsWorld, account: Account) -> None:
    """The management account's root reaches a member account only through the member's own root user: its
    password is set through the root "forgot password" mail link, then it signs in with it (and a mailed code)."""
    world.new_organization(account)
    member_id, email = world.new_member_account(account, "mail member")
    mailbox = world.deps.mailer
    assert isinstance(mailbox, DevMailbox)
    new_password = "member root password 9"

    async def go() -> None:
        async with httpx.AsyncClient(base_url=world.url, timeout=30) as browser:
            for password in (ROOT_PASSWORD, "anything at all 1"):  # no password works before the reset
                r = await _root_password(browser, email, password)
                assert r.status_code == 200 and r.headers.get("location") is None
            world.clear_signin_failures()  # two failures from this address: no CAPTCHA on the next sign-in
            page = await browser.get("/recovery")
            answer = world.live.captcha.latest
            r = await browser.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": email,
                                                      "captcha": answer})
            assert r.status_code == 200
            token = await _mailed(mailbox, email, _LINK)
            opened = await browser.get(f"/recovery/reset?token={token}")
            assert opened.status_code == 303
            flow_url = opened.headers["location"]
            form = await browser.get(flow_url)
            done = await browser.post(flow_url, data={"csrf_token": csrf_of(form.text), "new_password": new_password,
                                                      "confirm_password": new_password})
            assert done.status_code in (200, 303), done.text
        async with httpx.AsyncClient(base_url=world.url, timeout=30) as browser:
            r = await _root_password(browser, email, new_password)
            assert r.status_code == 303, r.text
            if r.headers["location"] != "/console":
                flow_url = r.headers["location"]
                code = await _mailed(mailbox, email, re.compile(r"\b(\d{6})\b"))
                page = await browser.get(flow_url)
                r = await browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "email_code",
                                                       "verification_code": code})
            assert r.status_code == 303 and r.headers["location"] == "/console", r.text
            console = await browser.get("/console")
            assert console.status_code == 200 and member_id in console.text.replace("-", "")

    world.clear_signin_failures()
    asyncio.run(go())
    world.clear_signin_failures()


async def _root_password(browser: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    page = await browser.get("/?root=1")
    r = await browser.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root", "email": email})
    assert r.status_code == 303, r.text
    flow_url = r.headers["location"]
    page = await browser.get(flow_url)
    return await browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                              "password": password})


async def _mailed(mailbox: DevMailbox, to: str, pattern: re.Pattern[str]) -> str:
    """The newest match of `pattern` in mail to `to` (mail leaves through the outbox: it may take a moment)."""
    for _ in range(200):
        for mail in reversed(mailbox.messages):
            if mail.to == to and (found := pattern.search(mail.body)):
                return found.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing matching {pattern.pattern} mailed to {to}")


def test_input_breaking_the_model_is_invalid_input_exception(world: AwsWorld, account: Account) -> None:
    """The Organizations model names invalid input InvalidInputException (not ValidationException, which the
    other JSON 1.1 services use), also for what the shared codec refuses before the handler runs."""
    world.new_organization(account)
    raw = world.organizations(account.root, validate=False)
    err = _fails("InvalidInputException", raw.describe_account, AccountId="not-an-account-id")
    assert isinstance(err, raw.exceptions.InvalidInputException)
    _fails("InvalidInputException", raw.create_account, Email="member@example.com", AccountName="")
    _fails("InvalidInputException", raw.list_accounts, MaxResults=0)
    ids = world.client("identitystore", account.root, validate=False)
    _fails("ValidationException", ids.list_users, IdentityStoreId="not-a-store")
