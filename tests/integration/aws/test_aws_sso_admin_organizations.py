"""SSO Admin with AWS Organizations: an instance of the management account is an organization instance whose
permission sets provision to member accounts (the reserved role appears in the member's `iam list-roles`); a
member account's own instance is an account instance and cannot reach other accounts."""

from __future__ import annotations

from integration.aws.aws_world import Account, AwsWorld, Keys
from integration.aws.test_aws_sso_admin import fails
from integration.aws.test_aws_sso_admin_permission_sets import ADMIN, READ_ONLY, ROLE, Ic, reserved_roles


def test_an_organization_instance_assigns_to_member_accounts(world: AwsWorld, account: Account) -> None:
    world.new_organization(account)
    member = world.organizations(account.root).create_account(
        Email=f"m-{account.alias}@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    ic = Ic(world, account)
    arn = ic.permission_set(SessionDuration="PT5H")
    ic.sso.attach_managed_policy_to_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn,
                                                   ManagedPolicyArn=READ_ONLY)
    ic.assign(arn, ic.user("carol"), account=member)
    admin = world.api_user(account, "org-admin", ADMIN)
    session = Keys.of(world.sts(admin).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="look")["Credentials"])
    roles = [r for r in world.iam(session).list_roles()["Roles"] if r["Path"] == "/aws-reserved/sso.amazonaws.com/"]
    assert [ROLE.fullmatch(r["RoleName"]) is not None for r in roles] == [True]
    assert roles[0]["MaxSessionDuration"] == 5 * 3600 and reserved_roles(world, account) == []
    assert ic.sso.list_accounts_for_provisioned_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn)[
        "AccountIds"] == [member]
    # a member account's own instance is an account instance: it cannot reach the management account
    own = world.client("sso-admin", session)
    own_instance = own.create_instance(Name="member-own")["InstanceArn"]
    own_set = own.create_permission_set(InstanceArn=own_instance, Name="Local")["PermissionSet"]["PermissionSetArn"]
    fails("ValidationException", own.provision_permission_set, InstanceArn=own_instance, PermissionSetArn=own_set,
          TargetType="AWS_ACCOUNT", TargetId=account.account_id)
