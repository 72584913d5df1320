"""Global and service condition keys taken from real requests, through boto3 against a live server:
sts:RoleSessionName and sts:SourceIdentity on AssumeRole (and aws:SourceIdentity after it), aws:PrincipalTag,
aws:ResourceTag, aws:RequestTag and aws:TagKeys on IAM calls, iam:PassedToService on iam:PassRole, and policy
variables that name tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action: str | list[str], resource: str = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**allow(action, resource, condition), "Effect": "Deny"}


def trust(principal: str, actions: list[str], condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
    if condition:
        statement["Condition"] = condition
    return document(statement)


def user_with(world: AwsWorld, account: Account, name: str, *statements: dict[str, Any],
              tags: list[dict[str, str]] | None = None) -> Keys:
    iam = world.iam(account.root)
    iam.create_user(UserName=name, Tags=tags or [])
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document(*statements))
    return Keys.of(iam.create_access_key(UserName=name)["AccessKey"])


def denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == "AccessDenied", err.value
    return str(err.value)


# ---- sts:RoleSessionName, sts:SourceIdentity, aws:SourceIdentity --------------------------------------

def test_role_session_name_condition_in_the_trust_policy(world: AwsWorld, account: Account) -> None:
    keys = user_with(world, account, "ann", allow("sts:AssumeRole"))
    role = world.iam(account.root).create_role(RoleName="named", AssumeRolePolicyDocument=trust(
        account.root_arn, ["sts:AssumeRole"], {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}))
    sts = world.sts(keys)
    assumed = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="ann")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/named/ann")
    assert "SourceIdentity" not in assumed
    denied(sts.assume_role, RoleArn=role["Role"]["Arn"], RoleSessionName="someone-else")


def test_source_identity_is_set_checked_returned_and_kept_when_chaining(world: AwsWorld, account: Account) -> None:
    keys = user_with(world, account, "sam", allow(["sts:AssumeRole", "sts:SetSourceIdentity"]))
    iam = world.iam(account.root)
    either = trust(account.root_arn, ["sts:AssumeRole", "sts:SetSourceIdentity"],
                   {"StringEqualsIfExists": {"sts:SourceIdentity": "${aws:username}"}})
    first = iam.create_role(RoleName="first", AssumeRolePolicyDocument=either)["Role"]["Arn"]
    iam.put_role_policy(RoleName="first", PolicyName="p", PolicyDocument=document(
        allow(["sts:AssumeRole", "sts:SetSourceIdentity"]),
        allow("iam:GetUser", condition={"StringEquals": {"aws:SourceIdentity": "sam"}})))
    second = iam.create_role(RoleName="second", AssumeRolePolicyDocument=trust(
        account.root_arn, ["sts:AssumeRole", "sts:SetSourceIdentity"],
        {"StringEquals": {"sts:SourceIdentity": "sam"}}))["Role"]["Arn"]
    no_set = iam.create_role(RoleName="no-set", AssumeRolePolicyDocument=trust(
        account.root_arn, ["sts:AssumeRole"]))["Role"]["Arn"]
    sts = world.sts(keys)

    # the trust policy's condition on sts:SourceIdentity decides; the value comes back as AWS returns it
    denied(sts.assume_role, RoleArn=first, RoleSessionName="ss", SourceIdentity="not-sam")
    assumed = sts.assume_role(RoleArn=first, RoleSessionName="ss", SourceIdentity="sam")
    assert assumed["SourceIdentity"] == "sam"
    # without sts:SetSourceIdentity in the trust policy a source identity cannot be set
    message = denied(sts.assume_role, RoleArn=no_set, RoleSessionName="ss", SourceIdentity="sam")
    assert "sts:SetSourceIdentity" in message
    assert "SourceIdentity" not in sts.assume_role(RoleArn=no_set, RoleSessionName="ss")

    session = world.client("iam", Keys.of(assumed["Credentials"]))
    assert session.get_user(UserName="sam")["User"]["UserName"] == "sam"  # aws:SourceIdentity is in the context
    chained_sts = world.sts(Keys.of(assumed["Credentials"]))
    # chaining keeps it (and the next trust policy sees it), and it cannot be changed
    chained = chained_sts.assume_role(RoleArn=second, RoleSessionName="cc")
    assert chained["SourceIdentity"] == "sam"
    again = chained_sts.assume_role(RoleArn=second, RoleSessionName="cc", SourceIdentity="sam")
    assert again["SourceIdentity"] == "sam"
    denied(chained_sts.assume_role, RoleArn=second, RoleSessionName="cc", SourceIdentity="other")
    # a role without sts:SetSourceIdentity in its trust policy cannot be chained to with one
    denied(chained_sts.assume_role, RoleArn=no_set, RoleSessionName="cc")

    # a session without a source identity has no aws:SourceIdentity
    plain = sts.assume_role(RoleArn=first, RoleSessionName="plain")
    denied(world.client("iam", Keys.of(plain["Credentials"])).get_user, UserName="sam")


def test_source_identity_needs_the_callers_own_permission(world: AwsWorld, account: Account) -> None:
    keys = user_with(world, account, "tim", allow("sts:AssumeRole"))
    role = world.iam(account.root).create_role(RoleName="r", AssumeRolePolicyDocument=trust(
        account.root_arn, ["sts:AssumeRole", "sts:SetSourceIdentity"]))["Role"]["Arn"]
    sts = world.sts(keys)
    assert sts.assume_role(RoleArn=role, RoleSessionName="ss")["AssumedRoleUser"]
    message = denied(sts.assume_role, RoleArn=role, RoleSessionName="ss", SourceIdentity="tim")
    assert "sts:SetSourceIdentity" in message


def test_source_identity_follows_the_model(world: AwsWorld, account: Account) -> None:
    keys = user_with(world, account, "val", allow("*"))
    sts = world.sts(keys, validate=False)
    role = world.iam(account.root).create_role(RoleName="r", AssumeRolePolicyDocument=trust(
        account.root_arn, ["sts:AssumeRole", "sts:SetSourceIdentity"]))["Role"]["Arn"]
    for bad in ("x", "aws:reserved", "has space", "y" * 257):
        with pytest.raises(ClientError) as err:
            sts.assume_role(RoleArn=role, RoleSessionName="ss", SourceIdentity=bad)
        assert error_code(err.value) == "ValidationError", bad
    assert sts.assume_role(RoleArn=role, RoleSessionName="ss", SourceIdentity="a" * 256)["SourceIdentity"] == "a" * 256


# ---- aws:PrincipalTag and policy variables naming tags ------------------------------------------------

def test_principal_tag_of_a_user_decides_and_names_resources(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = user_with(world, account, "blue-lead",
                     allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}),
                     allow("iam:ListUserTags", f"arn:aws:iam::{account.account_id}:user/${{aws:PrincipalTag/team}}-*"),
                     tags=[{"Key": "team", "Value": "blue"}])
    for name in ("blue-1", "red-1"):
        iam.create_user(UserName=name)
    me = world.iam(keys)
    assert me.get_user(UserName="red-1")["User"]["UserName"] == "red-1"
    assert me.list_user_tags(UserName="blue-1")["Tags"] == []
    denied(me.list_user_tags, UserName="red-1")
    # the tag changes: the next request sees it
    iam.tag_user(UserName="blue-lead", Tags=[{"Key": "team", "Value": "red"}])
    denied(me.get_user, UserName="red-1")
    assert me.list_user_tags(UserName="red-1")["Tags"] == []
    denied(me.list_user_tags, UserName="blue-1")
    iam.untag_user(UserName="blue-lead", TagKeys=["team"])
    denied(me.list_user_tags, UserName="red-1")  # a variable without a value matches nothing


def test_principal_tag_of_a_role_session_is_the_roles(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = user_with(world, account, "caller", allow("sts:AssumeRole"), tags=[{"Key": "dept", "Value": "sales"}])
    role = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=trust(account.root_arn, ["sts:AssumeRole"]),
                           Tags=[{"Key": "dept", "Value": "ops"}])["Role"]["Arn"]
    iam.put_role_policy(RoleName="ops", PolicyName="p", PolicyDocument=document(
        allow("iam:GetRole", condition={"StringEquals": {"aws:PrincipalTag/dept": "ops"}})))
    session = world.iam(Keys.of(world.sts(keys).assume_role(RoleArn=role, RoleSessionName="ss")["Credentials"]))
    assert session.get_role(RoleName="ops")["Role"]["RoleName"] == "ops"
    iam.untag_role(RoleName="ops", TagKeys=["dept"])
    denied(session.get_role, RoleName="ops")


def test_principal_tag_in_a_trust_policy(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = user_with(world, account, "dev", allow("sts:AssumeRole"), tags=[{"Key": "level", "Value": "senior"}])
    role = iam.create_role(RoleName="senior", AssumeRolePolicyDocument=trust(
        account.root_arn, ["sts:AssumeRole"], {"StringEquals": {"aws:PrincipalTag/level": "senior"}}))["Role"]["Arn"]
    assert world.sts(keys).assume_role(RoleArn=role, RoleSessionName="ss")["Credentials"]
    iam.tag_user(UserName="dev", Tags=[{"Key": "level", "Value": "junior"}])
    denied(world.sts(keys).assume_role, RoleArn=role, RoleSessionName="ss")


# ---- aws:ResourceTag (and iam:ResourceTag) ---------------------------------------------------------------

def test_resource_tags_of_users_roles_policies_and_instance_profiles(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    mine = {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}
    keys = user_with(world, account, "ann",
                     allow(["iam:GetUser", "iam:TagUser", "iam:GetPolicy", "iam:GetInstanceProfile",
                            "iam:DeletePolicy"], condition=mine),
                     allow("iam:GetRole", condition={"StringEquals": {"iam:ResourceTag/env": "dev"}}))
    ann = world.iam(keys)
    iam.create_user(UserName="owned", Tags=[{"Key": "owner", "Value": "ann"}])
    iam.create_user(UserName="other", Tags=[{"Key": "owner", "Value": "bob"}])
    iam.create_user(UserName="untagged")
    assert ann.get_user(UserName="owned")["User"]["UserName"] == "owned"
    denied(ann.get_user, UserName="other")
    denied(ann.get_user, UserName="untagged")
    ann.tag_user(UserName="owned", Tags=[{"Key": "note", "Value": "x"}])
    denied(ann.tag_user, UserName="other", Tags=[{"Key": "owner", "Value": "ann"}])  # cannot take it over
    # a user that does not exist has no tags: the answer is AccessDenied, as for any resource not allowed
    denied(ann.get_user, UserName="nobody")

    iam.create_role(RoleName="dev", AssumeRolePolicyDocument=trust(account.root_arn, ["sts:AssumeRole"]),
                    Tags=[{"Key": "env", "Value": "dev"}])
    iam.create_role(RoleName="prod", AssumeRolePolicyDocument=trust(account.root_arn, ["sts:AssumeRole"]),
                    Tags=[{"Key": "env", "Value": "prod"}])
    assert ann.get_role(RoleName="dev")["Role"]["RoleName"] == "dev"
    denied(ann.get_role, RoleName="prod")

    body = document(allow("iam:GetUser"))
    owned = iam.create_policy(PolicyName="owned", PolicyDocument=body,
                              Tags=[{"Key": "owner", "Value": "ann"}])["Policy"]["Arn"]
    other = iam.create_policy(PolicyName="other", PolicyDocument=body)["Policy"]["Arn"]
    assert ann.get_policy(PolicyArn=owned)["Policy"]["PolicyName"] == "owned"
    denied(ann.get_policy, PolicyArn=other)
    denied(ann.delete_policy, PolicyArn=other)
    ann.delete_policy(PolicyArn=owned)

    iam.create_instance_profile(InstanceProfileName="owned", Tags=[{"Key": "owner", "Value": "ann"}])
    iam.create_instance_profile(InstanceProfileName="other")
    assert ann.get_instance_profile(InstanceProfileName="owned")["InstanceProfile"]["InstanceProfileName"] == "owned"
    denied(ann.get_instance_profile, InstanceProfileName="other")


# ---- aws:RequestTag and aws:TagKeys --------------------------------------------------------------------

def test_request_tags_and_tag_keys(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    tagged = {"StringLike": {"aws:RequestTag/cost-center": "cc-*"},
              "ForAllValues:StringEquals": {"aws:TagKeys": ["cost-center", "team"]}}
    keys = user_with(world, account, "maker",
                     allow(["iam:CreateUser", "iam:CreateRole", "iam:TagUser", "iam:CreatePolicy"],
                           condition=tagged),
                     allow("iam:UntagUser"),
                     deny("iam:UntagUser", condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "cost-center"}}))
    maker = world.iam(keys)
    denied(maker.create_user, UserName="bare")
    denied(maker.create_user, UserName="wrong", Tags=[{"Key": "cost-center", "Value": "marketing"}])
    denied(maker.create_user, UserName="extra", Tags=[{"Key": "cost-center", "Value": "cc-1"},
                                                       {"Key": "secret", "Value": "x"}])
    maker.create_user(UserName="good", Tags=[{"Key": "cost-center", "Value": "cc-1"}, {"Key": "team", "Value": "a"}])
    maker.create_role(RoleName="good", AssumeRolePolicyDocument=trust(account.root_arn, ["sts:AssumeRole"]),
                      Tags=[{"Key": "cost-center", "Value": "cc-2"}])
    denied(maker.create_role, RoleName="bad", AssumeRolePolicyDocument=trust(account.root_arn, ["sts:AssumeRole"]))
    maker.create_policy(PolicyName="good", PolicyDocument=document(allow("iam:GetUser")),
                        Tags=[{"Key": "cost-center", "Value": "cc-3"}])
    maker.tag_user(UserName="good", Tags=[{"Key": "cost-center", "Value": "cc-9"}])
    denied(maker.tag_user, UserName="good", Tags=[{"Key": "team", "Value": "b"}])  # no cost-center in the request
    maker.untag_user(UserName="good", TagKeys=["team"])
    denied(maker.untag_user, UserName="good", TagKeys=["team", "cost-center"])
    assert iam.list_user_tags(UserName="good")["Tags"] == [{"Key": "cost-center", "Value": "cc-9"}]


# ---- iam:PassedToService -----------------------------------------------------------------------------

def test_passed_to_service_on_pass_role(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    for profile in ("web", "batch"):
        iam.create_instance_profile(InstanceProfileName=profile)
    to_ec2 = user_with(world, account, "to-ec2", allow("iam:AddRoleToInstanceProfile"),
                       allow("iam:PassRole", condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}))
    to_lambda = user_with(world, account, "to-lambda", allow("iam:AddRoleToInstanceProfile"), allow(
        "iam:PassRole", condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}))
    message = denied(world.iam(to_lambda).add_role_to_instance_profile, InstanceProfileName="batch", RoleName="app")
    assert "iam:PassRole" in message
    world.iam(to_ec2).add_role_to_instance_profile(InstanceProfileName="web", RoleName="app")
    assert iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Roles"][0]["RoleName"] == "app"
