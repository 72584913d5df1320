"""STS session tags through boto3 against a live server: AssumeRole's `Tags` need sts:TagSession in the trust
policy and in the caller's policies (aws:RequestTag and aws:TagKeys in that evaluation); in the session they are
aws:PrincipalTag values over the role's own tags; transitive tags follow role chaining and cannot be passed
again; the packed size counts policy and tags; GetFederationToken's `Tags` are the federated user's. Also
GetAccessKeyInfo needs sts:GetAccessKeyInfo, UpdateUser/UpdateGroup need the action on the new ARN, and IAM
audit events name the stored entity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _trust(principal: str, actions: list[str], condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
    if condition:
        statement["Condition"] = condition
    return _policy(statement)


def _user(world: AwsWorld, account: Account, name: str, *statements: dict[str, Any],
          tags: list[dict[str, str]] | None = None) -> Keys:
    iam = world.iam(account.root)
    iam.create_user(UserName=name, **({"Tags": tags} if tags else {}))
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(*statements))
    return Keys.of(iam.create_access_key(UserName=name)["AccessKey"])


def _role(world: AwsWorld, account: Account, name: str, trust: str, *statements: dict[str, Any],
          tags: list[dict[str, str]] | None = None) -> str:
    iam = world.iam(account.root)
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                               **({"Tags": tags} if tags else {}))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_policy(*statements))
    return arn


def _denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == "AccessDenied", err.value
    return str(err.value)


def _code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return error_code(err.value)


def _tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def _events(world: AwsWorld, account_id: str) -> list[dict[str, Any]]:
    async def read(deps: Deps) -> list[dict[str, Any]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


TAGGING = ["sts:AssumeRole", "sts:TagSession"]


# ---- who may pass session tags ---------------------------------------------------------------------------

def test_session_tags_need_tag_session_in_the_trust_policy(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "ann", _allow(TAGGING)))
    plain = _role(world, account, "plain", _trust(account.root_arn, ["sts:AssumeRole"]))
    tagging = _role(world, account, "tagging", _trust(account.root_arn, TAGGING))
    assert sts.assume_role(RoleArn=plain, RoleSessionName="ss")["AssumedRoleUser"]
    message = _denied(sts.assume_role, RoleArn=plain, RoleSessionName="ss", Tags=_tags(team="blue"))
    assert "sts:TagSession" in message
    assert sts.assume_role(RoleArn=tagging, RoleSessionName="ss", Tags=_tags(team="blue"))["AssumedRoleUser"]


def test_the_trust_policy_sees_request_tags_and_tag_keys(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "bea", _allow(TAGGING)))
    role = _role(world, account, "only-blue", _policy(
        {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:TagSession",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}}}))
    assert sts.assume_role(RoleArn=role, RoleSessionName="ss", Tags=_tags(team="blue", cost="7"))
    _denied(sts.assume_role, RoleArn=role, RoleSessionName="ss", Tags=_tags(team="red"))
    _denied(sts.assume_role, RoleArn=role, RoleSessionName="ss", Tags=_tags(team="blue", admin="yes"))
    assert sts.assume_role(RoleArn=role, RoleSessionName="ss")["AssumedRoleUser"]  # no tags: no sts:TagSession


def test_tag_session_needs_the_callers_own_permission(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "cy", _allow("sts:AssumeRole")))
    by_account = _role(world, account, "by-account", _trust(account.root_arn, TAGGING))
    message = _denied(sts.assume_role, RoleArn=by_account, RoleSessionName="ss", Tags=_tags(team="x"))
    assert "sts:TagSession" in message
    # a trust policy naming the caller's own ARN stands in for the missing identity Allow (same account)
    by_name = _role(world, account, "by-name", _trust(account.user_arn("cy"), TAGGING))
    assert sts.assume_role(RoleArn=by_name, RoleSessionName="ss", Tags=_tags(team="x"))["AssumedRoleUser"]
    # an explicit Deny of sts:TagSession in the caller's policies always wins
    world.iam(account.root).put_user_policy(UserName="cy", PolicyName="no-tags", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "sts:TagSession", "Resource": "*"}))
    _denied(sts.assume_role, RoleArn=by_name, RoleSessionName="ss", Tags=_tags(team="x"))
    assert sts.assume_role(RoleArn=by_name, RoleSessionName="ss")["AssumedRoleUser"]


# ---- session tags in the session ---------------------------------------------------------------------------

def test_session_tags_are_principal_tags_over_the_roles_own(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "dee", _allow(TAGGING)))
    world.iam(account.root).create_user(UserName="target")
    role = _role(world, account, "tagged", _trust(account.root_arn, TAGGING),
                 _allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}),
                 _allow("iam:ListUsers", condition={"StringEquals": {"aws:PrincipalTag/dept": "ops"}}),
                 _allow("iam:ListUserTags", "arn:aws:iam::*:user/${aws:PrincipalTag/team}"),
                 tags=_tags(team="blue", dept="ops"))
    # the role's own tags: team=blue
    bare = world.iam(Keys.of(sts.assume_role(RoleArn=role, RoleSessionName="bare")["Credentials"]))
    _denied(bare.get_user, UserName="target")
    assert bare.list_users()["Users"]
    # a session tag whose key differs only in case replaces the role's tag; the others stay
    red = world.iam(Keys.of(sts.assume_role(RoleArn=role, RoleSessionName="red",
                                            Tags=_tags(Team="red"))["Credentials"]))
    assert red.get_user(UserName="target")["User"]["UserName"] == "target"
    assert red.list_users()["Users"]
    _denied(red.list_user_tags, UserName="target")
    # ... and as a policy variable
    named = world.iam(Keys.of(sts.assume_role(RoleArn=role, RoleSessionName="named",
                                              Tags=_tags(team="target"))["Credentials"]))
    assert named.list_user_tags(UserName="target")["Tags"] == []
    _denied(named.get_user, UserName="target")


def test_transitive_tags_follow_role_chaining(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "eve", _allow(TAGGING)))
    world.iam(account.root).create_user(UserName="target")
    first = _role(world, account, "first", _trust(account.root_arn, TAGGING), _allow(TAGGING))
    checks = [_allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/project": "apollo"}}),
              _allow("iam:ListUsers", condition={"StringEquals": {"aws:PrincipalTag/temp": "yes"}}),
              _allow(TAGGING)]
    second = _role(world, account, "second", _trust(account.root_arn, TAGGING), *checks)
    third = _role(world, account, "third", _trust(account.root_arn, TAGGING), *checks)
    no_tags = _role(world, account, "no-tags", _trust(account.root_arn, ["sts:AssumeRole"]), *checks)
    one = Keys.of(sts.assume_role(RoleArn=first, RoleSessionName="one", Tags=_tags(project="apollo", temp="yes"),
                                  TransitiveTagKeys=["project"])["Credentials"])
    two = Keys.of(world.sts(one).assume_role(RoleArn=second, RoleSessionName="two")["Credentials"])
    assert world.iam(two).get_user(UserName="target")["User"]["UserName"] == "target"  # project came along
    _denied(world.iam(two).list_users)  # temp was not transitive
    # transitive tags stay transitive further down the chain
    three = Keys.of(world.sts(two).assume_role(RoleArn=third, RoleSessionName="three")["Credentials"])
    assert world.iam(three).get_user(UserName="target")["User"]["UserName"] == "target"
    # carrying transitive tags into a session needs sts:TagSession in that role's trust policy
    message = _denied(world.sts(one).assume_role, RoleArn=no_tags, RoleSessionName="xx")
    assert "sts:TagSession" in message
    # a session without transitive tags passes none on
    plain = Keys.of(sts.assume_role(RoleArn=first, RoleSessionName="plain", Tags=_tags(project="apollo"))
                    ["Credentials"])
    chained = Keys.of(world.sts(plain).assume_role(RoleArn=no_tags, RoleSessionName="xx")["Credentials"])
    _denied(world.iam(chained).get_user, UserName="target")


def test_a_chained_session_cannot_pass_a_transitive_tag_again(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "fay", _allow(TAGGING)))
    first = _role(world, account, "first", _trust(account.root_arn, TAGGING), _allow(TAGGING))
    second = _role(world, account, "second", _trust(account.root_arn, TAGGING),
                   _allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/project": "apollo",
                                                                     "aws:PrincipalTag/extra": "1"}}))
    one = world.sts(Keys.of(sts.assume_role(RoleArn=first, RoleSessionName="one", Tags=_tags(project="apollo"),
                                            TransitiveTagKeys=["project"])["Credentials"]))
    # AWS: "If you pass a session tag with the same key as an inherited tag, the operation fails"
    for tags in (_tags(project="gemini"), _tags(PROJECT="gemini"), _tags(project="apollo")):
        message = _denied(one.assume_role, RoleArn=second, RoleSessionName="two", Tags=tags)
        assert "transitive" in message
    # other tags may be added next to the inherited ones
    two = Keys.of(one.assume_role(RoleArn=second, RoleSessionName="two", Tags=_tags(extra="1"))["Credentials"])
    assert world.iam(two).get_user(UserName="fay")["User"]["UserName"] == "fay"


def test_session_tags_follow_the_model(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "gus", _allow(TAGGING)), validate=False)
    role = _role(world, account, "r", _trust(account.root_arn, TAGGING))
    for bad in (_tags(**{"a;b": "x"}), _tags(**{"k" * 129: "x"}), _tags(k="v" * 257), _tags(k="semi;colon"),
                [{"Key": "", "Value": "x"}], [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
                [{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]):
        assert _code(sts.assume_role, RoleArn=role, RoleSessionName="ss", Tags=bad) == "ValidationError", bad
    # each transitive key must be one of the tags passed (without regard to case)
    assert _code(sts.assume_role, RoleArn=role, RoleSessionName="ss", Tags=_tags(a="1"),
                 TransitiveTagKeys=["b"]) == "ValidationError"
    assert _code(sts.assume_role, RoleArn=role, RoleSessionName="ss", TransitiveTagKeys=["a"]) == "ValidationError"
    assert sts.assume_role(RoleArn=role, RoleSessionName="ss", Tags=_tags(Aa="1", empty=""),
                           TransitiveTagKeys=["aA"])["AssumedRoleUser"]
    # 50 tags of the model's characters (letters, digits, spaces, _.:/=+-@) are fine
    fifty = [{"Key": f"k{i} ü_.:/=+-@", "Value": f"v{i}"} for i in range(50)]
    assert sts.assume_role(RoleArn=role, RoleSessionName="ss", Tags=fifty)["PackedPolicySize"] < 100


def test_policy_and_tags_share_the_packed_size(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "hal", _allow(TAGGING)))
    role = _role(world, account, "r", _trust(account.root_arn, TAGGING))
    statement = _allow("iam:GetUser", "arn:aws:iam::*:user/" + "x" * 1800)
    big = _policy(statement)
    alone = sts.assume_role(RoleArn=role, RoleSessionName="ss", Policy=big)["PackedPolicySize"]
    tagged = sts.assume_role(RoleArn=role, RoleSessionName="ss", Policy=big, Tags=_tags(a="b" * 100))
    assert tagged["PackedPolicySize"] > alone
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role, RoleSessionName="ss", Policy=big, Tags=_tags(k="v" * 256))
    assert error_code(err.value) == "PackedPolicyTooLarge"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "session tags" in str(err.value)
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role, RoleSessionName="ss", Tags=[{"Key": f"k{i:03}" + "x" * 124, "Value": "v" * 256}
                                                                  for i in range(10)])
    assert error_code(err.value) == "PackedPolicyTooLarge"


def test_federation_token_tags_are_the_federated_users(world: AwsWorld, account: Account) -> None:
    keys = _user(world, account, "ivy", _allow("sts:GetFederationToken"),
                 _allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}),
                 _allow("iam:ListUsers", condition={"StringEquals": {"aws:PrincipalTag/dept": "ops"}}),
                 tags=_tags(team="blue", dept="ops"))
    sts = world.sts(keys)
    everything = _policy(_allow("*"))
    message = _denied(sts.get_federation_token, Name="web", Policy=everything, Tags=_tags(team="red"))
    assert "sts:TagSession" in message
    world.iam(account.root).put_user_policy(UserName="ivy", PolicyName="tag", PolicyDocument=_policy(
        _allow("sts:TagSession", condition={"StringEquals": {"aws:RequestTag/team": "red"}})))
    _denied(sts.get_federation_token, Name="web", Policy=everything, Tags=_tags(team="green"))
    out = sts.get_federation_token(Name="web", Policy=everything, Tags=_tags(TEAM="red"))
    assert out["PackedPolicySize"] > 0
    fed = world.iam(Keys.of(out["Credentials"]))
    assert fed.get_user(UserName="ivy")["User"]["UserName"] == "ivy"  # the session tag over the user's
    assert fed.list_users()["Users"]  # the user's other tags are the federated user's too
    untagged = world.iam(Keys.of(sts.get_federation_token(Name="web", Policy=everything)["Credentials"]))
    _denied(untagged.get_user, UserName="ivy")
    # the root user may pass tags; its federated users have only them
    only_red = _policy(_allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}))
    root_sts = world.sts(account.root)
    out = root_sts.get_federation_token(Name="rootweb", Policy=only_red, Tags=_tags(team="red"))
    assert world.iam(Keys.of(out["Credentials"])).get_user(UserName="ivy")["User"]["UserName"] == "ivy"
    bare = Keys.of(root_sts.get_federation_token(Name="rootweb", Policy=only_red)["Credentials"])
    _denied(world.iam(bare).get_user, UserName="ivy")


def test_scoped_credentials_keep_the_session_tags(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "jo", _allow(TAGGING)))
    role = _role(world, account, "r", _trust(account.root_arn, TAGGING), _allow("sts:GetScopedCredentials"),
                 _allow("iam:GetUser", condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}))
    session = Keys.of(sts.assume_role(RoleArn=role, RoleSessionName="ss", Tags=_tags(team="red"))["Credentials"])
    scoped = Keys.of(world.sts(session).get_scoped_credentials(Policy=_policy(_allow("iam:GetUser")))["Credentials"])
    assert world.iam(scoped).get_user(UserName="jo")["User"]["UserName"] == "jo"


def test_assume_role_events_name_the_session_tag_keys(world: AwsWorld, account: Account) -> None:
    sts = world.sts(_user(world, account, "kim", _allow(TAGGING)))
    role = _role(world, account, "r", _trust(account.root_arn, TAGGING))
    sts.assume_role(RoleArn=role, RoleSessionName="ss", Tags=_tags(team="secret-ish", cost="1"),
                    TransitiveTagKeys=["team"])
    detail = [e["detail"] for e in _events(world, account.account_id) if e["event"] == "AssumeRole"][-1]
    assert detail["session_tag_keys"] == "team,cost" and detail["transitive_tag_keys"] == "team"


# ---- GetAccessKeyInfo -----------------------------------------------------------------------------------------

def test_get_access_key_info_needs_its_action(world: AwsWorld, account: Account) -> None:
    other = world.new_account()
    allowed = _user(world, account, "lee", _allow(["sts:GetAccessKeyInfo", "sts:GetScopedCredentials"]))
    assert world.sts(allowed).get_access_key_info(AccessKeyId=other.root.access_key_id)["Account"] == \
        other.account_id
    nobody = _user(world, account, "max", _allow("iam:GetUser"))
    message = _denied(world.sts(nobody).get_access_key_info, AccessKeyId=other.root.access_key_id)
    assert "sts:GetAccessKeyInfo" in message
    # a scoped session whose scope-down denies everything is refused
    session = Keys.of(world.sts(allowed).get_session_token(DurationSeconds=900)["Credentials"])
    assert world.sts(session).get_access_key_info(AccessKeyId=allowed.access_key_id)["Account"] == account.account_id
    scoped = Keys.of(world.sts(session).get_scoped_credentials(Policy=_policy(
        {"Effect": "Deny", "Action": "*", "Resource": "*"}))["Credentials"])
    _denied(world.sts(scoped).get_access_key_info, AccessKeyId=allowed.access_key_id)
    # federation token credentials may call no STS operation but GetCallerIdentity
    feder = _user(world, account, "ned", _allow(["sts:GetFederationToken", "sts:GetAccessKeyInfo"]))
    fed = Keys.of(world.sts(feder).get_federation_token(Name="fed", Policy=_policy(_allow("*")))["Credentials"])
    _denied(world.sts(fed).get_access_key_info, AccessKeyId=allowed.access_key_id)
    assert world.sts(account.root).get_access_key_info(AccessKeyId=allowed.access_key_id)["Account"] == \
        account.account_id


# ---- renames need the new ARN; events name the stored entity ----------------------------------------------------

def test_update_user_needs_the_action_on_the_new_arn(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="old-bob")
    prefix = f"arn:aws:iam::{account.account_id}:user"
    helpdesk = world.iam(_user(world, account, "helpdesk", _allow("iam:UpdateUser", f"{prefix}/old-*")))
    message = _denied(helpdesk.update_user, UserName="old-bob", NewUserName="new-bob")
    assert f"{prefix}/new-bob" in message
    _denied(helpdesk.update_user, UserName="old-bob", NewPath="/elsewhere/")
    assert iam.get_user(UserName="old-bob")["User"]["Path"] == "/"
    iam.put_user_policy(UserName="helpdesk", PolicyName="new", PolicyDocument=_policy(
        _allow("iam:UpdateUser", f"{prefix}/new-*")))
    helpdesk.update_user(UserName="OLD-BOB", NewUserName="new-bob")
    assert iam.get_user(UserName="new-bob")["User"]["Arn"] == f"{prefix}/new-bob"
    detail = [e["detail"] for e in _events(world, account.account_id) if e["event"] == "UpdateUser"][-1]
    assert detail["user"] == "old-bob" and detail["new_name"] == "new-bob"  # the stored name, not OLD-BOB


def test_update_group_needs_the_action_on_the_new_arn(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_group(GroupName="old-ops")
    prefix = f"arn:aws:iam::{account.account_id}:group"
    admin = world.iam(_user(world, account, "admin", _allow("iam:UpdateGroup", f"{prefix}/old-*")))
    _denied(admin.update_group, GroupName="old-ops", NewGroupName="new-ops")
    _denied(admin.update_group, GroupName="old-ops", NewPath="/x/")
    iam.put_user_policy(UserName="admin", PolicyName="p", PolicyDocument=_policy(_allow("iam:UpdateGroup")))
    admin.update_group(GroupName="old-ops", NewGroupName="new-ops", NewPath="/x/")
    assert iam.get_group(GroupName="new-ops")["Group"]["Path"] == "/x/"


def test_iam_events_name_the_stored_entity(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="Carol")
    iam.create_group(GroupName="Ops")
    iam.create_role(RoleName="Prod", AssumeRolePolicyDocument=_trust(account.root_arn, ["sts:AssumeRole"]))
    iam.tag_user(UserName="carol", Tags=_tags(a="1"))
    iam.add_user_to_group(GroupName="ops", UserName="CAROL")
    iam.put_user_policy(UserName="cArol", PolicyName="p", PolicyDocument=_policy(_allow("iam:GetUser")))
    iam.tag_role(RoleName="prod", Tags=_tags(a="1"))
    iam.update_role(RoleName="PROD", MaxSessionDuration=7200)
    iam.delete_user_policy(UserName="carol", PolicyName="p")
    iam.remove_user_from_group(GroupName="OPS", UserName="carol")
    iam.delete_group(GroupName="ops")
    key = iam.upload_ssh_public_key(UserName="carol", SSHPublicKeyBody=_ssh_key())["SSHPublicKey"]
    iam.update_ssh_public_key(UserName="CAROL", SSHPublicKeyId=key["SSHPublicKeyId"], Status="Inactive")
    iam.delete_ssh_public_key(UserName="carOL", SSHPublicKeyId=key["SSHPublicKeyId"])
    events = {e["event"]: e["detail"] for e in _events(world, account.account_id)}
    assert events["TagUser"]["user"] == "Carol"
    assert events["AddUserToGroup"] == {"group": "Ops", "user": "Carol"}
    assert events["PutUserPolicy"]["entity"] == "Carol"
    assert events["DeleteUserPolicy"]["entity"] == "Carol"
    assert events["TagRole"]["role"] == "Prod"
    assert events["UpdateRole"]["role"] == "Prod"
    assert events["DeleteGroup"]["group"] == "Ops"
    assert events["UploadSSHPublicKey"]["user"] == "Carol"
    assert events["UpdateSSHPublicKey"]["user"] == "Carol"
    assert events["DeleteSSHPublicKey"]["user"] == "Carol"


def _ssh_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
