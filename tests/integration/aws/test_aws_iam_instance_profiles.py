"""Instance profiles (and the role each holds), tags on roles, instance profiles and MFA devices, and what GetRole
says about a role's last use, through boto3 against the live server."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.config
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, at_once, error_code
from integration.aws.test_aws_cli import Cli
from vestibule.services.iam import instance_profiles


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def _tags(n: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": f"v{i}"} for i in range(n)]


def test_instance_profile_lifecycle(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    made = iam.create_instance_profile(InstanceProfileName="web", Path="/apps/",
                                       Tags=[{"Key": "team", "Value": "infra"}])["InstanceProfile"]
    assert made["Arn"] == f"arn:aws:iam::{account.account_id}:instance-profile/apps/web"
    assert made["InstanceProfileId"].startswith("AIPA") and len(made["InstanceProfileId"]) == 21
    assert made["Path"] == "/apps/" and made["Roles"] == [] and made["Tags"] == [{"Key": "team", "Value": "infra"}]
    _fails("EntityAlreadyExists", iam.create_instance_profile, InstanceProfileName="WEB")
    _fails("NoSuchEntity", iam.get_instance_profile, InstanceProfileName="nope")
    _fails("NoSuchEntity", iam.delete_instance_profile, InstanceProfileName="nope")
    _fails("ValidationError", world.iam(account.root, validate=False).create_instance_profile,
           InstanceProfileName="bad name")

    iam.create_role(RoleName="app", AssumeRolePolicyDocument=_trust(account.root_arn))
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=_trust(account.root_arn))
    _fails("NoSuchEntity", iam.add_role_to_instance_profile, InstanceProfileName="web", RoleName="ghost")
    _fails("NoSuchEntity", iam.add_role_to_instance_profile, InstanceProfileName="ghost", RoleName="app")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="app")
    err = _fails("LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="web", RoleName="other")
    assert "InstanceSessionsPerInstanceProfile: 1" in err.response["Error"]["Message"]
    _fails("LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="web", RoleName="app")
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["app"]
    assert got["Roles"][0]["Arn"] == f"arn:aws:iam::{account.account_id}:role/app"

    err = _fails("DeleteConflict", iam.delete_instance_profile, InstanceProfileName="web")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    _fails("DeleteConflict", iam.delete_role, RoleName="app")
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="app")[
        "InstanceProfiles"]] == ["web"]
    assert iam.list_instance_profiles_for_role(RoleName="other")["InstanceProfiles"] == []
    _fails("NoSuchEntity", iam.list_instance_profiles_for_role, RoleName="ghost")

    _fails("NoSuchEntity", iam.remove_role_from_instance_profile, InstanceProfileName="web", RoleName="other")
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="app")
    _fails("NoSuchEntity", iam.remove_role_from_instance_profile, InstanceProfileName="web", RoleName="app")
    assert iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Roles"] == []
    iam.delete_role(RoleName="app")
    iam.delete_instance_profile(InstanceProfileName="web")
    _fails("NoSuchEntity", iam.get_instance_profile, InstanceProfileName="web")
    assert iam.list_instance_profiles()["InstanceProfiles"] == []


def test_list_instance_profiles_pages_and_path_prefix(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    for i in range(5):
        iam.create_instance_profile(InstanceProfileName=f"p{i}", Path="/a/" if i % 2 else "/")
    everything = iam.list_instance_profiles()
    assert [p["InstanceProfileName"] for p in everything["InstanceProfiles"]] == ["p0", "p1", "p2", "p3", "p4"]
    assert everything["IsTruncated"] is False
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/a/")[
        "InstanceProfiles"]] == ["p1", "p3"]
    first = iam.list_instance_profiles(MaxItems=2)
    assert first["IsTruncated"] and len(first["InstanceProfiles"]) == 2
    paged = [p["InstanceProfileName"] for page in iam.get_paginator("list_instance_profiles").paginate(
        PaginationConfig={"PageSize": 2}) for p in page["InstanceProfiles"]]
    assert paged == ["p0", "p1", "p2", "p3", "p4"]
    _fails("ValidationError", iam.list_instance_profiles, Marker="not-a-marker")
    _fails("ValidationError", world.iam(account.root, validate=False).list_instance_profiles, MaxItems=0)


def test_instance_profile_tags(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_instance_profile(InstanceProfileName="tagged")
    iam.tag_instance_profile(InstanceProfileName="tagged", Tags=_tags(3))
    iam.tag_instance_profile(InstanceProfileName="tagged", Tags=[{"Key": "k1", "Value": "new"}])
    tags = iam.list_instance_profile_tags(InstanceProfileName="tagged")
    assert tags["Tags"] == [{"Key": "k0", "Value": "v0"}, {"Key": "k1", "Value": "new"},
                            {"Key": "k2", "Value": "v2"}] and tags["IsTruncated"] is False
    first = iam.list_instance_profile_tags(InstanceProfileName="tagged", MaxItems=2)
    assert first["IsTruncated"] and len(first["Tags"]) == 2
    rest = iam.list_instance_profile_tags(InstanceProfileName="tagged", Marker=first["Marker"])
    assert rest["Tags"] == [{"Key": "k2", "Value": "v2"}]
    iam.untag_instance_profile(InstanceProfileName="tagged", TagKeys=["k0", "absent"])
    assert [t["Key"] for t in iam.list_instance_profile_tags(InstanceProfileName="tagged")["Tags"]] == ["k1", "k2"]
    assert [t["Key"] for t in iam.get_instance_profile(InstanceProfileName="tagged")["InstanceProfile"][
        "Tags"]] == ["k1", "k2"]
    _fails("NoSuchEntity", iam.tag_instance_profile, InstanceProfileName="ghost", Tags=_tags(1))
    _fails("NoSuchEntity", iam.untag_instance_profile, InstanceProfileName="ghost", TagKeys=["k"])
    _fails("NoSuchEntity", iam.list_instance_profile_tags, InstanceProfileName="ghost")
    _fails("LimitExceeded", iam.tag_instance_profile, InstanceProfileName="tagged", Tags=_tags(49, "x"))
    iam.tag_instance_profile(InstanceProfileName="tagged", Tags=_tags(48, "x"))
    assert len(iam.list_instance_profile_tags(InstanceProfileName="tagged", MaxItems=100)["Tags"]) == 50
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.tag_instance_profile, InstanceProfileName="tagged", Tags=_tags(51, "y"))
    _fails("InvalidInput", iam.create_instance_profile, InstanceProfileName="dup",
           Tags=[{"Key": "Env", "Value": "a"}, {"Key": "env", "Value": "b"}])
    _fails("NoSuchEntity", iam.get_instance_profile, InstanceProfileName="dup")


def test_role_tags(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=_trust(account.root_arn),
                    Tags=[{"Key": "env", "Value": "prod"}])
    iam.tag_role(RoleName="tagged", Tags=[{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "dev"}])
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == [{"Key": "env", "Value": "dev"},
                                                             {"Key": "team", "Value": "core"}]
    first = iam.list_role_tags(RoleName="tagged", MaxItems=1)
    assert first["IsTruncated"] and first["Tags"] == [{"Key": "env", "Value": "dev"}]
    iam.untag_role(RoleName="tagged", TagKeys=["env"])
    assert iam.get_role(RoleName="tagged")["Role"]["Tags"] == [{"Key": "team", "Value": "core"}]
    _fails("NoSuchEntity", iam.tag_role, RoleName="ghost", Tags=_tags(1))
    _fails("NoSuchEntity", iam.untag_role, RoleName="ghost", TagKeys=["k"])
    _fails("NoSuchEntity", iam.list_role_tags, RoleName="ghost")
    _fails("LimitExceeded", iam.tag_role, RoleName="tagged", Tags=_tags(50))
    _fails("InvalidInput", iam.tag_role, RoleName="tagged",
           Tags=[{"Key": "Dup", "Value": "a"}, {"Key": "dup", "Value": "b"}])
    _fails("InvalidInput", iam.create_role, RoleName="dup", AssumeRolePolicyDocument=_trust(account.root_arn),
           Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}])
    assert [t["Key"] for t in iam.list_role_tags(RoleName="tagged")["Tags"]] == ["team"]
    iam.delete_role(RoleName="tagged")
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=_trust(account.root_arn))
    assert iam.list_role_tags(RoleName="tagged")["Tags"] == []


def test_mfa_device_tags(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="tagged")["VirtualMFADevice"]["SerialNumber"]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "owner", "Value": "ops"}, {"Key": "kind", "Value": "v"}])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "kind", "Value": "v"},
                                                                     {"Key": "owner", "Value": "ops"}]
    page = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=1)
    assert page["IsTruncated"] and page["Tags"] == [{"Key": "kind", "Value": "v"}]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["kind"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "owner", "Value": "ops"}]
    ghost = f"arn:aws:iam::{account.account_id}:mfa/ghost"
    _fails("NoSuchEntity", iam.tag_mfa_device, SerialNumber=ghost, Tags=_tags(1))
    _fails("NoSuchEntity", iam.untag_mfa_device, SerialNumber=ghost, TagKeys=["k"])
    _fails("NoSuchEntity", iam.list_mfa_device_tags, SerialNumber=ghost)
    _fails("LimitExceeded", iam.tag_mfa_device, SerialNumber=serial, Tags=_tags(50))
    _fails("InvalidInput", iam.tag_mfa_device, SerialNumber=serial,
           Tags=[{"Key": "X", "Value": "a"}, {"Key": "x", "Value": "b"}])
    other = world.new_account()  # another account's root is denied on this account's device (as AWS answers)
    _fails("AccessDenied", world.iam(other.root).list_mfa_device_tags, SerialNumber=serial)

    iam.delete_virtual_mfa_device(SerialNumber=serial)
    again = iam.create_virtual_mfa_device(VirtualMFADeviceName="tagged")["VirtualMFADevice"]["SerialNumber"]
    assert again == serial and iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == []


def test_get_role_last_used_and_empty_description(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="caller")
    iam.put_user_policy(UserName="caller", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="caller")["AccessKey"]
    role = iam.create_role(RoleName="used", Description="",
                           AssumeRolePolicyDocument=_trust(account.user_arn("caller")))["Role"]
    assert role["Description"] == ""
    plain = iam.create_role(RoleName="plain", AssumeRolePolicyDocument=_trust(account.root_arn))["Role"]
    assert "Description" not in plain
    assert "Description" not in iam.get_role(RoleName="plain")["Role"]
    got = iam.get_role(RoleName="used")["Role"]
    assert got["Description"] == "" and got["RoleLastUsed"] == {}

    before = datetime.now(UTC) - timedelta(seconds=5)
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1})
    sts = world._session.client("sts", endpoint_url=world.url, region_name="eu-west-2", config=config,
                                aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    used = iam.get_role(RoleName="used")["Role"]["RoleLastUsed"]
    assert used["Region"] == "eu-west-2"
    assert before <= used["LastUsedDate"] <= datetime.now(UTC) + timedelta(seconds=5)
    listed = {r["RoleName"]: r for r in iam.list_roles()["Roles"]}
    assert "RoleLastUsed" not in listed["used"] and listed["used"]["Description"] == ""
    iam.update_role(RoleName="plain", Description="")
    assert iam.get_role(RoleName="plain")["Role"]["Description"] == ""


def test_cli_pages_instance_profiles(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    cli = Cli(world, tmp_path)
    for name in ("c1", "c2", "c3"):
        cli.ok(account.root, "iam", "create-instance-profile", "--instance-profile-name", name)
    first = cli.ok(account.root, "iam", "list-instance-profiles", "--max-items", "2")
    assert [p["InstanceProfileName"] for p in first["InstanceProfiles"]] == ["c1", "c2"] and first["NextToken"]
    rest = cli.ok(account.root, "iam", "list-instance-profiles", "--max-items", "2",
                  "--starting-token", first["NextToken"])
    assert [p["InstanceProfileName"] for p in rest["InstanceProfiles"]] == ["c3"] and "NextToken" not in rest
    tiny = cli.ok(account.root, "iam", "list-instance-profiles", "--page-size", "1")  # three requests of one
    assert [p["InstanceProfileName"] for p in tiny["InstanceProfiles"]] == ["c1", "c2", "c3"]


def test_concurrent_adds_put_one_role_in_a_profile(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_instance_profile(InstanceProfileName="contended")
    names = [f"r{i}" for i in range(8)]
    for name in names:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(account.root_arn))
    clients = [world.iam(account.root) for _ in names]
    outcomes = at_once([functools.partial(c.add_role_to_instance_profile, InstanceProfileName="contended",
                                           RoleName=n) for c, n in zip(clients, names, strict=True)])
    assert sorted(outcomes) == ["LimitExceeded"] * 7 + ["ok"], outcomes
    held = iam.get_instance_profile(InstanceProfileName="contended")["InstanceProfile"]["Roles"]
    assert len(held) == 1 and held[0]["RoleName"] == names[outcomes.index("ok")]


def test_virtual_mfa_device_names_longer_than_a_serial_allows(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    _fails("InvalidInput", iam.create_virtual_mfa_device, VirtualMFADeviceName="9" * 129)
    long_path = "/" + "p" * 200 + "/"
    _fails("InvalidInput", iam.create_virtual_mfa_device, VirtualMFADeviceName="n" * 40, Path=long_path)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="n" * 128)["VirtualMFADevice"]["SerialNumber"]
    assert len(serial) <= 256 and iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == []
    assert all(d["SerialNumber"] != "9" * 129 for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"])


def test_mfa_device_listings_honour_max_items(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="holder")
    serials = sorted(world.enable_virtual_mfa(iam, f"d{i}", "holder")[0] for i in range(3))
    spare = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]["SerialNumber"]
    first = iam.list_virtual_mfa_devices(MaxItems=2)
    assert first["IsTruncated"] and len(first["VirtualMFADevices"]) == 2
    rest = iam.list_virtual_mfa_devices(MaxItems=2, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    assert [d["SerialNumber"] for d in first["VirtualMFADevices"] + rest["VirtualMFADevices"]] == sorted(
        [*serials, spare])
    paged = [d["SerialNumber"] for page in iam.get_paginator("list_virtual_mfa_devices").paginate(
        AssignmentStatus="Assigned", PaginationConfig={"PageSize": 1}) for d in page["VirtualMFADevices"]]
    assert paged == serials
    _fails("ValidationError", iam.list_virtual_mfa_devices, Marker="bogus")

    mine = iam.list_mfa_devices(UserName="holder", MaxItems=2)
    assert mine["IsTruncated"] and len(mine["MFADevices"]) == 2
    more = iam.list_mfa_devices(UserName="holder", MaxItems=2, Marker=mine["Marker"])
    assert more["IsTruncated"] is False and len(more["MFADevices"]) == 1
    assert sorted(d["SerialNumber"] for d in mine["MFADevices"] + more["MFADevices"]) == serials


def test_adding_a_role_needs_pass_role_on_it(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_instance_profile(InstanceProfileName="ec2")
    iam.create_role(RoleName="admin", AssumeRolePolicyDocument=_trust(account.root_arn))
    iam.create_role(RoleName="worker", Path="/app/", AssumeRolePolicyDocument=_trust(account.root_arn))
    iam.create_user(UserName="builder")
    iam.put_user_policy(UserName="builder", PolicyName="profiles", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:AddRoleToInstanceProfile", "iam:GetInstanceProfile"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole",
             "Resource": f"arn:aws:iam::{account.account_id}:role/app/*"}]}))
    builder = world.iam(Keys.of(iam.create_access_key(UserName="builder")["AccessKey"]))
    err = _fails("AccessDenied", builder.add_role_to_instance_profile, InstanceProfileName="ec2", RoleName="admin")
    assert "iam:PassRole" in err.response["Error"]["Message"]
    _fails("AccessDenied", builder.add_role_to_instance_profile, InstanceProfileName="ec2", RoleName="ghost")
    assert iam.get_instance_profile(InstanceProfileName="ec2")["InstanceProfile"]["Roles"] == []
    builder.add_role_to_instance_profile(InstanceProfileName="ec2", RoleName="worker")
    assert [r["RoleName"] for r in builder.get_instance_profile(InstanceProfileName="ec2")["InstanceProfile"][
        "Roles"]] == ["worker"]


def test_instance_profiles_per_account(world: AwsWorld, account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    iam = world.iam(account.root)
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["InstanceProfiles"] == 0 and summary["InstanceProfilesQuota"] == 1000
    monkeypatch.setattr(instance_profiles, "MAX_PER_ACCOUNT", 2)  # the server runs in this process
    iam.create_instance_profile(InstanceProfileName="one")
    iam.create_instance_profile(InstanceProfileName="two")
    err = _fails("LimitExceeded", iam.create_instance_profile, InstanceProfileName="three")
    assert "InstanceProfilesPerAccount: 2" in err.response["Error"]["Message"]
    assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 2
    world.iam(world.new_account().root).create_instance_profile(InstanceProfileName="three")  # per account
    iam.delete_instance_profile(InstanceProfileName="one")
    iam.create_instance_profile(InstanceProfileName="three")
