"""Findings of the Identity Center security review, through boto3 against the live server: provisioning never
adopts a role it did not make (and CreateRole refuses the reserved `AWSReservedSSO_` names), SSO Admin
authorizes the permission set and the target account besides the instance, reserved roles refuse tag and
description changes, and CreateAccount refuses `aws:` tag keys."""

from __future__ import annotations

import json

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.test_aws_sso_admin import fails
from integration.aws.test_aws_sso_admin_permission_sets import ADMIN, READ_ONLY, Ic, ic, reserved_roles
from vestibule.core import identifiers as ids
from vestibule.services.context import Deps
from vestibule.store.models import IamRole

__all__ = ["ic"]  # the fixture


def _trust(account: Account) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:AssumeRole"}]})


def _unassign(ic: Ic, ps: str, user: str) -> None:
    ic.sso.delete_account_assignment(InstanceArn=ic.instance, TargetId=ic.account.account_id,
                                     TargetType="AWS_ACCOUNT", PermissionSetArn=ps, PrincipalType="USER",
                                     PrincipalId=user)


def test_create_role_refuses_the_reserved_names(world: AwsWorld, account: Account, ic: Ic) -> None:
    ps, user = ic.permission_set(), ic.user("alice")
    ic.assign(ps, user)
    name = reserved_roles(world, account)[0]["RoleName"]
    _unassign(ic, ps, user)
    assert reserved_roles(world, account) == []
    iam = world.iam(account.root)
    for squatted in (name, name.lower(), "AWSReservedSSO_Anything_0123456789abcdef"):
        fails("InvalidInput", iam.create_role, RoleName=squatted, AssumeRolePolicyDocument=_trust(account))
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].lower().startswith("awsreserved")] == []


def test_provisioning_never_adopts_a_role_it_did_not_make(world: AwsWorld, account: Account, ic: Ic) -> None:
    ps, user = ic.permission_set(), ic.user("alice")
    ic.sso.attach_managed_policy_to_permission_set(InstanceArn=ic.instance, PermissionSetArn=ps,
                                                   ManagedPolicyArn=ADMIN)
    ic.assign(ps, user)
    name = reserved_roles(world, account)[0]["RoleName"]
    _unassign(ic, ps, user)

    async def squat(deps: Deps) -> None:  # a role of that name that provisioning did not make (made before
        async with deps.store.unit() as uow:  # CreateRole refused the name)
            await uow.roles.add(IamRole(id=ids.new_iam_id("AROA"), account_id=account.account_id, name=name,
                                        name_lower=name.lower(), path="/", description=None,
                                        trust_policy=_trust(account), max_session_duration=3600, created_at=0.0))

    world.run(squat)
    iam = world.iam(account.root)
    iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    error = fails("ConflictException", ic.sso.create_account_assignment, InstanceArn=ic.instance,
                  TargetId=account.account_id, TargetType="AWS_ACCOUNT", PermissionSetArn=ps, PrincipalType="USER",
                  PrincipalId=user)
    assert name in error["Message"] and "not created by IAM Identity Center" in error["Message"]
    fails("ConflictException", ic.sso.provision_permission_set, InstanceArn=ic.instance, PermissionSetArn=ps,
          TargetType="AWS_ACCOUNT", TargetId=account.account_id)
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Path"] == "/" and role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": account.root_arn}
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [READ_ONLY]
    assert ic.sso.list_account_assignments(InstanceArn=ic.instance, AccountId=account.account_id,
                                           PermissionSetArn=ps)["AccountAssignments"] == []
    assert ic.sso.list_accounts_for_provisioned_permission_set(InstanceArn=ic.instance,
                                                               PermissionSetArn=ps)["AccountIds"] == []
    # once the foreign role is gone, provisioning makes its own again
    iam.detach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    iam.delete_role(RoleName=name)
    assert ic.assign(ps, user)["Status"] == "SUCCEEDED"
    assert reserved_roles(world, account)[0]["RoleName"] == name


