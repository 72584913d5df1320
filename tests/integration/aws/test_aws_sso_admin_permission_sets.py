"""SSO Admin permission sets, provisioning and account assignments through boto3 against the live server: the
reserved IAM role `AWSReservedSSO_<name>_<hex>` that provisioning makes in the target account (with the
permission set's policies and session duration, unmodifiable by IAM users, gone when no longer provisioned),
the request statuses, and the documented errors."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from integration.aws.aws_world import Account, AwsWorld, at_once
from integration.aws.test_aws_cli import Cli
from integration.aws.test_aws_sso_admin import MISSING_INSTANCE, fails
from vestibule.runtime import build
from vestibule.services.identity_center import instances, provisioning
from vestibule.settings import Settings

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                              "Resource": "*"}]})
MISSING_USER = "0000000000-00000000-0000-4000-8000-000000000000"
ROLE = re.compile(r"AWSReservedSSO_Developers_[0-9a-f]{16}")


class Ic:
    def __init__(self, world: AwsWorld, account: Account) -> None:
        self.account = account
        self.sso = world.client("sso-admin", account.root)
        self.instance = self.sso.create_instance(Name="ic")["InstanceArn"]
        self.store = self.sso.describe_instance(InstanceArn=self.instance)["IdentityStoreId"]
        self.ids = world.identitystore(account.root)

    def permission_set(self, name: str = "Developers", **kw: Any) -> str:
        made = self.sso.create_permission_set(InstanceArn=self.instance, Name=name, **kw)
        return str(made["PermissionSet"]["PermissionSetArn"])

    def user(self, name: str) -> str:
        return str(self.ids.create_user(IdentityStoreId=self.store, UserName=name, DisplayName=name,
                                        Name={"GivenName": name, "FamilyName": "X"})["UserId"])

    def assign(self, ps: str, principal: str, kind: str = "USER", account: str | None = None) -> dict[str, Any]:
        status: dict[str, Any] = self.sso.create_account_assignment(
            InstanceArn=self.instance, TargetId=account or self.account.account_id, TargetType="AWS_ACCOUNT",
            PermissionSetArn=ps, PrincipalType=kind, PrincipalId=principal)["AccountAssignmentCreationStatus"]
        return status


@pytest.fixture
def ic(world: AwsWorld, account: Account) -> Ic:
    return Ic(world, account)


def reserved_roles(world: AwsWorld, account: Account) -> list[dict[str, Any]]:
    roles = world.iam(account.root).list_roles()["Roles"]
    return [r for r in roles if r["Path"] == "/aws-reserved/sso.amazonaws.com/"]


def test_permission_set_lifecycle(ic: Ic) -> None:
    arn = ic.permission_set(Description="devs", SessionDuration="PT2H", RelayState="https://console.example/",
                            Tags=[{"Key": "k", "Value": "v"}])
    assert re.fullmatch(r"arn:aws:sso:::permissionSet/ssoins-[0-9a-f]{16}/ps-[0-9a-f]{16}", arn)
    shown = ic.sso.describe_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn)["PermissionSet"]
    assert (shown["Name"], shown["Description"], shown["SessionDuration"], shown["RelayState"]) == (
        "Developers", "devs", "PT2H", "https://console.example/")
    assert ic.sso.list_permission_sets(InstanceArn=ic.instance)["PermissionSets"] == [arn]
    fails("ConflictException", ic.sso.create_permission_set, InstanceArn=ic.instance, Name="Developers")
    ic.sso.update_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn, SessionDuration="PT8H",
                                 Description="new")
    shown = ic.sso.describe_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn)["PermissionSet"]
    assert (shown["SessionDuration"], shown["Description"]) == ("PT8H", "new")
    default = ic.permission_set("Defaults")
    assert ic.sso.describe_permission_set(InstanceArn=ic.instance, PermissionSetArn=default)[
        "PermissionSet"]["SessionDuration"] == "PT1H"
    ic.sso.delete_permission_set(InstanceArn=ic.instance, PermissionSetArn=default)
    fails("ResourceNotFoundException", ic.sso.describe_permission_set, InstanceArn=ic.instance,
          PermissionSetArn=default)


@pytest.mark.parametrize("duration", ["PT30M", "PT13H", "P1D", "1 hour"])
def test_session_duration_is_one_to_twelve_hours(ic: Ic, duration: str) -> None:
    fails("ValidationException", ic.sso.create_permission_set, InstanceArn=ic.instance, Name="Bad",
          SessionDuration=duration)


def test_managed_and_inline_policies(ic: Ic) -> None:
    arn = ic.permission_set()
    both = {"InstanceArn": ic.instance, "PermissionSetArn": arn}
    ic.sso.attach_managed_policy_to_permission_set(**both, ManagedPolicyArn=READ_ONLY)
    fails("ConflictException", ic.sso.attach_managed_policy_to_permission_set, **both, ManagedPolicyArn=READ_ONLY)
    fails("ValidationException", ic.sso.attach_managed_policy_to_permission_set, **both,
          ManagedPolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    listed = ic.sso.list_managed_policies_in_permission_set(**both)["AttachedManagedPolicies"]
    assert listed == [{"Name": "ReadOnlyAccess", "Arn": READ_ONLY}]
    ic.sso.detach_managed_policy_from_permission_set(**both, ManagedPolicyArn=READ_ONLY)
    fails("ResourceNotFoundException", ic.sso.detach_managed_policy_from_permission_set, **both,
          ManagedPolicyArn=READ_ONLY)
    assert ic.sso.get_inline_policy_for_permission_set(**both)["InlinePolicy"] == ""
    ic.sso.put_inline_policy_to_permission_set(**both, InlinePolicy=INLINE)
    assert json.loads(ic.sso.get_inline_policy_for_permission_set(**both)["InlinePolicy"]) == json.loads(INLINE)
    fails("ValidationException", ic.sso.put_inline_policy_to_permission_set, **both, InlinePolicy="{not json")
    ic.sso.delete_inline_policy_from_permission_set(**both)
    assert ic.sso.get_inline_policy_for_permission_set(**both)["InlinePolicy"] == ""


def test_provisioning_makes_the_reserved_role(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set(SessionDuration="PT4H")
    both = {"InstanceArn": ic.instance, "PermissionSetArn": arn}
    ic.sso.attach_managed_policy_to_permission_set(**both, ManagedPolicyArn=READ_ONLY)
    ic.sso.put_inline_policy_to_permission_set(**both, InlinePolicy=INLINE)
    status = ic.sso.provision_permission_set(**both, TargetType="AWS_ACCOUNT", TargetId=account.account_id)[
        "PermissionSetProvisioningStatus"]
    assert (status["Status"], status["AccountId"], status["PermissionSetArn"]) == (
        "SUCCEEDED", account.account_id, arn)
    described = ic.sso.describe_permission_set_provisioning_status(
        InstanceArn=ic.instance, ProvisionPermissionSetRequestId=status["RequestId"])["PermissionSetProvisioningStatus"]
    assert described["RequestId"] == status["RequestId"] and described["Status"] == "SUCCEEDED"
    listed = ic.sso.list_permission_set_provisioning_status(InstanceArn=ic.instance, Filter={"Status": "SUCCEEDED"})
    assert [s["RequestId"] for s in listed["PermissionSetsProvisioningStatus"]] == [status["RequestId"]]
    [role] = reserved_roles(world, account)
    assert ROLE.fullmatch(role["RoleName"]) and role["MaxSessionDuration"] == 4 * 3600
    iam = world.iam(account.root)
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [READ_ONLY]
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["AwsSSOInlinePolicy"]
    assert ic.sso.list_permission_sets_provisioned_to_account(
        InstanceArn=ic.instance, AccountId=account.account_id)["PermissionSets"] == [arn]
    assert ic.sso.list_accounts_for_provisioned_permission_set(**both)["AccountIds"] == [account.account_id]
    # a change is not provisioned until provisioned again, and re-provisioning updates the role
    ic.sso.update_permission_set(**both, SessionDuration="PT6H")
    ic.sso.attach_managed_policy_to_permission_set(**both, ManagedPolicyArn=ADMIN)
    assert ic.sso.list_accounts_for_provisioned_permission_set(
        **both, ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED")["AccountIds"] == [account.account_id]
    ic.sso.provision_permission_set(**both, TargetType="ALL_PROVISIONED_ACCOUNTS")
    assert ic.sso.list_accounts_for_provisioned_permission_set(
        **both, ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED")["AccountIds"] == []
    [again] = reserved_roles(world, account)
    assert again["RoleName"] == role["RoleName"] and again["MaxSessionDuration"] == 6 * 3600
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([READ_ONLY, ADMIN])
    # provisioned: cannot be deleted
    fails("ConflictException", ic.sso.delete_permission_set, **both)


def test_the_reserved_role_is_unmodifiable_in_iam(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set()
    ic.sso.provision_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn, TargetType="AWS_ACCOUNT",
                                    TargetId=account.account_id)
    [role] = reserved_roles(world, account)
    iam = world.iam(world.api_user(account, "admin", ADMIN))
    name = role["RoleName"]
    fails("UnmodifiableEntity", iam.delete_role, RoleName=name)
    fails("UnmodifiableEntity", iam.attach_role_policy, RoleName=name, PolicyArn=ADMIN)
    fails("UnmodifiableEntity", iam.put_role_policy, RoleName=name, PolicyName="x", PolicyDocument=INLINE)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:AssumeRole"}]})
    fails("UnmodifiableEntity", iam.update_assume_role_policy, RoleName=name, PolicyDocument=trust)
    fails("InvalidInput", iam.create_role, RoleName="sneaky", Path="/aws-reserved/sso.amazonaws.com/",
          AssumeRolePolicyDocument=trust)
    assert iam.get_role(RoleName=name)["Role"]["Path"] == "/aws-reserved/sso.amazonaws.com/"


def test_assignments_provision_and_their_removal_unprovisions(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set()
    user = ic.user("alice")
    group = str(ic.ids.create_group(IdentityStoreId=ic.store, DisplayName="devs")["GroupId"])
    created = ic.assign(arn, user)
    assert (created["Status"], created["TargetId"], created["PrincipalId"], created["PrincipalType"]) == (
        "SUCCEEDED", account.account_id, user, "USER")
    ic.assign(arn, group, "GROUP")
    described = ic.sso.describe_account_assignment_creation_status(
        InstanceArn=ic.instance, AccountAssignmentCreationRequestId=created["RequestId"])
    assert described["AccountAssignmentCreationStatus"]["PermissionSetArn"] == arn
    assert len(ic.sso.list_account_assignment_creation_status(InstanceArn=ic.instance)[
        "AccountAssignmentsCreationStatus"]) == 2
    assert len(reserved_roles(world, account)) == 1
    listed = ic.sso.list_account_assignments(InstanceArn=ic.instance, AccountId=account.account_id,
                                             PermissionSetArn=arn)["AccountAssignments"]
    assert sorted((a["PrincipalType"], a["PrincipalId"]) for a in listed) == [("GROUP", group), ("USER", user)]
    mine = ic.sso.list_account_assignments_for_principal(InstanceArn=ic.instance, PrincipalId=user,
                                                         PrincipalType="USER")["AccountAssignments"]
    assert [(a["AccountId"], a["PermissionSetArn"]) for a in mine] == [(account.account_id, arn)]
    fails("ConflictException", ic.sso.delete_permission_set, InstanceArn=ic.instance, PermissionSetArn=arn)
    target = {"InstanceArn": ic.instance, "TargetId": account.account_id, "TargetType": "AWS_ACCOUNT",
              "PermissionSetArn": arn}
    deleted = ic.sso.delete_account_assignment(**target, PrincipalType="USER", PrincipalId=user)[
        "AccountAssignmentDeletionStatus"]
    assert deleted["Status"] == "SUCCEEDED"
    assert ic.sso.describe_account_assignment_deletion_status(
        InstanceArn=ic.instance, AccountAssignmentDeletionRequestId=deleted["RequestId"])[
        "AccountAssignmentDeletionStatus"]["PrincipalId"] == user
    assert [s["RequestId"] for s in ic.sso.list_account_assignment_deletion_status(InstanceArn=ic.instance)[
        "AccountAssignmentsDeletionStatus"]] == [deleted["RequestId"]]
    fails("ResourceNotFoundException", ic.sso.delete_account_assignment, **target, PrincipalType="USER",
          PrincipalId=user)
    assert len(reserved_roles(world, account)) == 1  # the group still has it
    ic.sso.delete_account_assignment(**target, PrincipalType="GROUP", PrincipalId=group)
    assert reserved_roles(world, account) == []
    assert ic.sso.list_permission_sets_provisioned_to_account(
        InstanceArn=ic.instance, AccountId=account.account_id)["PermissionSets"] == []
    ic.sso.delete_permission_set(InstanceArn=ic.instance, PermissionSetArn=arn)


def test_assignment_errors(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set()
    user = ic.user("bob")
    fails("ResourceNotFoundException", ic.assign, ps=arn, principal=MISSING_USER)
    fails("ResourceNotFoundException", ic.assign, ps=arn, principal=MISSING_USER, kind="GROUP")
    fails("ResourceNotFoundException", ic.assign, ps=arn, principal=user, kind="GROUP")  # a user is no group
    foreign = world.new_account()
    # not the instance's account
    fails("ValidationException", ic.assign, ps=arn, principal=user, account=foreign.account_id)
    assert world.iam(foreign.root).list_roles()["Roles"] == []
    fails("ValidationException", ic.sso.provision_permission_set, InstanceArn=ic.instance, PermissionSetArn=arn,
          TargetType="AWS_ACCOUNT", TargetId=foreign.account_id)
    fails("ValidationException", ic.sso.provision_permission_set, InstanceArn=ic.instance, PermissionSetArn=arn,
          TargetType="AWS_ACCOUNT")
    fails("ResourceNotFoundException", ic.sso.describe_account_assignment_creation_status, InstanceArn=ic.instance,
          AccountAssignmentCreationRequestId="00000000-0000-4000-8000-000000000000")


def test_permission_sets_of_another_account_look_like_none(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set()
    other = Ic(world, world.new_account())
    for instance in (ic.instance, MISSING_INSTANCE):
        fails("ResourceNotFoundException", other.sso.list_permission_sets, InstanceArn=instance)
        fails("ResourceNotFoundException", other.sso.create_permission_set, InstanceArn=instance, Name="Mine")
        fails("ResourceNotFoundException", other.sso.describe_permission_set, InstanceArn=instance,
              PermissionSetArn=arn)
    # a permission set of another instance is not found through one's own
    fails("ResourceNotFoundException", other.sso.describe_permission_set, InstanceArn=other.instance,
          PermissionSetArn=arn)
    fails("ResourceNotFoundException", other.sso.provision_permission_set, InstanceArn=other.instance,
          PermissionSetArn=arn, TargetType="ALL_PROVISIONED_ACCOUNTS")


def test_permission_set_calls_need_the_sso_actions(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set()
    reader = world.client("sso-admin", world.api_user(account, "reader", READ_ONLY))
    assert reader.list_permission_sets(InstanceArn=ic.instance)["PermissionSets"] == [arn]
    fails("AccessDeniedException", reader.create_permission_set, InstanceArn=ic.instance, Name="Nope")
    fails("AccessDeniedException", reader.provision_permission_set, InstanceArn=ic.instance, PermissionSetArn=arn,
          TargetType="AWS_ACCOUNT", TargetId=account.account_id)


def test_the_aws_cli_creates_and_lists_permission_sets(world: AwsWorld, account: Account, ic: Ic,
                                                       tmp_path: Path) -> None:
    cli = Cli(world, tmp_path)
    made = cli.ok(account.root, "sso-admin", "create-permission-set", "--instance-arn", ic.instance,
                  "--name", "CliSet", "--session-duration", "PT3H")
    arn = made["PermissionSet"]["PermissionSetArn"]
    listed = cli.ok(account.root, "sso-admin", "list-permission-sets", "--instance-arn", ic.instance)
    assert listed["PermissionSets"] == [arn]


def test_deleting_the_instance_removes_its_roles_and_a_deleted_user_loses_assignments(
        world: AwsWorld, account: Account, ic: Ic) -> None:
    kept, gone = ic.permission_set(), ic.permission_set("Temporary")
    user = ic.user("dave")
    ic.assign(kept, user)
    ic.assign(gone, ic.user("erin"))
    assert len(reserved_roles(world, account)) == 2
    ic.ids.delete_user(IdentityStoreId=ic.store, UserId=user)  # its assignment goes, and the role with it
    assert ic.sso.list_account_assignments(InstanceArn=ic.instance, AccountId=account.account_id,
                                           PermissionSetArn=kept)["AccountAssignments"] == []
    assert [r["RoleName"].split("_")[1] for r in reserved_roles(world, account)] == ["Temporary"]
    ic.sso.delete_instance(InstanceArn=ic.instance)
    assert reserved_roles(world, account) == []
    assert ic.sso.list_instances()["Instances"] == []


def test_concurrent_first_assignments_make_one_role(world: AwsWorld, account: Account, ic: Ic) -> None:
    arn = ic.permission_set()
    users = [ic.user(f"u{i}") for i in range(4)]
    clients = [world.client("sso-admin", account.root) for _ in users]
    outcomes = at_once([lambda c=c, u=u: c.create_account_assignment(  # type: ignore[misc]
        InstanceArn=ic.instance, TargetId=account.account_id, TargetType="AWS_ACCOUNT", PermissionSetArn=arn,
        PrincipalType="USER", PrincipalId=u) for c, u in zip(clients, users, strict=True)])
    assert set(outcomes) <= {"ok", "ConflictException"} and "ok" in outcomes, outcomes
    assert len(reserved_roles(world, account)) == 1
    listed = ic.sso.list_account_assignments(InstanceArn=ic.instance, AccountId=account.account_id,
                                             PermissionSetArn=arn)["AccountAssignments"]
    assert len(listed) == outcomes.count("ok")


def test_the_portal_finds_a_users_assignments_and_roles(world: AwsWorld, account: Account, ic: Ic,
                                                       aws_settings: Settings) -> None:
    direct, through_group, unassigned = ic.permission_set(), ic.permission_set("Ops"), ic.permission_set("None")
    user = ic.user("frank")
    group = str(ic.ids.create_group(IdentityStoreId=ic.store, DisplayName="ops")["GroupId"])
    ic.assign(direct, user)
    ic.assign(through_group, group, "GROUP")
    ic.assign(unassigned, ic.user("someone-else"))

    async def look() -> tuple[list[tuple[str, str]], list[tuple[str, str]], str | None, str | None]:
        rt = await build(aws_settings)
        try:
            async with rt.deps.store.unit() as uow:
                instance = await instances.by_arn(uow, ic.instance)
                assert instance is not None and await instances.by_portal_name(uow, ic.store) == instance
                both = await provisioning.assignments_for_user(uow, instance, user, [group])
                alone = await provisioning.assignments_for_user(uow, instance, user, [])
                role = await provisioning.reserved_role(uow, instance, direct, account.account_id)
                none = await provisioning.reserved_role(uow, instance, direct, "000000000000")
                return ([(a, p.name) for a, p in both], [(a, p.name) for a, p in alone],
                        role.name if role else None, none.name if none else None)
        finally:
            await rt.close()

    both, alone, role, none = asyncio.run(look())
    assert both == [(account.account_id, "Developers"), (account.account_id, "Ops")]
    assert alone == [(account.account_id, "Developers")]
    assert role is not None and ROLE.fullmatch(role) and none is None


def test_lists_page_with_max_results_and_next_token(ic: Ic) -> None:
    made = [ic.permission_set(f"Set{i}") for i in range(3)]
    first = ic.sso.list_permission_sets(InstanceArn=ic.instance, MaxResults=2)
    assert first["PermissionSets"] == made[:2] and "NextToken" in first
    rest = ic.sso.list_permission_sets(InstanceArn=ic.instance, MaxResults=2, NextToken=first["NextToken"])
    assert rest["PermissionSets"] == made[2:] and "NextToken" not in rest
    paged = [arn for page in ic.sso.get_paginator("list_permission_sets").paginate(
        InstanceArn=ic.instance, PaginationConfig={"PageSize": 1}) for arn in page["PermissionSets"]]
    assert paged == made
    fails("ValidationException", ic.sso.list_permission_sets, InstanceArn=ic.instance, NextToken="garbage")
