"""Policies decide every IAM call made by IAM users and roles: implicit deny with AWS's message,
managed and inline policies, group policies, explicit Deny, policy variables and conditions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
IAM_FULL = "arn:aws:iam::aws:policy/IAMFullAccess"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == "AccessDenied", err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return str(err.value.response["Error"]["Message"])


def test_user_without_policies_is_denied_with_a_precise_message(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "nobody")
    iam = world.iam(keys)
    message = _denied(iam.create_user, UserName="eve")
    # the readable part, then (see test_aws_sts_more.py) the encoded authorization failure message
    assert message.partition(". Encoded authorization failure message: ")[0] == (
        f"User: {account.user_arn('nobody')} is not authorized to perform: iam:CreateUser on "
        f"resource: {account.user_arn('eve')} because no identity-based policy allows the iam:CreateUser action")
    message = _denied(iam.list_roles)
    assert account.user_arn("nobody") in message and "iam:ListRoles" in message
    message = _denied(iam.get_user)  # even about itself
    assert f"iam:GetUser on resource: {account.user_arn('nobody')}" in message
    # STS GetCallerIdentity needs no permission
    assert world.sts(keys).get_caller_identity()["Arn"] == account.user_arn("nobody")


def test_read_only_user_reads_but_does_not_write(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    root.create_user(UserName="target")
    iam = world.iam(world.api_user(account, "reader", IAM_READ))
    assert iam.get_user(UserName="target")["User"]["UserName"] == "target"
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"target", "reader"}
    assert iam.list_attached_user_policies(UserName="reader")["AttachedPolicies"][0]["PolicyArn"] == IAM_READ
    message = _denied(iam.create_user, UserName="new")
    assert "iam:CreateUser" in message and account.user_arn("new") in message
    _denied(iam.delete_user, UserName="target")
    _denied(iam.attach_user_policy, UserName="reader", PolicyArn=ADMIN)
    # a user's policies never reach into another account
    other = world.new_account()
    root.attach_user_policy(UserName="reader", PolicyArn=IAM_FULL)
    message = _denied(iam.get_policy, PolicyArn=f"arn:aws:iam::{other.account_id}:policy/theirs")
    assert f"arn:aws:iam::{other.account_id}:policy/theirs" in message


def test_explicit_deny_beats_administrator_access(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    keys = world.api_user(account, "admin", ADMIN)
    iam = world.iam(keys)
    iam.create_user(UserName="made-by-admin")
    root.put_user_policy(UserName="admin", PolicyName="no-deletes", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"}))
    message = _denied(iam.delete_user, UserName="made-by-admin")
    assert message.partition(". Encoded")[0].endswith("with an explicit deny in an identity-based policy")
    assert account.user_arn("admin") in message and "iam:DeleteUser" in message
    iam.create_group(GroupName="still-allowed")
    # NotAction: deny everything except reading
    root.put_user_policy(UserName="admin", PolicyName="no-deletes", PolicyDocument=_policy(
        {"Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"], "Resource": "*"}))
    _denied(iam.create_group, GroupName="not-any-more")
    assert iam.get_user(UserName="made-by-admin")["User"]["UserName"] == "made-by-admin"
    # NotResource: deny writes to every user but one
    root.put_user_policy(UserName="admin", PolicyName="no-deletes", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "iam:TagUser", "NotResource": f"arn:aws:iam::{account.account_id}:user/made-*"}))
    iam.tag_user(UserName="made-by-admin", Tags=[{"Key": "k", "Value": "v"}])
    _denied(iam.tag_user, UserName="admin", Tags=[{"Key": "k", "Value": "v"}])


def test_group_policies_apply_to_members(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    keys = world.api_user(account, "member")
    iam = world.iam(keys)
    root.create_group(GroupName="readers")
    root.attach_group_policy(GroupName="readers", PolicyArn=IAM_READ)
    root.create_group(GroupName="role-makers")
    root.put_group_policy(GroupName="role-makers", PolicyName="roles", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:DeleteRole"], "Resource": "*"}))
    _denied(iam.list_users)
    root.add_user_to_group(GroupName="readers", UserName="member")
    assert iam.list_users()["Users"]
    root.add_user_to_group(GroupName="role-makers", UserName="member")
    trust = _policy({"Effect": "Allow", "Principal": {"AWS": account.account_id}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="by-member", AssumeRolePolicyDocument=trust)
    iam.delete_role(RoleName="by-member")
    root.remove_user_from_group(GroupName="readers", UserName="member")
    _denied(iam.list_users)
    # a Deny in a group beats an Allow on the user
    root.attach_user_policy(UserName="member", PolicyArn=IAM_READ)
    assert iam.list_users()["Users"]
    root.put_group_policy(GroupName="role-makers", PolicyName="deny-list", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}))
    assert "explicit deny" in _denied(iam.list_users)


def test_username_variable_limits_keys_to_your_own(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    root.create_group(GroupName="self-service")
    root.put_group_policy(GroupName="self-service", PolicyName="own-keys", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
                                       "iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed"],
         "Resource": "arn:aws:iam::*:user/${aws:username}"}))
    alice = world.api_user(account, "alice")
    world.api_user(account, "bob")
    for name in ("alice", "bob"):
        root.add_user_to_group(GroupName="self-service", UserName=name)
    iam = world.iam(alice)
    new = iam.create_access_key(UserName="alice")["AccessKey"]
    assert len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]) == 2
    iam.update_access_key(UserName="alice", AccessKeyId=new["AccessKeyId"], Status="Inactive")
    iam.delete_access_key(UserName="alice", AccessKeyId=new["AccessKeyId"])
    message = _denied(iam.list_access_keys, UserName="bob")
    assert f"iam:ListAccessKeys on resource: {account.user_arn('bob')}" in message
    _denied(iam.create_access_key, UserName="bob")
    bob_key = root.list_access_keys(UserName="bob")["AccessKeyMetadata"][0]["AccessKeyId"]
    _denied(iam.get_access_key_last_used, AccessKeyId=bob_key)
    _denied(iam.update_access_key, UserName="bob", AccessKeyId=bob_key, Status="Inactive")


def test_conditions_on_source_ip_and_mfa(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    keys = world.api_user(account, "cond")
    iam = world.iam(keys)
    root.put_user_policy(UserName="cond", PolicyName="from-here", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}},
        {"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Effect": "Allow", "Action": "iam:ListPolicies", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
        {"Effect": "Allow", "Action": "iam:GetAccountSummary", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))
    assert "Users" in iam.list_users()
    _denied(iam.list_groups)
    _denied(iam.list_roles)  # long-term keys carry no MFA
    assert "Policies" in iam.list_policies(Scope="Local")  # the key is absent: IfExists matches
    _denied(iam.get_account_summary)  # plain http
    root.put_user_policy(UserName="cond", PolicyName="mfa-sessions", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice"], "Resource": "*"}))
    serial, totp = world.enable_virtual_mfa(iam, "cond", user_name="cond")
    session = Keys.of(world.sts(keys).get_session_token(SerialNumber=serial,
                                                       TokenCode=totp.at(world.clock()))["Credentials"])
    with_mfa = world.iam(session)
    assert "Roles" in with_mfa.list_roles()
    _denied(with_mfa.list_policies, Scope="Local")  # the key is present and true


def test_roles_get_their_own_policies_and_session_policies_narrow_them(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    keys = world.api_user(account, "caller")
    trust = _policy({"Effect": "Allow", "Principal": {"AWS": account.user_arn("caller")}, "Action": "sts:AssumeRole"})
    role = root.create_role(RoleName="admin-role", AssumeRolePolicyDocument=trust)["Role"]
    root.attach_role_policy(RoleName="admin-role", PolicyArn=ADMIN)
    sts = world.sts(keys)
    full = Keys.of(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="full")["Credentials"])
    world.iam(full).create_user(UserName="by-role")
    narrowed = Keys.of(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="narrow", Policy=_policy(
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}))["Credentials"])
    assert world.iam(narrowed).get_user(UserName="by-role")["User"]["UserName"] == "by-role"
    message = _denied(world.iam(narrowed).delete_user, UserName="by-role")
    assert f"arn:aws:sts::{account.account_id}:assumed-role/admin-role/narrow" in message
    managed = Keys.of(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="managed",
                                      PolicyArns=[{"arn": IAM_READ}])["Credentials"])
    assert world.iam(managed).list_users()["Users"]
    _denied(world.iam(managed).create_group, GroupName="g")
    # a role's inline Deny applies to its sessions
    root.put_role_policy(RoleName="admin-role", PolicyName="no-users", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}))
    assert "explicit deny" in _denied(world.iam(full).create_user, UserName="again")
