"""Roles and policies through boto3: role CRUD and trust policies, managed policies (customer and
built-in), attachments to users, groups and roles, and inline policies of all three."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code

BUILTIN = ["AdministratorAccess", "IAMReadOnlyAccess", "IAMUserChangePassword", "ReadOnlyAccess", "IAMFullAccess"]
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
DOC: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers"], "Resource": "*"}]}


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _trust(principal: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
                                                    "Action": "sts:AssumeRole"}]}


def test_role_lifecycle(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    trust = _trust(f"arn:aws:iam::{account.account_id}:root")
    role = iam.create_role(RoleName="app", Path="/svc/", AssumeRolePolicyDocument=json.dumps(trust),
                           Description="the app", MaxSessionDuration=7200,
                           Tags=[{"Key": "env", "Value": "prod"}])["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account.account_id}:role/svc/app"
    assert role["RoleId"].startswith("AROA") and role["MaxSessionDuration"] == 7200
    assert role["AssumeRolePolicyDocument"] == trust  # botocore decodes the URL-encoded JSON
    _fails("EntityAlreadyExists", iam.create_role, RoleName="app", AssumeRolePolicyDocument=json.dumps(trust))
    got = iam.get_role(RoleName="app")["Role"]
    assert got["Description"] == "the app" and got["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert got["AssumeRolePolicyDocument"] == trust
    _fails("NoSuchEntity", iam.get_role, RoleName="nope")

    iam.update_role(RoleName="app", Description="changed", MaxSessionDuration=43200)
    got = iam.get_role(RoleName="app")["Role"]
    assert got["Description"] == "changed" and got["MaxSessionDuration"] == 43200
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.update_role, RoleName="app", MaxSessionDuration=43201)
    _fails("ValidationError", loose.create_role, RoleName="short", AssumeRolePolicyDocument=json.dumps(trust),
           MaxSessionDuration=3599)
    assert iam.update_role_description(RoleName="app", Description="again")["Role"]["Description"] == "again"

    new_trust = _trust(f"arn:aws:iam::{account.account_id}:user/someone")
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(new_trust))
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"] == new_trust
    _fails("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="app", PolicyDocument="{nope")
    _fails("MalformedPolicyDocument", iam.create_role, RoleName="bad", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}))

    iam.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(trust))
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == ["app", "other"]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/svc/")["Roles"]] == ["app"]
    first = iam.list_roles(MaxItems=1)
    assert first["IsTruncated"] and len(first["Roles"]) == 1
    assert len(iam.list_roles(MaxItems=1, Marker=first["Marker"])["Roles"]) == 1

    iam.attach_role_policy(RoleName="app", PolicyArn=READ_ONLY)
    err = _fails("DeleteConflict", iam.delete_role, RoleName="app")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    iam.detach_role_policy(RoleName="app", PolicyArn=READ_ONLY)
    iam.delete_role(RoleName="app")
    _fails("NoSuchEntity", iam.delete_role, RoleName="app")


def test_customer_managed_policies(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    policy = iam.create_policy(PolicyName="reader", Path="/team/", PolicyDocument=json.dumps(DOC),
                               Description="read users")["Policy"]
    arn = f"arn:aws:iam::{account.account_id}:policy/team/reader"
    assert policy["Arn"] == arn and policy["DefaultVersionId"] == "v1" and policy["AttachmentCount"] == 0
    assert policy["PolicyId"].startswith("ANPA") and policy["IsAttachable"] is True
    _fails("EntityAlreadyExists", iam.create_policy, PolicyName="reader", Path="/team/", PolicyDocument=json.dumps(DOC))
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["PolicyName"] == "reader" and got["Description"] == "read users"
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == DOC and version["IsDefaultVersion"] is True
    _fails("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v2")
    _fails("NoSuchEntity", iam.get_policy, PolicyArn=f"arn:aws:iam::{account.account_id}:policy/none")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in local] == [arn]

    for bad in ("{not json", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*",
                                                                                  "Resource": "*"}]}),
                json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser"}]})):
        err = _fails("MalformedPolicyDocument", iam.create_policy, PolicyName="broken", PolicyDocument=bad)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == [arn]
    _fails("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    _fails("NoSuchEntity", iam.get_policy, PolicyArn=arn)
    # another account cannot see it, nor attach built-ins to users it does not have
    other = world.iam(world.new_account().root)
    _fails("NoSuchEntity", other.attach_user_policy, UserName="u", PolicyArn=READ_ONLY)


def test_builtin_policies(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    listed = {p["PolicyName"]: p for p in iam.list_policies(Scope="AWS")["Policies"]}
    for name in BUILTIN:
        assert name in listed, name
        assert listed[name]["Arn"] == f"arn:aws:iam::aws:policy/{name}"
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in listed.values())
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert admin["PolicyName"] == "AdministratorAccess" and admin["DefaultVersionId"] == "v1"
    document = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
                                      VersionId="v1")["PolicyVersion"]["Document"]
    assert isinstance(document, dict)
    assert document["Statement"] == [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}] or \
        document["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    change = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword",
                                    VersionId="v1")["PolicyVersion"]["Document"]
    assert "${aws:username}" in json.dumps(change)
    _fails("NoSuchEntity", iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    # all of them across pages
    names = [p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(
        Scope="AWS", PaginationConfig={"PageSize": 2}) for p in page["Policies"]]
    assert sorted(names) == sorted(listed)


def test_attach_and_detach_to_users_groups_and_roles(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(_trust(account.account_id)))
    custom = iam.create_policy(PolicyName="custom", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    cases = [
        (iam.attach_user_policy, iam.detach_user_policy, iam.list_attached_user_policies, {"UserName": "u"}),
        (iam.attach_group_policy, iam.detach_group_policy, iam.list_attached_group_policies, {"GroupName": "g"}),
        (iam.attach_role_policy, iam.detach_role_policy, iam.list_attached_role_policies, {"RoleName": "r"}),
    ]
    for attach, detach, list_attached, target in cases:
        attach(PolicyArn=READ_ONLY, **target)
        attach(PolicyArn=custom, **target)
        attach(PolicyArn=custom, **target)  # attaching twice changes nothing
        attached = list_attached(**target)["AttachedPolicies"]
        assert sorted((p["PolicyName"], p["PolicyArn"]) for p in attached) == sorted(
            [("ReadOnlyAccess", READ_ONLY), ("custom", custom)]), target
        _fails("NoSuchEntity", attach, PolicyArn=f"arn:aws:iam::{account.account_id}:policy/ghost", **target)
        detach(PolicyArn=READ_ONLY, **target)
        _fails("NoSuchEntity", detach, PolicyArn=READ_ONLY, **target)
        assert [p["PolicyArn"] for p in list_attached(**target)["AttachedPolicies"]] == [custom]
    assert iam.get_policy(PolicyArn=custom)["Policy"]["AttachmentCount"] == 3
    _fails("NoSuchEntity", iam.attach_user_policy, UserName="ghost", PolicyArn=READ_ONLY)
    _fails("NoSuchEntity", iam.attach_group_policy, GroupName="ghost", PolicyArn=READ_ONLY)
    _fails("NoSuchEntity", iam.attach_role_policy, RoleName="ghost", PolicyArn=READ_ONLY)
    _fails("DeleteConflict", iam.delete_group, GroupName="g")
    builtins = [f"arn:aws:iam::aws:policy/{n}" for n in [*BUILTIN, "SecurityAudit"]]
    extra = [iam.create_policy(PolicyName=f"p{i}", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"] for i in range(5)]
    for arn in builtins + extra[:3]:
        iam.attach_user_policy(UserName="u", PolicyArn=arn)
    assert len(iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]) == 10
    _fails("LimitExceeded", iam.attach_user_policy, UserName="u", PolicyArn=extra[3])


def test_inline_policies_of_users_groups_and_roles(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(_trust(account.account_id)))
    kinds = [
        ("User", "u", iam.put_user_policy, iam.get_user_policy, iam.list_user_policies, iam.delete_user_policy),
        ("Group", "g", iam.put_group_policy, iam.get_group_policy, iam.list_group_policies, iam.delete_group_policy),
        ("Role", "r", iam.put_role_policy, iam.get_role_policy, iam.list_role_policies, iam.delete_role_policy),
    ]
    for noun, name, put, get, list_names, delete in kinds:
        target = {f"{noun}Name": name}
        put(PolicyName="first", PolicyDocument=json.dumps(DOC), **target)
        put(PolicyName="second", PolicyDocument=json.dumps(DOC), **target)
        got = get(PolicyName="first", **target)
        assert got[f"{noun}Name"] == name and got["PolicyName"] == "first"
        assert got["PolicyDocument"] == DOC, "the document comes back as a dict"
        changed = {**DOC, "Statement": [{**DOC["Statement"][0], "Action": "iam:GetGroup"}]}
        put(PolicyName="first", PolicyDocument=json.dumps(changed), **target)  # replaces
        assert get(PolicyName="first", **target)["PolicyDocument"] == changed
        assert sorted(list_names(**target)["PolicyNames"]) == ["first", "second"]
        _fails("MalformedPolicyDocument", put, PolicyName="bad", PolicyDocument="[]", **target)
        _fails("MalformedPolicyDocument", put, PolicyName="bad", PolicyDocument='{"Statement": "x"', **target)
        _fails("NoSuchEntity", get, PolicyName="missing", **target)
        delete(PolicyName="second", **target)
        _fails("NoSuchEntity", delete, PolicyName="second", **target)
        assert list_names(**target)["PolicyNames"] == ["first"]
        delete(PolicyName="first", **target)
        assert list_names(**target)["PolicyNames"] == []
    _fails("NoSuchEntity", iam.put_user_policy, UserName="ghost", PolicyName="p", PolicyDocument=json.dumps(DOC))
    _fails("NoSuchEntity", iam.list_role_policies, RoleName="ghost")
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": f"iam:Get{'X' * 40}{i}",
                                                   "Resource": "*"} for i in range(60)]}
    _fails("LimitExceeded", iam.put_user_policy, UserName="u", PolicyName="big", PolicyDocument=json.dumps(big))
