"""Customer managed policies through boto3 and the aws CLI: versions (at most five, one default, the one
evaluated), the entities a policy is attached to, and tags (on create and Tag/Untag/List)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, at_once, error_code
from integration.aws.test_aws_cli import Cli

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def _doc(effect: str = "Allow", action: str = "iam:ListUsers") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]})


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _versions(iam: Any, arn: str) -> list[tuple[str, bool]]:
    return [(v["VersionId"], v["IsDefaultVersion"]) for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]


def test_policy_versions_up_to_five_one_default(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="p", PolicyDocument=_doc())["Policy"]["Arn"]
    assert _versions(iam, arn) == [("v1", True)]
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(action="iam:GetUser"))["PolicyVersion"]
    assert created["VersionId"] == "v2" and created["IsDefaultVersion"] is False and "Document" not in created
    made = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(action="iam:GetRole"), SetAsDefault=True)
    assert made["PolicyVersion"]["VersionId"] == "v3" and made["PolicyVersion"]["IsDefaultVersion"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert got["Document"]["Statement"][0]["Action"] == "iam:GetRole" and got["IsDefaultVersion"] is True
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["IsDefaultVersion"] is False
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())
    assert _versions(iam, arn) == [("v5", False), ("v4", False), ("v3", True), ("v2", False), ("v1", False)]
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["PolicyVersionsInUse"] == 5 and summary["VersionsPerPolicyQuota"] == 5
    _fails("LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=_doc())

    _fails("DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v3")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    _fails("NoSuchEntity", iam.delete_policy_version, PolicyArn=arn, VersionId="v2")
    _fails("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v2")
    # version numbers are never reused
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())["PolicyVersion"]["VersionId"] == "v6"
    _fails("NoSuchEntity", iam.set_default_policy_version, PolicyArn=arn, VersionId="v9")
    listed = {p["Arn"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    assert listed[arn]["DefaultVersionId"] == "v3"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    _fails("MalformedPolicyDocument", iam.create_policy_version, PolicyArn=arn, PolicyDocument="{nope")
    missing = f"arn:aws:iam::{account.account_id}:policy/none"
    for call in (iam.list_policy_versions, iam.get_policy):
        _fails("NoSuchEntity", call, PolicyArn=missing)
    _fails("NoSuchEntity", iam.create_policy_version, PolicyArn=missing, PolicyDocument=_doc())
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.get_policy_version, PolicyArn=arn, VersionId="1")
    _fails("ValidationError", loose.set_default_policy_version, PolicyArn=arn, VersionId="version")

    pages = list(iam.get_paginator("list_policy_versions").paginate(PolicyArn=arn,
                                                                   PaginationConfig={"PageSize": 2}))
    assert [len(p["Versions"]) for p in pages] == [2, 2, 1]
    assert [v["VersionId"] for p in pages for v in p["Versions"]] == ["v6", "v5", "v4", "v3", "v1"]
    _fails("ValidationError", iam.list_policy_versions, PolicyArn=arn, Marker="not-a-marker")

    # built-in policies have one version and cannot change
    assert _versions(iam, READ_ONLY) == [("v1", True)]
    _fails("NoSuchEntity", iam.create_policy_version, PolicyArn=READ_ONLY, PolicyDocument=_doc())
    _fails("NoSuchEntity", iam.delete_policy_version, PolicyArn=READ_ONLY, VersionId="v1")

    # a policy with versions other than the default cannot be deleted until they are
    _fails("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    for version in ("v3", "v4", "v5", "v6"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    iam.delete_policy(PolicyArn=arn)
    _fails("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v1")
    # another account's root is not authorized on this account's policy
    other = world.iam(world.new_account().root)
    _fails("AccessDenied", other.list_policy_versions, PolicyArn=iam.create_policy(
        PolicyName="mine", PolicyDocument=_doc())["Policy"]["Arn"])


def test_evaluation_uses_the_default_version(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="lister", PolicyDocument=_doc())["Policy"]["Arn"]
    user = world.iam(world.api_user(account, "worker", arn))
    assert user.list_users()["Users"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc("Deny"), SetAsDefault=True)
    _fails("AccessDenied", user.list_users)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert user.list_users()["Users"]
    # a non-default version that allows more grants nothing
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(action="iam:*"))
    _fails("AccessDenied", user.list_roles)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert user.list_roles()["Roles"] == []


def test_version_and_tag_operations_are_authorized_per_policy(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    mine = iam.create_policy(PolicyName="mine", PolicyDocument=_doc())["Policy"]["Arn"]
    theirs = iam.create_policy(PolicyName="theirs", PolicyDocument=_doc())["Policy"]["Arn"]
    editor = iam.create_policy(PolicyName="editor", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
                                       "iam:ListPolicyVersions", "iam:TagPolicy"], "Resource": mine}]}))
    user = world.iam(world.api_user(account, "editor", editor["Policy"]["Arn"]))
    assert user.create_policy_version(PolicyArn=mine, PolicyDocument=_doc(), SetAsDefault=True)
    assert _versions(user, mine)[0] == ("v2", True)
    user.tag_policy(PolicyArn=mine, Tags=[{"Key": "by", "Value": "editor"}])
    _fails("AccessDenied", user.create_policy_version, PolicyArn=theirs, PolicyDocument=_doc())
    _fails("AccessDenied", user.set_default_policy_version, PolicyArn=theirs, VersionId="v1")
    _fails("AccessDenied", user.delete_policy_version, PolicyArn=mine, VersionId="v1")
    _fails("AccessDenied", user.untag_policy, PolicyArn=mine, TagKeys=["by"])
    _fails("AccessDenied", user.list_entities_for_policy, PolicyArn=mine)
    # a denied caller learns nothing about whether a policy exists
    _fails("AccessDenied", user.create_policy_version,
           PolicyArn=f"arn:aws:iam::{account.account_id}:policy/none", PolicyDocument=_doc())
    assert iam.list_policy_tags(PolicyArn=mine)["Tags"] == [{"Key": "by", "Value": "editor"}]
    assert _versions(iam, theirs) == [("v1", True)]


def test_list_entities_for_policy(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=_doc())["Policy"]["Arn"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:AssumeRole"}]})
    users = [iam.create_user(UserName=name, Path=path)["User"] for name, path in (("ann", "/"), ("bob", "/ops/"))]
    group = iam.create_group(GroupName="team")["Group"]
    role = iam.create_role(RoleName="svc", Path="/ops/", AssumeRolePolicyDocument=trust)["Role"]
    for user in users:
        iam.attach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    iam.attach_group_policy(GroupName="team", PolicyArn=arn)
    iam.attach_role_policy(RoleName="svc", PolicyArn=arn)

    found = iam.list_entities_for_policy(PolicyArn=arn)
    assert found["PolicyUsers"] == [{"UserName": u["UserName"], "UserId": u["UserId"]} for u in users]
    assert found["PolicyGroups"] == [{"GroupName": "team", "GroupId": group["GroupId"]}]
    assert found["PolicyRoles"] == [{"RoleName": "svc", "RoleId": role["RoleId"]}]
    assert found["IsTruncated"] is False
    roles_only = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert roles_only.get("PolicyUsers", []) == [] and len(roles_only["PolicyRoles"]) == 1
    under_ops = iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/ops/")
    assert [u["UserName"] for u in under_ops["PolicyUsers"]] == ["bob"] and len(under_ops["PolicyRoles"]) == 1
    assert not under_ops.get("PolicyGroups")
    boundary = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert not boundary.get("PolicyUsers") and not boundary.get("PolicyRoles")
    pages = list(iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn,
                                                                       PaginationConfig={"PageSize": 1}))
    assert len(pages) == 4 and all(p["IsTruncated"] for p in pages[:-1]) and not pages[-1]["IsTruncated"]
    # built-in policies are listed per account
    iam.attach_user_policy(UserName="ann", PolicyArn=READ_ONLY)
    assert [u["UserName"] for u in iam.list_entities_for_policy(PolicyArn=READ_ONLY)["PolicyUsers"]] == ["ann"]
    other = world.iam(world.new_account().root)
    assert not other.list_entities_for_policy(PolicyArn=READ_ONLY).get("PolicyUsers")
    _fails("AccessDenied", other.list_entities_for_policy, PolicyArn=arn)
    _fails("NoSuchEntity", iam.list_entities_for_policy, PolicyArn=f"arn:aws:iam::{account.account_id}:policy/none")
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.list_entities_for_policy, PolicyArn=arn, EntityFilter="Account")
    _fails("ValidationError", loose.list_entities_for_policy, PolicyArn=arn, PathPrefix="ops")


def test_policy_tags(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    policy = iam.create_policy(PolicyName="tagged", PolicyDocument=_doc(),
                               Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": ""}])["Policy"]
    arn = policy["Arn"]
    assert policy["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": ""}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == policy["Tags"]
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == policy["Tags"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "ann"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "ann"}, {"Key": "team", "Value": ""}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["team", "absent"])
    assert [t["Key"] for t in iam.list_policy_tags(PolicyArn=arn)["Tags"]] == ["env", "owner"]

    for tags in ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
                 [{"Key": "Env", "Value": "1"}, {"Key": "env", "Value": "2"}]):
        _fails("InvalidInput", iam.tag_policy, PolicyArn=arn, Tags=tags)
        _fails("InvalidInput", iam.create_policy, PolicyName="dup", PolicyDocument=_doc(), Tags=tags)
    _fails("NoSuchEntity", iam.get_policy, PolicyArn=f"arn:aws:iam::{account.account_id}:policy/dup")
    assert [t["Key"] for t in iam.list_policy_tags(PolicyArn=arn)["Tags"]] == ["env", "owner"]

    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": f"k{i:02}", "Value": "v"} for i in range(48)])
    _fails("LimitExceeded", iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.tag_policy, PolicyArn=arn,
           Tags=[{"Key": f"x{i}", "Value": "v"} for i in range(51)])
    assert len(iam.list_policy_tags(PolicyArn=arn)["Tags"]) == 50
    pages = list(iam.get_paginator("list_policy_tags").paginate(PolicyArn=arn, PaginationConfig={"PageSize": 20}))
    assert [len(p["Tags"]) for p in pages] == [20, 20, 10]

    missing = f"arn:aws:iam::{account.account_id}:policy/none"
    _fails("NoSuchEntity", iam.tag_policy, PolicyArn=missing, Tags=[{"Key": "a", "Value": "b"}])
    _fails("NoSuchEntity", iam.untag_policy, PolicyArn=missing, TagKeys=["a"])
    _fails("NoSuchEntity", iam.list_policy_tags, PolicyArn=missing)
    _fails("NoSuchEntity", iam.tag_policy, PolicyArn=READ_ONLY, Tags=[{"Key": "a", "Value": "b"}])
    # deleting the policy deletes its tags: a new policy of the same name starts without any
    iam.delete_policy(PolicyArn=arn)
    again = iam.create_policy(PolicyName="tagged", PolicyDocument=_doc())["Policy"]
    assert "Tags" not in again and iam.list_policy_tags(PolicyArn=arn)["Tags"] == []


def test_cli_pages_policy_versions(world: AwsWorld, account: Account, tmp_path: Path) -> None:
    cli = Cli(world, tmp_path)
    arn = cli.ok(account.root, "iam", "create-policy", "--policy-name", "cli", "--policy-document",
                 _doc())["Policy"]["Arn"]
    for _ in range(3):
        cli.ok(account.root, "iam", "create-policy-version", "--policy-arn", arn, "--policy-document", _doc())
    first = cli.ok(account.root, "iam", "list-policy-versions", "--policy-arn", arn, "--max-items", "3")
    assert [v["VersionId"] for v in first["Versions"]] == ["v4", "v3", "v2"] and first["NextToken"]
    rest = cli.ok(account.root, "iam", "list-policy-versions", "--policy-arn", arn, "--max-items", "3",
                  "--starting-token", first["NextToken"])
    assert [v["VersionId"] for v in rest["Versions"]] == ["v1"] and "NextToken" not in rest


def test_concurrent_version_changes_keep_the_limits(world: AwsWorld, account: Account) -> None:
    clients = [world.iam(account.root) for _ in range(6)]
    iam = clients[0]
    arn = iam.create_policy(PolicyName="busy", PolicyDocument=_doc())["Policy"]["Arn"]
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())
    answers = at_once([partial(c.create_policy_version, PolicyArn=arn, PolicyDocument=_doc()) for c in clients])
    assert sorted(answers) == ["LimitExceeded"] * 5 + ["ok"], answers
    assert len(_versions(iam, arn)) == 5
    # making a version the default while another request deletes it: never a default that does not exist
    for round_ in range(4):
        victim = _versions(iam, arn)[0][0]
        answers = at_once([partial(clients[1].set_default_policy_version, PolicyArn=arn, VersionId=victim),
                            partial(clients[2].delete_policy_version, PolicyArn=arn, VersionId=victim)])
        default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        assert default in dict(_versions(iam, arn)), (round_, answers)
        assert [v for v, is_default in _versions(iam, arn) if is_default] == [default]
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
        if victim in dict(_versions(iam, arn)):
            iam.delete_policy_version(PolicyArn=arn, VersionId=victim)
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())


def test_concurrent_tagging_keeps_fifty(world: AwsWorld, account: Account) -> None:
    clients = [world.iam(account.root) for _ in range(5)]
    arn = clients[0].create_policy(PolicyName="tags", PolicyDocument=_doc(),
                                   Tags=[{"Key": f"k{i:02}", "Value": "v"} for i in range(46)])["Policy"]["Arn"]
    answers = at_once([partial(c.tag_policy, PolicyArn=arn, Tags=[{"Key": f"n{n}-{i}", "Value": "v"}
                                                                   for i in range(2)])
                        for n, c in enumerate(clients)])
    assert sorted(answers) == ["LimitExceeded"] * 3 + ["ok"] * 2, answers
    assert len(clients[0].list_policy_tags(PolicyArn=arn)["Tags"]) == 50



@pytest.mark.parametrize("kind", ["user", "role"])
def test_concurrent_user_and_role_tagging_keeps_fifty(world: AwsWorld, account: Account, kind: str) -> None:
    """The same limit for users and roles: the tagged entity's owner row is held before the tags are counted."""
    clients = [world.iam(account.root) for _ in range(5)]
    iam = clients[0]
    start = [{"Key": f"k{i:02}", "Value": "v"} for i in range(46)]
    if kind == "user":
        iam.create_user(UserName="tagged", Tags=start)
    else:
        root = f"arn:aws:iam::{account.account_id}:root"
        trust = {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": root}}]}
        iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=json.dumps(trust), Tags=start)
    name = {"UserName": "tagged"} if kind == "user" else {"RoleName": "tagged"}
    answers = at_once([partial(c.tag_user if kind == "user" else c.tag_role, **name,
                                Tags=[{"Key": f"n{n}-{i}", "Value": "v"} for i in range(2)])
                        for n, c in enumerate(clients)])
    assert sorted(answers) == ["LimitExceeded"] * 3 + ["ok"] * 2, answers
    listed = iam.list_user_tags(**name) if kind == "user" else iam.list_role_tags(**name)
    assert len(listed["Tags"]) == 50
