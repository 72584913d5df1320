"""Account-wide IAM reports through boto3 and the aws CLI: the credential report (GenerateCredentialReport reused
within four hours, GetCredentialReport's CSV read with the csv module, its errors) and
GetAccountAuthorizationDetails (every section, filters, pages across sections)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from integration.aws.test_aws_cli import Cli
from support import csrf_of
from vestibule.services.context import Deps
from vestibule.services.iam import credential_report
from vestibule.store.models import CredentialReport

COLUMNS = ["user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
           "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
           "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
           "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
           "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
           "cert_2_active", "cert_2_last_rotated"]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
READ_USERS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers"], "Resource": "*"}]})


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _certificate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signing")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _rows(content: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    assert reader.fieldnames == COLUMNS
    return list(reader)


def _iso(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.utcoffset() == dt.timedelta(0) and value.endswith("+00:00"), value
    return parsed


@pytest.fixture
def browser(world: AwsWorld) -> Iterator[httpx.Client]:
    world.clear_signin_failures()
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=20) as client:
        yield client


def _console_sign_in(browser: httpx.Client, account: str, username: str, password: str) -> None:
    page = browser.get(f"/{account}/console")
    r = browser.post(f"/{account}/console", data={"csrf_token": csrf_of(page.text), "username": username,
                                                  "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text


def _generate_until_complete(iam: Any) -> list[str]:
    states = []
    for _ in range(5):
        states.append(iam.generate_credential_report()["State"])
        if states[-1] == "COMPLETE":
            return states
    raise AssertionError(f"never complete: {states}")


def test_credential_report_lists_root_and_users_with_their_credentials(
        world: AwsWorld, account: Account, browser: httpx.Client) -> None:
    iam = world.iam(account.root)
    iam.update_account_password_policy(MinimumPasswordLength=8, MaxPasswordAge=90)
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="alice password 1")
    _console_sign_in(browser, account.alias, "alice", "alice password 1")
    first = iam.create_access_key(UserName="alice")["AccessKey"]
    second = iam.create_access_key(UserName="alice")["AccessKey"]
    iam.update_access_key(UserName="alice", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError):  # signed with the first key: denied, but the key was used
        world.iam(Keys.of(first)).get_user()
    world.enable_virtual_mfa(iam, "alice-phone", "alice")
    iam.upload_signing_certificate(UserName="alice", CertificateBody=_certificate_pem())
    iam.create_user(UserName="bob")  # no password, keys, MFA or certificates
    world.enable_root_mfa(account, "root-phone")

    assert _fails("ReportNotPresent", iam.get_credential_report).response["ResponseMetadata"]["HTTPStatusCode"] == 410
    started = iam.generate_credential_report()
    assert started["State"] == "STARTED"
    assert started["Description"] == "No report exists. Starting a new report generation task"
    assert _generate_until_complete(iam) == ["COMPLETE"]
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    assert abs(report["GeneratedTime"].timestamp() - world.clock()) < 60
    rows = _rows(report["Content"])
    assert [r["user"] for r in rows] == ["<root_account>", "alice", "bob"]

    root = rows[0]
    assert root["arn"] == account.root_arn
    assert (root["password_enabled"], root["password_last_changed"], root["password_next_rotation"]) == (
        "not_supported", "not_supported", "not_supported")
    assert root["password_last_used"] == "no_information"  # the root user never signed in to the console here
    assert root["mfa_active"] == "true"
    assert root["access_key_1_active"] == "true" and root["access_key_2_active"] == "false"
    _iso(root["user_creation_time"])

    alice = rows[1]
    assert alice["arn"] == account.user_arn("alice")
    assert alice["password_enabled"] == "true" and alice["mfa_active"] == "true"
    used = _iso(alice["password_last_used"])
    changed = _iso(alice["password_last_changed"])
    assert abs(used.timestamp() - world.clock()) < 120
    assert _iso(alice["password_next_rotation"]) - changed == dt.timedelta(days=90)
    assert alice["access_key_1_active"] == "true"
    assert _iso(alice["access_key_1_last_rotated"]) <= _iso(alice["access_key_1_last_used_date"])
    assert (alice["access_key_1_last_used_region"], alice["access_key_1_last_used_service"]) == ("us-east-1", "iam")
    assert (alice["access_key_2_active"], alice["access_key_2_last_rotated"],
            alice["access_key_2_last_used_date"]) == ("false", "N/A", "N/A")
    assert alice["cert_1_active"] == "true" and _iso(alice["cert_1_last_rotated"])
    assert (alice["cert_2_active"], alice["cert_2_last_rotated"]) == ("false", "N/A")

    bob = rows[2]
    assert {k: bob[k] for k in COLUMNS[3:]} == {
        "password_enabled": "false", "password_last_used": "N/A", "password_last_changed": "N/A",
        "password_next_rotation": "N/A", "mfa_active": "false",
        **{f"access_key_{n}_{f}": v for n in (1, 2) for f, v in (
            ("active", "false"), ("last_rotated", "N/A"), ("last_used_date", "N/A"), ("last_used_region", "N/A"),
            ("last_used_service", "N/A"))},
        "cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A"}


def test_a_report_is_reused_for_four_hours_then_expires(world: AwsWorld, account: Account,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    iam = world.iam(account.root)
    assert iam.generate_credential_report()["State"] == "STARTED"
    first = iam.get_credential_report()
    iam.create_user(UserName="late")
    assert iam.generate_credential_report()["State"] == "COMPLETE"  # within four hours: the same report
    assert iam.get_credential_report()["Content"] == first["Content"]
    world.shift(monkeypatch, 4 * 3600 + 60)
    shifted = world.iam(account.root)
    _fails("ReportExpired", shifted.get_credential_report)
    assert shifted.generate_credential_report()["State"] == "STARTED"
    assert "late" in [r["user"] for r in _rows(shifted.get_credential_report()["Content"])]


def test_a_report_being_generated_is_in_progress(world: AwsWorld, account: Account) -> None:
    async def generating(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            await uow.credential_reports.ensure(account.account_id)
            row = await uow.credential_reports.get(account.account_id)
            assert row is not None
            row.generating_since = deps.clock()

    world.run(generating)
    iam = world.iam(account.root)
    err = _fails("ReportInProgress", iam.get_credential_report)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert iam.generate_credential_report()["State"] == "INPROGRESS"

    async def abandoned(deps: Deps) -> None:  # its server died: after ten minutes a new generation starts
        async with deps.store.unit() as uow:
            row = await uow.credential_reports.get(account.account_id)
            assert isinstance(row, CredentialReport)
            row.generating_since = deps.clock() - credential_report.ABANDONED_SECONDS - 1

    world.run(abandoned)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.get_credential_report()["Content"].startswith(b"user,arn,")



def test_concurrent_generations_start_one_report(world: AwsWorld, account: Account) -> None:
    clients = [world.iam(account.root) for _ in range(4)]
    barrier = threading.Barrier(len(clients))

    def generate(iam: Any) -> str:
        barrier.wait()
        return str(iam.generate_credential_report()["State"])

    with ThreadPoolExecutor(len(clients)) as pool:
        states = list(pool.map(generate, clients))
    assert states.count("STARTED") == 1, states
    assert set(states) <= {"STARTED", "INPROGRESS", "COMPLETE"}
    assert _generate_until_complete(clients[0]) == ["COMPLETE"]


def test_credential_report_needs_its_permissions(world: AwsWorld, account: Account) -> None:
    reader = world.api_user(account, "auditor", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    nobody = world.api_user(account, "nobody")
    _fails("AccessDenied", world.iam(nobody).generate_credential_report)
    _fails("AccessDenied", world.iam(nobody).get_credential_report)
    assert world.iam(reader).generate_credential_report()["State"] == "STARTED"
    users = [r["user"] for r in _rows(world.iam(reader).get_credential_report()["Content"])]
    assert users == ["<root_account>", "auditor", "nobody"]


def _page_all(iam: Any, **kwargs: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate(**kwargs):
        for key in found:
            found[key] += page[key]
    return found


def _authorization_world(world: AwsWorld, account: Account) -> Any:
    iam = world.iam(account.root)
    iam.create_group(GroupName="devs", Path="/teams/")
    iam.put_group_policy(GroupName="devs", PolicyName="read-users", PolicyDocument=READ_USERS)
    iam.attach_group_policy(GroupName="devs", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    policy = iam.create_policy(PolicyName="custom", PolicyDocument=READ_USERS, Description="mine")["Policy"]
    iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=READ_USERS.replace("ListUsers", "ListRoles"),
                              SetAsDefault=True)
    iam.create_user(UserName="carol", Tags=[{"Key": "team", "Value": "devs"}])
    iam.add_user_to_group(GroupName="devs", UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="inline", PolicyDocument=READ_USERS)
    iam.attach_user_policy(UserName="carol", PolicyArn=policy["Arn"])
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "tier", "Value": "web"}])
    iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_role_policy(RoleName="app", PolicyName="role-inline", PolicyDocument=READ_USERS)
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    for n in range(3):
        iam.create_user(UserName=f"extra{n}")
    return policy


def test_account_authorization_details_describes_every_entity(world: AwsWorld, account: Account) -> None:
    policy = _authorization_world(world, account)
    iam = world.iam(account.root)
    found = iam.get_account_authorization_details()
    assert found["IsTruncated"] is False and "Marker" not in found
    users = {u["UserName"]: u for u in found["UserDetailList"]}
    assert set(users) == {"carol", "extra0", "extra1", "extra2"}
    carol = users["carol"]
    assert carol["Arn"] == account.user_arn("carol") and carol["GroupList"] == ["devs"]
    # boto3 decodes the URL-encoded documents (it sees them as botocore's model says they are)
    assert [(p["PolicyName"], p["PolicyDocument"]) for p in carol["UserPolicyList"]] == [
        ("inline", json.loads(READ_USERS))]
    assert carol["AttachedManagedPolicies"] == [{"PolicyName": "custom", "PolicyArn": policy["Arn"]}]
    assert carol["Tags"] == [{"Key": "team", "Value": "devs"}]
    assert "PermissionsBoundary" not in carol
    (group,) = found["GroupDetailList"]
    assert group["GroupName"] == "devs" and group["Path"] == "/teams/"
    assert [p["PolicyName"] for p in group["GroupPolicyList"]] == ["read-users"]
    assert group["AttachedManagedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}]
    (role,) = found["RoleDetailList"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert [p["InstanceProfileName"] for p in role["InstanceProfileList"]] == ["app-profile"]
    assert role["InstanceProfileList"][0]["Roles"][0]["RoleName"] == "app"
    assert [p["PolicyName"] for p in role["RolePolicyList"]] == ["role-inline"]
    assert role["AttachedManagedPolicies"][0]["PolicyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert role["Tags"] == [{"Key": "tier", "Value": "web"}] and role["RoleLastUsed"] == {}
    policies = {p["PolicyName"]: p for p in found["Policies"]}
    assert set(policies) == {"IAMReadOnlyAccess", "ReadOnlyAccess", "custom"}  # AWS managed ones only when in use
    custom = policies["custom"]
    assert custom["DefaultVersionId"] == "v2" and custom["AttachmentCount"] == 1 and custom["Description"] == "mine"
    versions = {v["VersionId"]: v for v in custom["PolicyVersionList"]}
    assert versions["v2"]["IsDefaultVersion"] is True and versions["v1"]["IsDefaultVersion"] is False
    assert versions["v2"]["Document"]["Statement"][0]["Action"] == ["iam:GetUser", "iam:ListRoles"]
    assert policies["IAMReadOnlyAccess"]["PolicyVersionList"][0]["VersionId"] == "v1"

    roles_only = iam.get_account_authorization_details(Filter=["Role", "LocalManagedPolicy"])
    assert (roles_only["UserDetailList"], roles_only["GroupDetailList"]) == ([], [])
    assert [r["RoleName"] for r in roles_only["RoleDetailList"]] == ["app"]
    assert [p["PolicyName"] for p in roles_only["Policies"]] == ["custom"]
    aws_only = iam.get_account_authorization_details(Filter=["AWSManagedPolicy"])
    assert sorted(p["PolicyName"] for p in aws_only["Policies"]) == ["IAMReadOnlyAccess", "ReadOnlyAccess"]



def test_account_authorization_details_shows_permissions_boundaries(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=READ_USERS)["Policy"]["Arn"]
    iam.create_user(UserName="bounded")
    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=boundary)
    iam.create_role(RoleName="bounded-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_permissions_boundary(RoleName="bounded-role", PermissionsBoundary=boundary)
    found = iam.get_account_authorization_details()
    expected = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
    assert found["UserDetailList"][0]["PermissionsBoundary"] == expected
    assert found["RoleDetailList"][0]["PermissionsBoundary"] == expected
    (policy,) = found["Policies"]
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (0, 2)


def test_account_authorization_details_pages_across_sections(world: AwsWorld, account: Account) -> None:
    _authorization_world(world, account)
    iam = world.iam(account.root)
    whole = iam.get_account_authorization_details()
    for size in (1, 2, 3, 4, 5, 7):
        paged = _page_all(iam, PaginationConfig={"PageSize": size})
        for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
            assert paged[key] == whole[key], (size, key)
    first = iam.get_account_authorization_details(MaxItems=4)
    assert first["IsTruncated"] is True and len(first["UserDetailList"]) == 4 and first["GroupDetailList"] == []
    second = iam.get_account_authorization_details(MaxItems=4, Marker=first["Marker"])
    assert [g["GroupName"] for g in second["GroupDetailList"]] == ["devs"]
    assert [r["RoleName"] for r in second["RoleDetailList"]] == ["app"] and len(second["Policies"]) == 2


def test_account_authorization_details_errors_and_permissions(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root, validate=False)
    _fails("ValidationError", iam.get_account_authorization_details, Filter=["Robot"])
    _fails("ValidationError", iam.get_account_authorization_details, Marker="not a marker")
    _fails("ValidationError", iam.get_account_authorization_details, MaxItems=0)
    nobody = world.api_user(account, "nobody")
    _fails("AccessDenied", world.iam(nobody).get_account_authorization_details)
    reader = world.api_user(account, "reader", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    names = [u["UserName"] for u in world.iam(reader).get_account_authorization_details()["UserDetailList"]]
    assert names == ["nobody", "reader"]


@pytest.fixture
def cli(world: AwsWorld, tmp_path: Path) -> Cli:
    return Cli(world, tmp_path)


def test_cli_pages_account_authorization_details(world: AwsWorld, account: Account, cli: Cli) -> None:
    _authorization_world(world, account)
    whole = cli.ok(account.root, "iam", "get-account-authorization-details")
    assert len(whole["UserDetailList"]) == 4 and len(whole["Policies"]) == 3
    seen: dict[str, list[Any]] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    token: str | None = None
    pages = 0
    while True:
        args = ["iam", "get-account-authorization-details", "--max-items", "3"]
        if token:
            args += ["--starting-token", token]
        page = cli.ok(account.root, *args)
        pages += 1
        for key in seen:
            seen[key] += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 2  # the CLI counts --max-items on the first list (users: 4), then takes whole pages
    assert [u["UserName"] for u in seen["UserDetailList"]] == [u["UserName"] for u in whole["UserDetailList"]]
    assert seen["GroupDetailList"] == whole["GroupDetailList"] and seen["RoleDetailList"] == whole["RoleDetailList"]
    assert [p["Arn"] for p in seen["Policies"]] == [p["Arn"] for p in whole["Policies"]]
    roles = cli.ok(account.root, "iam", "get-account-authorization-details", "--filter", "Role")
    assert [r["RoleName"] for r in roles["RoleDetailList"]] == ["app"] and roles["UserDetailList"] == []