def test_sso_admin_authorizes_the_permission_set_and_the_account(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    member, _ = world.new_member_account(account)
    ic = Ic(world, account)
    read_only, admin = ic.permission_set("RO"), ic.permission_set("Admin")
    user = ic.user("alice")
    delegate = world.api_user(account, "delegate")
    world.iam(account.root).put_user_policy(UserName="delegate", PolicyName="helpdesk", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["sso:CreateAccountAssignment", "sso:DescribePermissionSet", "sso:ProvisionPermissionSet",
                       "sso:ListPermissionSetsProvisionedToAccount"],
            "Resource": [ic.instance, read_only, f"arn:aws:sso:::account/{member}"]}]}))
    sso = world.client("sso-admin", delegate)
    assign = {"InstanceArn": ic.instance, "TargetType": "AWS_ACCOUNT", "PrincipalType": "USER", "PrincipalId": user}
    fails("AccessDeniedException", sso.create_account_assignment, TargetId=member, PermissionSetArn=admin, **assign)
    fails("AccessDeniedException", sso.create_account_assignment, TargetId=account.account_id,
          PermissionSetArn=read_only, **assign)
    fails("AccessDeniedException", sso.describe_permission_set, InstanceArn=ic.instance, PermissionSetArn=admin)
    fails("AccessDeniedException", sso.provision_permission_set, InstanceArn=ic.instance, PermissionSetArn=read_only,
          TargetType="AWS_ACCOUNT", TargetId=account.account_id)
    fails("AccessDeniedException", sso.list_permission_sets_provisioned_to_account, InstanceArn=ic.instance,
          AccountId=account.account_id)
    assert ic.sso.list_account_assignments(InstanceArn=ic.instance, AccountId=member, PermissionSetArn=admin)[
        "AccountAssignments"] == []
    # what the policy names is allowed
    made = sso.create_account_assignment(TargetId=member, PermissionSetArn=read_only, **assign)
    assert made["AccountAssignmentCreationStatus"]["Status"] == "SUCCEEDED"
    assert sso.describe_permission_set(InstanceArn=ic.instance, PermissionSetArn=read_only)[
        "PermissionSet"]["Name"] == "RO"
    assert sso.provision_permission_set(InstanceArn=ic.instance, PermissionSetArn=read_only, TargetType="AWS_ACCOUNT",
                                        TargetId=member)["PermissionSetProvisioningStatus"]["Status"] == "SUCCEEDED"
    assert sso.list_permission_sets_provisioned_to_account(InstanceArn=ic.instance, AccountId=member)[
        "PermissionSets"] == [read_only]


def test_reserved_roles_refuse_tag_and_description_changes(world: AwsWorld, account: Account, ic: Ic) -> None:
    ps = ic.permission_set()
    ic.assign(ps, ic.user("alice"))
    name = reserved_roles(world, account)[0]["RoleName"]
    iam = world.iam(account.root)
    fails("UnmodifiableEntity", iam.tag_role, RoleName=name, Tags=[{"Key": "team", "Value": "admins"}])
    fails("UnmodifiableEntity", iam.untag_role, RoleName=name, TagKeys=["team"])
    fails("UnmodifiableEntity", iam.update_role_description, RoleName=name, Description="mine")
    fails("UnmodifiableEntity", iam.update_role, RoleName=name, Description="mine")
    role = iam.get_role(RoleName=name)["Role"]
    assert "Description" not in role and iam.list_role_tags(RoleName=name)["Tags"] == []
    # other roles still take tags and descriptions
    iam.create_role(RoleName="plain", AssumeRolePolicyDocument=_trust(account))
    iam.tag_role(RoleName="plain", Tags=[{"Key": "team", "Value": "a"}])
    iam.update_role_description(RoleName="plain", Description="ok")
    assert iam.get_role(RoleName="plain")["Role"]["Description"] == "ok"


def test_create_account_refuses_aws_tag_keys(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    org = world.organizations(account.root)
    for key in ("aws:x", "AWS:cost"):
        fails("InvalidInputException", org.create_account, Email=f"t-{account.alias}@example.com",
              AccountName="tagged", Tags=[{"Key": key, "Value": "y"}])
    assert [a["Name"] for a in org.list_accounts()["Accounts"] if a["Name"] == "tagged"] == []
    made = org.create_account(Email=f"t-{account.alias}@example.com", AccountName="tagged",
                              Tags=[{"Key": "x-aws:ok", "Value": "y"}])["CreateAccountStatus"]
    assert made["State"] == "SUCCEEDED"
