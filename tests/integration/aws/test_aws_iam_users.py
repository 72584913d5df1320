"""IAM through boto3: users, tags, pagination, groups, login profiles, ChangePassword,
account alias, password policy and the account summary."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code

CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"


def _fails(code: str, call: Callable[..., object], **kwargs: object) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["RequestId"]
    return err.value


def test_user_lifecycle(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    created = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert created["UserName"] == "alice" and created["Path"] == "/eng/"
    assert created["Arn"] == f"arn:aws:iam::{account.account_id}:user/eng/alice"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Tags"] == [{"Key": "team", "Value": "core"}]
    err = _fails("EntityAlreadyExists", iam.create_user, UserName="ALICE")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    got = iam.get_user(UserName="alice")["User"]
    assert {k: got[k] for k in ("UserName", "UserId", "Arn", "Path")} == {
        k: created[k] for k in ("UserName", "UserId", "Arn", "Path")}
    assert got["CreateDate"] == created["CreateDate"]
    err = _fails("NoSuchEntity", iam.get_user, UserName="nobody")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # GetUser without a name describes the caller: the root user here
    me = iam.get_user()["User"]
    assert me["Arn"] == account.root_arn and me["UserId"] == account.account_id

    iam.update_user(UserName="alice", NewUserName="alice2", NewPath="/ops/")
    renamed = iam.get_user(UserName="alice2")["User"]
    assert renamed["UserId"] == created["UserId"]
    assert renamed["Arn"] == f"arn:aws:iam::{account.account_id}:user/ops/alice2"
    _fails("NoSuchEntity", iam.get_user, UserName="alice")
    iam.create_user(UserName="bob")
    _fails("EntityAlreadyExists", iam.update_user, UserName="bob", NewUserName="alice2")

    iam.delete_user(UserName="bob")
    _fails("NoSuchEntity", iam.get_user, UserName="bob")
    _fails("NoSuchEntity", iam.delete_user, UserName="bob")
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.create_user, UserName="bad name!")
    _fails("ValidationError", loose.create_user, UserName="x" * 65)
    # other accounts' users are not visible
    other = world.iam(world.new_account().root)
    _fails("NoSuchEntity", other.get_user, UserName="alice2")


def test_user_tags(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="tagged")
    iam.tag_user(UserName="tagged", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName="tagged", Tags=[{"Key": "a", "Value": "3"}])
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="tagged")["Tags"]}
    assert tags == {"a": "3", "b": "2"}
    assert {t["Key"] for t in iam.get_user(UserName="tagged")["User"]["Tags"]} == {"a", "b"}
    iam.untag_user(UserName="tagged", TagKeys=["a"])
    assert iam.list_user_tags(UserName="tagged")["Tags"] == [{"Key": "b", "Value": "2"}]
    _fails("NoSuchEntity", iam.tag_user, UserName="ghost", Tags=[{"Key": "a", "Value": "1"}])
    _fails("LimitExceeded", iam.tag_user, UserName="tagged",
           Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])


def test_list_users_pages_with_marker(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    names = [f"page-user-{i:02d}" for i in range(7)]
    for name in names:
        iam.create_user(UserName=name, Path="/paged/" if name.endswith(("1", "3")) else "/")
    first = iam.list_users(MaxItems=3)
    assert first["IsTruncated"] is True and len(first["Users"]) == 3 and first["Marker"]
    seen = [u["UserName"] for u in first["Users"]]
    second = iam.list_users(MaxItems=3, Marker=first["Marker"])
    seen += [u["UserName"] for u in second["Users"]]
    third = iam.list_users(MaxItems=3, Marker=second["Marker"])
    assert third["IsTruncated"] is False and "Marker" not in third
    seen += [u["UserName"] for u in third["Users"]]
    assert sorted(seen) == names
    paginated = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
                 for u in page["Users"]]
    assert sorted(paginated) == names
    assert sorted(u["UserName"] for u in iam.list_users(PathPrefix="/paged/")["Users"]) == [
        "page-user-01", "page-user-03"]


def test_groups_and_membership(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    group = iam.create_group(GroupName="devs", Path="/eng/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{account.account_id}:group/eng/devs"
    assert group["GroupId"].startswith("AGPA")
    _fails("EntityAlreadyExists", iam.create_group, GroupName="devs")
    iam.create_group(GroupName="ops")
    iam.create_user(UserName="gus")
    iam.create_user(UserName="hal")
    iam.add_user_to_group(GroupName="devs", UserName="gus")
    iam.add_user_to_group(GroupName="devs", UserName="hal")
    iam.add_user_to_group(GroupName="ops", UserName="gus")
    got = iam.get_group(GroupName="devs")
    assert got["Group"]["GroupName"] == "devs" and sorted(u["UserName"] for u in got["Users"]) == ["gus", "hal"]
    assert sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName="gus")["Groups"]) == ["devs", "ops"]
    assert sorted(g["GroupName"] for g in iam.list_groups()["Groups"]) == ["devs", "ops"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/eng/")["Groups"]] == ["devs"]
    _fails("NoSuchEntity", iam.add_user_to_group, GroupName="devs", UserName="nobody")
    _fails("NoSuchEntity", iam.add_user_to_group, GroupName="nogroup", UserName="gus")
    _fails("DeleteConflict", iam.delete_group, GroupName="devs")
    _fails("DeleteConflict", iam.delete_user, UserName="gus")
    iam.remove_user_from_group(GroupName="devs", UserName="hal")
    _fails("NoSuchEntity", iam.remove_user_from_group, GroupName="devs", UserName="hal")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["gus"]
    iam.update_group(GroupName="ops", NewGroupName="sre")
    assert iam.get_group(GroupName="sre")["Group"]["GroupName"] == "sre"
    iam.remove_user_from_group(GroupName="devs", UserName="gus")
    iam.remove_user_from_group(GroupName="sre", UserName="gus")
    iam.delete_group(GroupName="devs")
    _fails("NoSuchEntity", iam.get_group, GroupName="devs")
    iam.delete_user(UserName="gus")


def test_delete_user_conflicts_until_everything_is_gone(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="busy")
    key = iam.create_access_key(UserName="busy")["AccessKey"]["AccessKeyId"]
    err = _fails("DeleteConflict", iam.delete_user, UserName="busy")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    iam.delete_access_key(UserName="busy", AccessKeyId=key)
    iam.attach_user_policy(UserName="busy", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    _fails("DeleteConflict", iam.delete_user, UserName="busy")
    iam.detach_user_policy(UserName="busy", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_user_policy(UserName="busy", PolicyName="p", PolicyDocument='{"Version":"2012-10-17","Statement":'
                        '[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}')
    _fails("DeleteConflict", iam.delete_user, UserName="busy")
    iam.delete_user_policy(UserName="busy", PolicyName="p")
    iam.create_login_profile(UserName="busy", Password="busy password 1")
    _fails("DeleteConflict", iam.delete_user, UserName="busy")
    iam.delete_login_profile(UserName="busy")
    iam.delete_user(UserName="busy")


def test_login_profiles(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="ivan")
    _fails("NoSuchEntity", iam.get_login_profile, UserName="ivan")
    profile = iam.create_login_profile(UserName="ivan", Password="first password 1",
                                       PasswordResetRequired=True)["LoginProfile"]
    assert profile["UserName"] == "ivan" and profile["PasswordResetRequired"] is True and profile["CreateDate"]
    _fails("EntityAlreadyExists", iam.create_login_profile, UserName="ivan", Password="first password 1")
    assert iam.get_login_profile(UserName="ivan")["LoginProfile"]["PasswordResetRequired"] is True
    iam.update_login_profile(UserName="ivan", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="ivan")["LoginProfile"]["PasswordResetRequired"] is False
    iam.update_login_profile(UserName="ivan", Password="second password 2", PasswordResetRequired=True)
    assert iam.get_login_profile(UserName="ivan")["LoginProfile"]["PasswordResetRequired"] is True
    _fails("NoSuchEntity", iam.create_login_profile, UserName="ghost", Password="some password 1")

    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True, RequireSymbols=True,
                                       AllowUsersToChangePassword=True)
    iam.create_user(UserName="judy")
    err = _fails("PasswordPolicyViolation", iam.create_login_profile, UserName="judy", Password="short")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    _fails("PasswordPolicyViolation", iam.update_login_profile, UserName="ivan", Password="longenoughbutplain")
    iam.create_login_profile(UserName="judy", Password="long enough 1 !")

    iam.delete_login_profile(UserName="ivan")
    _fails("NoSuchEntity", iam.get_login_profile, UserName="ivan")
    _fails("NoSuchEntity", iam.delete_login_profile, UserName="ivan")


def test_change_password(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = world.api_user(account, "kim")
    iam.create_login_profile(UserName="kim", Password="kim password 1", PasswordResetRequired=True)
    kim = world.iam(keys)
    # the default policy lets users change their own password without any permission
    kim.change_password(OldPassword="kim password 1", NewPassword="kim password 2")
    assert iam.get_login_profile(UserName="kim")["LoginProfile"]["PasswordResetRequired"] is False
    _fails("AccessDenied", kim.change_password, OldPassword="wrong password", NewPassword="kim password 3")
    iam.update_account_password_policy(MinimumPasswordLength=10, AllowUsersToChangePassword=False)
    err = _fails("AccessDenied", kim.change_password, OldPassword="kim password 2", NewPassword="kim password 3")
    message = err.response["Error"]["Message"]
    assert account.user_arn("kim") in message and "iam:ChangePassword" in message
    iam.attach_user_policy(UserName="kim", PolicyArn=CHANGE_PASSWORD)
    _fails("PasswordPolicyViolation", kim.change_password, OldPassword="kim password 2", NewPassword="short")
    kim.change_password(OldPassword="kim password 2", NewPassword="kim password 3")
    # only IAM users have a password to change this way
    _fails("InvalidUserType", iam.change_password, OldPassword="root password 1", NewPassword="root password 2")
    # a user without a login profile
    nolp = world.api_user(account, "lou", CHANGE_PASSWORD)
    _fails("NoSuchEntity", world.iam(nolp).change_password, OldPassword="x" * 8, NewPassword="y" * 10)


def test_account_alias(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    assert iam.list_account_aliases()["AccountAliases"] == [account.alias]
    iam.delete_account_alias(AccountAlias=account.alias)
    assert iam.list_account_aliases()["AccountAliases"] == []
    _fails("NoSuchEntity", iam.delete_account_alias, AccountAlias=account.alias)
    mine = f"{account.alias}-new"
    iam.create_account_alias(AccountAlias=mine)
    assert iam.list_account_aliases()["AccountAliases"] == [mine]
    iam.create_account_alias(AccountAlias=mine)  # idempotent for the owner
    other = world.new_account()
    err = _fails("EntityAlreadyExists", iam.create_account_alias, AccountAlias=other.alias)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    _fails("ValidationError", iam.create_account_alias, AccountAlias="Not-Valid")
    assert iam.list_account_aliases()["AccountAliases"] == [mine]


def test_account_password_policy(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    err = _fails("NoSuchEntity", iam.get_account_password_policy)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    _fails("NoSuchEntity", iam.delete_account_password_policy)
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True,
                                       RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
                                       AllowUsersToChangePassword=True, MaxPasswordAge=90,
                                       PasswordReusePrevention=5, HardExpiry=False)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy == {"MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
                      "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
                      "AllowUsersToChangePassword": True, "ExpirePasswords": True, "MaxPasswordAge": 90,
                      "PasswordReusePrevention": 5, "HardExpiry": False}
    iam.update_account_password_policy(MinimumPasswordLength=8)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 8 and policy["ExpirePasswords"] is False
    assert "MaxPasswordAge" not in policy and policy["RequireSymbols"] is False
    loose = world.iam(account.root, validate=False)
    _fails("ValidationError", loose.update_account_password_policy, MinimumPasswordLength=200)
    iam.delete_account_password_policy()
    _fails("NoSuchEntity", iam.get_account_password_policy)


def test_account_summary(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 0 and summary["AccountAccessKeysPresent"] == 1
    assert summary["AccountMFAEnabled"] == 0 and summary["Roles"] == 0
    for key in ("AccountMFAEnabled", "AccountAccessKeysPresent", "AccountPasswordPresent", "MFADevices",
                "MFADevicesInUse", "Users", "Roles", "Providers", "GlobalEndpointTokenVersion", "Groups",
                "Policies", "AccessKeysPerUserQuota", "UsersQuota"):
        assert isinstance(summary[key], int), key
    iam.create_user(UserName="one")
    iam.create_user(UserName="two")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":'
                    f'"Allow","Principal":{{"AWS":"{account.account_id}"}},"Action":"sts:AssumeRole"}}]}}')
    iam.create_policy(PolicyName="p", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                      '"Action":"iam:GetUser","Resource":"*"}]}')
    world.enable_root_mfa(account, "root-device")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"]) == (2, 1, 1, 1)
    assert (summary["MFADevices"], summary["MFADevicesInUse"], summary["AccountMFAEnabled"]) == (2, 1, 1)
    # a user with read access sees the same summary
    reader = world.api_user(account, "reader", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert world.iam(reader).get_account_summary()["SummaryMap"]["Users"] == 3
    plain = world.api_user(account, "plain")
    _fails("AccessDenied", world.iam(plain).get_account_summary)


def test_the_root_user_has_no_login_profile(world: AwsWorld, account: Account) -> None:
    """Without UserName the root user is meant, and it has none: NoSuchEntity, an error the models declare."""
    iam = world.iam(account.root)
    for call in (iam.get_login_profile, iam.delete_login_profile):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
        assert caught.value.response["Error"]["Message"] == "Login Profile for User root cannot be found."
