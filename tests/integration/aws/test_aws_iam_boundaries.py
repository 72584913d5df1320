"""Permissions boundaries of IAM users and roles through boto3 against a live server: Put/Delete
User/Role PermissionsBoundary, PermissionsBoundary on CreateUser and CreateRole, how GetUser, GetRole, GetPolicy,
ListPolicies and ListEntitiesForPolicy show them, DeletePolicy while a policy is a boundary, the iam:PermissionsBoundary
condition key, and evaluation: a boundary limits what the identity policies allow, for users, their sessions and role
sessions, and never widens it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
IAM_FULL = "arn:aws:iam::aws:policy/IAMFullAccess"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def trusting(account: Account) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:AssumeRole"}]})


def code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return error_code(err.value)


def message_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return str(err.value.response["Error"]["Message"])


def boundary(arn: str) -> dict[str, str]:
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def entities(iam: Any, arn: str, **kwargs: Any) -> tuple[list[str], list[str], list[str]]:
    found = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary", **kwargs)
    return ([u["UserName"] for u in found["PolicyUsers"]], [r["RoleName"] for r in found["PolicyRoles"]],
            [g["GroupName"] for g in found["PolicyGroups"]])


# ---- the operations ----------------------------------------------------------------------------

def test_user_boundary_put_shown_counted_listed_and_deleted(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="ann", Path="/team/")
    iam.create_user(UserName="bob")
    assert "PermissionsBoundary" not in iam.get_user(UserName="ann")["User"]
    iam.put_user_permissions_boundary(UserName="ann", PermissionsBoundary=IAM_READ)
    assert iam.get_user(UserName="ann")["User"]["PermissionsBoundary"] == boundary(IAM_READ)
    assert all("PermissionsBoundary" not in u for u in iam.list_users()["Users"])  # as AWS: not in the listing
    policy = iam.get_policy(PolicyArn=IAM_READ)["Policy"]
    assert policy["PermissionsBoundaryUsageCount"] == 1 and policy["AttachmentCount"] == 0
    assert entities(iam, IAM_READ) == (["ann"], [], [])
    assert entities(iam, IAM_READ, EntityFilter="User", PathPrefix="/team/") == (["ann"], [], [])
    assert entities(iam, IAM_READ, PathPrefix="/other/") == ([], [], [])
    assert entities(iam, IAM_READ, EntityFilter="Role") == ([], [], [])
    # a permissions policy is not a boundary, and the other way round
    listed = iam.list_entities_for_policy(PolicyArn=IAM_READ)
    assert listed["PolicyUsers"] == [] and listed["PolicyRoles"] == []

    # replaced by a customer policy
    mine = iam.create_policy(PolicyName="bound", PolicyDocument=document(allow("iam:Get*")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="ann", PermissionsBoundary=mine)
    iam.put_user_permissions_boundary(UserName="bob", PermissionsBoundary=mine)
    assert iam.get_user(UserName="ann")["User"]["PermissionsBoundary"] == boundary(mine)
    assert iam.get_policy(PolicyArn=IAM_READ)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    assert iam.get_policy(PolicyArn=mine)["Policy"]["PermissionsBoundaryUsageCount"] == 2
    assert entities(iam, mine) == (["ann", "bob"], [], [])
    page = iam.list_entities_for_policy(PolicyArn=mine, PolicyUsageFilter="PermissionsBoundary", MaxItems=1)
    assert [u["UserName"] for u in page["PolicyUsers"]] == ["ann"] and page["IsTruncated"]
    listed_policies = {p["Arn"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    assert listed_policies[mine]["PermissionsBoundaryUsageCount"] == 2
    used = iam.list_policies(OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["Arn"] for p in used] == [mine]
    assert iam.list_policies(OnlyAttached=True)["Policies"] == []

    iam.delete_user_permissions_boundary(UserName="ann")
    assert "PermissionsBoundary" not in iam.get_user(UserName="ann")["User"]
    iam.delete_user_permissions_boundary(UserName="ann")  # none to delete: still succeeds
    assert entities(iam, mine) == (["bob"], [], [])
    # a user with a boundary is deleted as any other (the boundary does not block it)
    iam.delete_user(UserName="bob")
    assert iam.get_policy(PolicyArn=mine)["Policy"]["PermissionsBoundaryUsageCount"] == 0


def test_role_boundary_on_create_put_and_delete(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    created = iam.create_role(RoleName="app", Path="/svc/", AssumeRolePolicyDocument=trusting(account),
                              PermissionsBoundary=IAM_READ)["Role"]
    assert created["PermissionsBoundary"] == boundary(IAM_READ)
    assert iam.get_role(RoleName="app")["Role"]["PermissionsBoundary"] == boundary(IAM_READ)
    assert all("PermissionsBoundary" not in r for r in iam.list_roles()["Roles"])
    assert entities(iam, IAM_READ) == ([], ["app"], [])
    assert entities(iam, IAM_READ, EntityFilter="Role", PathPrefix="/svc/") == ([], ["app"], [])
    assert entities(iam, IAM_READ, EntityFilter="User") == ([], [], [])
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=IAM_FULL)
    assert iam.get_role(RoleName="app")["Role"]["PermissionsBoundary"] == boundary(IAM_FULL)
    assert iam.get_policy(PolicyArn=IAM_FULL)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    iam.delete_role_permissions_boundary(RoleName="app")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="app")["Role"]
    iam.delete_role_permissions_boundary(RoleName="app")
    assert iam.get_policy(PolicyArn=IAM_FULL)["Policy"]["PermissionsBoundaryUsageCount"] == 0

    user = iam.create_user(UserName="carl", PermissionsBoundary=IAM_READ)["User"]
    assert user["PermissionsBoundary"] == boundary(IAM_READ)
    assert iam.get_user(UserName="carl")["User"]["PermissionsBoundary"] == boundary(IAM_READ)


def test_boundary_errors(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="ann")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=trusting(account))
    missing = f"arn:aws:iam::{account.account_id}:policy/nope"
    other = world.new_account()
    theirs = world.iam(other.root).create_policy(PolicyName="theirs",
                                                  PolicyDocument=document(allow("*")))["Policy"]["Arn"]
    for arn in (missing, theirs, "arn:aws:iam::aws:policy/NoSuchManagedPolicy"):
        assert message_of(iam.put_user_permissions_boundary, UserName="ann", PermissionsBoundary=arn) == (
            f"Scope ARN: {arn} does not exist or is not attachable.")
        assert code_of(iam.put_role_permissions_boundary, RoleName="app", PermissionsBoundary=arn) == "NoSuchEntity"
        assert code_of(iam.create_user, UserName="new", PermissionsBoundary=arn) == "NoSuchEntity"
        assert code_of(iam.create_role, RoleName="new", AssumeRolePolicyDocument=trusting(account),
                       PermissionsBoundary=arn) == "NoSuchEntity"
    # nothing was made or changed by the refused calls
    assert code_of(iam.get_user, UserName="new") == "NoSuchEntity"
    assert code_of(iam.get_role, RoleName="new") == "NoSuchEntity"
    assert "PermissionsBoundary" not in iam.get_user(UserName="ann")["User"]
    # not a policy ARN
    for arn in (f"arn:aws:iam::{account.account_id}:user/ann", "not-an-arn-but-long-enough"):
        assert code_of(iam.put_user_permissions_boundary, UserName="ann", PermissionsBoundary=arn) == "InvalidInput"
        assert code_of(iam.create_user, UserName="new", PermissionsBoundary=arn) == "InvalidInput"
    # unknown user or role
    assert code_of(iam.put_user_permissions_boundary, UserName="nobody", PermissionsBoundary=IAM_READ) == (
        "NoSuchEntity")
    assert code_of(iam.delete_user_permissions_boundary, UserName="nobody") == "NoSuchEntity"
    assert code_of(iam.put_role_permissions_boundary, RoleName="nobody", PermissionsBoundary=IAM_READ) == (
        "NoSuchEntity")
    assert code_of(iam.delete_role_permissions_boundary, RoleName="nobody") == "NoSuchEntity"
    # the model's constraints
    loose = world.iam(account.root, validate=False)
    assert code_of(loose.put_user_permissions_boundary, UserName="ann", PermissionsBoundary="arn:aws:iam::aws") == (
        "ValidationError")
    assert code_of(loose.put_user_permissions_boundary, UserName="ann", PermissionsBoundary="x" * 2049) == (
        "ValidationError")
    assert code_of(loose.put_role_permissions_boundary, RoleName="app", PermissionsBoundary="") == "ValidationError"


def test_delete_policy_refused_while_it_is_a_boundary(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    arn = iam.create_policy(PolicyName="bound", PolicyDocument=document(allow("iam:*")))["Policy"]["Arn"]
    iam.create_user(UserName="ann", PermissionsBoundary=arn)
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=trusting(account), PermissionsBoundary=arn)
    assert code_of(iam.delete_policy, PolicyArn=arn) == "DeleteConflict"
    iam.delete_user_permissions_boundary(UserName="ann")
    assert code_of(iam.delete_policy, PolicyArn=arn) == "DeleteConflict"
    iam.delete_role(RoleName="app")  # a role's boundary does not keep the role
    iam.delete_policy(PolicyArn=arn)
    assert code_of(iam.get_policy, PolicyArn=arn) == "NoSuchEntity"


def test_boundary_changes_are_audited(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="ann", PermissionsBoundary=IAM_READ)
    iam.put_user_permissions_boundary(UserName="ann", PermissionsBoundary=IAM_FULL)
    iam.delete_user_permissions_boundary(UserName="ann")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=trusting(account))
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=IAM_READ)
    iam.delete_role_permissions_boundary(RoleName="app")

    async def read(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account.account_id)]

    events = [(e["event"], e["detail"]) for e in world.run(read) if e["principal"] == account.root_arn]
    assert ("CreateUser", {"user": "ann", "permissions_boundary": IAM_READ}) in events
    assert ("PutUserPermissionsBoundary", {"user": "ann", "permissions_boundary": IAM_FULL,
                                           "previous": IAM_READ}) in events
    assert ("DeleteUserPermissionsBoundary", {"user": "ann", "previous": IAM_FULL}) in events
    assert ("PutRolePermissionsBoundary", {"role": "app", "permissions_boundary": IAM_READ,
                                           "previous": None}) in events
    assert ("DeleteRolePermissionsBoundary", {"role": "app", "previous": IAM_READ}) in events


# ---- evaluation ----------------------------------------------------------------------------------

def test_a_boundary_limits_an_administrator(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "boxed", ADMIN)
    root = world.iam(account.root)
    boxed = world.iam(keys)
    boxed.create_user(UserName="before")  # AdministratorAccess alone
    root.put_user_permissions_boundary(UserName="boxed", PermissionsBoundary=IAM_READ)
    message = message_of(boxed.create_user, UserName="during")
    assert message.startswith(f"User: {account.user_arn('boxed')} is not authorized to perform: iam:CreateUser on "
                              f"resource: {account.user_arn('during')} because no permissions boundary allows the "
                              "iam:CreateUser action")
    assert [u["UserName"] for u in boxed.list_users()["Users"]] == ["before", "boxed"]  # read is allowed by both
    assert code_of(boxed.delete_user_permissions_boundary, UserName="boxed") == "AccessDenied"  # cannot lift it
    # GetSessionToken sessions of the user are bounded as the user is
    session = world.iam(Keys.of(world.sts(keys).get_session_token()["Credentials"]))
    root.delete_user_permissions_boundary(UserName="boxed")
    boxed.create_user(UserName="after")  # deleting the boundary restores access at once
    root.put_user_permissions_boundary(UserName="boxed", PermissionsBoundary=IAM_READ)
    assert code_of(session.list_users) == "AccessDenied"  # a session without MFA may not call IAM at all
    assert code_of(boxed.create_user, UserName="again") == "AccessDenied"


def test_a_role_session_has_its_roles_boundary(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    role = root.create_role(RoleName="admin", AssumeRolePolicyDocument=trusting(account),
                            PermissionsBoundary=IAM_READ)["Role"]["Arn"]
    root.attach_role_policy(RoleName="admin", PolicyArn=ADMIN)
    caller = world.api_user(account, "caller", ADMIN)
    credentials = world.sts(caller).assume_role(RoleArn=role, RoleSessionName="work")["Credentials"]
    session = world.iam(Keys.of(credentials))
    assert code_of(session.create_user, UserName="x") == "AccessDenied"
    assert session.get_role(RoleName="admin")["Role"]["RoleName"] == "admin"
    root.delete_role_permissions_boundary(RoleName="admin")
    session.create_user(UserName="x")  # the same session, its next request
    root.put_role_permissions_boundary(RoleName="admin", PermissionsBoundary=IAM_READ)
    assert code_of(session.create_user, UserName="y") == "AccessDenied"


def test_a_deny_in_a_boundary_wins(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    bound = root.create_policy(PolicyName="no-deletes", PolicyDocument=document(
        allow("*"), {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}))["Policy"]["Arn"]
    keys = world.api_user(account, "ops", ADMIN)
    root.put_user_permissions_boundary(UserName="ops", PermissionsBoundary=bound)
    ops = world.iam(keys)
    ops.create_user(UserName="temp")
    message = message_of(ops.delete_user, UserName="temp")
    assert message.startswith(f"User: {account.user_arn('ops')} is not authorized to perform: iam:DeleteUser on "
                              f"resource: {account.user_arn('temp')} with an explicit deny in a permissions boundary")
    assert root.get_user(UserName="temp")["User"]["UserName"] == "temp"


def test_a_boundary_never_widens(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "reader", IAM_READ)
    world.iam(account.root).put_user_permissions_boundary(UserName="reader", PermissionsBoundary=ADMIN)
    reader = world.iam(keys)
    assert "because no identity-based policy allows the iam:CreateUser action" in message_of(reader.create_user,
                                                                                            UserName="x")
    assert reader.list_users()["Users"]
    # and a boundary alone grants nothing
    bare = world.api_user(account, "bare")
    world.iam(account.root).put_user_permissions_boundary(UserName="bare", PermissionsBoundary=ADMIN)
    assert code_of(world.iam(bare).list_users) == "AccessDenied"


def test_session_policies_still_intersect(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    role = root.create_role(RoleName="wide", AssumeRolePolicyDocument=trusting(account),
                            PermissionsBoundary=IAM_FULL)["Role"]["Arn"]
    root.attach_role_policy(RoleName="wide", PolicyArn=ADMIN)
    caller = world.api_user(account, "caller", ADMIN)
    credentials = world.sts(caller).assume_role(RoleArn=role, RoleSessionName="narrow", Policy=document(
        allow(["iam:ListUsers", "iam:GetUser", "sts:GetCallerIdentity"])))["Credentials"]
    session = world.iam(Keys.of(credentials))
    assert session.list_users()["Users"] is not None
    # the boundary allows it, the session policy does not
    assert "because no session policy allows the iam:CreateUser action" in message_of(session.create_user,
                                                                                      UserName="x")
    assert code_of(session.list_roles) == "AccessDenied"
    # federation tokens of a bounded user: identity policies, the user's boundary and the session policy
    user = world.api_user(account, "fed", ADMIN)
    root.put_user_permissions_boundary(UserName="fed", PermissionsBoundary=IAM_READ)
    # the boundary decides GetFederationToken itself too
    assert code_of(world.sts(user).get_federation_token, Name="visitor") == "AccessDenied"
    fed_bound = root.create_policy(PolicyName="fed-bound", PolicyDocument=document(
        allow(["iam:List*", "iam:Get*", "sts:GetFederationToken"])))["Policy"]["Arn"]
    root.put_user_permissions_boundary(UserName="fed", PermissionsBoundary=fed_bound)
    token = world.sts(user).get_federation_token(Name="visitor", Policy=document(allow("iam:*")))
    federated = world.iam(Keys.of(token["Credentials"]))
    assert federated.list_users()["Users"] is not None
    assert code_of(federated.create_user, UserName="y") == "AccessDenied"


def test_assume_role_is_bounded_too(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    role = root.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(account))["Role"]["Arn"]
    keys = world.api_user(account, "hopper", ADMIN)
    root.put_user_permissions_boundary(UserName="hopper", PermissionsBoundary=IAM_READ)
    assert code_of(world.sts(keys).assume_role, RoleArn=role, RoleSessionName="hop") == "AccessDenied"
    root.delete_user_permissions_boundary(UserName="hopper")
    assert world.sts(keys).assume_role(RoleArn=role, RoleSessionName="hop")["Credentials"]


# ---- iam:PermissionsBoundary ------------------------------------------------------------------------

def test_permissions_boundary_condition_key_delegates_safely(world: AwsWorld, account: Account) -> None:
    """The delegation pattern AWS documents: an administrator may create users and give them permissions only
    with a given boundary, and may not change or remove that boundary."""
    root = world.iam(account.root)
    fence = root.create_policy(PolicyName="fence", PolicyDocument=document(allow("iam:Get*")))["Policy"]["Arn"]
    with_fence = {"StringEquals": {"iam:PermissionsBoundary": fence}}
    root.create_user(UserName="delegate")
    root.put_user_policy(UserName="delegate", PolicyName="p", PolicyDocument=document(
        allow(["iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:AttachUserPolicy", "iam:PutUserPolicy",
               "iam:DeleteUserPermissionsBoundary"], condition=with_fence),
        allow(["iam:GetUser", "iam:CreateRole"])))
    delegate = world.iam(Keys.of(root.create_access_key(UserName="delegate")["AccessKey"]))

    assert code_of(delegate.create_user, UserName="free") == "AccessDenied"  # no boundary asked for
    assert code_of(delegate.create_user, UserName="free", PermissionsBoundary=IAM_READ) == "AccessDenied"
    delegate.create_user(UserName="fenced", PermissionsBoundary=fence)
    delegate.attach_user_policy(UserName="fenced", PolicyArn=IAM_READ)  # the target has the boundary
    delegate.put_user_policy(UserName="fenced", PolicyName="p", PolicyDocument=document(allow("iam:GetUser")))
    root.create_user(UserName="open")
    assert code_of(delegate.attach_user_policy, UserName="open", PolicyArn=ADMIN) == "AccessDenied"
    assert code_of(delegate.put_user_permissions_boundary, UserName="open", PermissionsBoundary=IAM_READ) == (
        "AccessDenied")
    delegate.put_user_permissions_boundary(UserName="open", PermissionsBoundary=fence)
    delegate.attach_user_policy(UserName="open", PolicyArn=IAM_READ)  # now it has the boundary
    assert code_of(delegate.put_user_permissions_boundary, UserName="fenced", PermissionsBoundary=IAM_READ) == (
        "AccessDenied")
    delegate.delete_user_permissions_boundary(UserName="fenced")  # allowed: the boundary it has is the fence
    assert code_of(delegate.delete_user_permissions_boundary, UserName="fenced") == "AccessDenied"  # none now
    # the key is the one the request asks for, on CreateRole as well; other actions do not have it
    role_rule = {"StringEquals": {"iam:PermissionsBoundary": fence}}
    root.put_user_policy(UserName="delegate", PolicyName="roles", PolicyDocument=document(
        {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*",
         "Condition": {"StringNotEquals": role_rule["StringEquals"]}},
        allow("iam:GetUser", condition=role_rule)))
    assert code_of(delegate.create_role, RoleName="r1", AssumeRolePolicyDocument=trusting(account)) == (
        "AccessDenied")
    delegate.create_role(RoleName="r2", AssumeRolePolicyDocument=trusting(account), PermissionsBoundary=fence)


# ---- trust policies (CreateRole, UpdateAssumeRolePolicy) ------------------------------------------------

def test_trust_policies_allow_only_sts_actions(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)

    def trust(action: object, **extra: object) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": action, **extra}]})

    ok = ["sts:AssumeRole", ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"],
          "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:*", "sts:Assume*"]
    for index, action in enumerate(ok):
        iam.create_role(RoleName=f"ok-{index}", AssumeRolePolicyDocument=trust(action))
        iam.update_assume_role_policy(RoleName=f"ok-{index}", PolicyDocument=trust(action))
    for action in ("s3:GetObject", ["sts:AssumeRole", "iam:PassRole"], "sts:GetCallerIdentity", "iam:*"):
        with pytest.raises(ClientError) as err:
            iam.create_role(RoleName="bad", AssumeRolePolicyDocument=trust(action))
        assert error_code(err.value) == "MalformedPolicyDocument"
        assert err.value.response["Error"]["Message"].startswith("Trust Policy statement actions can only be")
        assert code_of(iam.update_assume_role_policy, RoleName="ok-0", PolicyDocument=trust(action)) == (
            "MalformedPolicyDocument")
    assert message_of(iam.create_role, RoleName="bad",
                      AssumeRolePolicyDocument=trust("sts:AssumeRole", Resource="*")) == "Has prohibited field Resource"
    assert code_of(iam.get_role, RoleName="bad") == "NoSuchEntity"
    # the refused update left the trust policy as it was
    assert "sts:AssumeRole" in json.dumps(iam.get_role(RoleName="ok-0")["Role"]["AssumeRolePolicyDocument"])
