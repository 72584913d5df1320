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
