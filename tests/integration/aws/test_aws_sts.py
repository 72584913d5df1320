"""STS through boto3 against a live server: caller identities, session tokens (with MFA),
AssumeRole and its trust checks, federation tokens, access key info, and credential expiry."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


def trust(principal: object, condition: dict[str, object] | None = None) -> str:
    statement: dict[str, object] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow(action: str, resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


def _lifetime(credentials: dict[str, object]) -> float:
    expiration = credentials["Expiration"]
    assert isinstance(expiration, datetime)
    return expiration.timestamp() - time.time()


def test_caller_identity_of_root_and_iam_user(world: AwsWorld, account: Account) -> None:
    me = world.sts(account.root).get_caller_identity()
    assert me["Account"] == account.account_id
    assert me["Arn"] == f"arn:aws:iam::{account.account_id}:root"
    assert me["UserId"] == account.account_id
    assert me["ResponseMetadata"]["RequestId"]

    iam = world.iam(account.root)
    created = iam.create_user(UserName="alice", Path="/team/")["User"]
    keys = Keys.of(iam.create_access_key(UserName="alice")["AccessKey"])
    me = world.sts(keys).get_caller_identity()
    assert me == {**me, "Account": account.account_id, "UserId": created["UserId"],
                  "Arn": f"arn:aws:iam::{account.account_id}:user/team/alice"}
    assert created["UserId"].startswith("AIDA")


def test_session_token_durations(world: AwsWorld, account: Account) -> None:
    user = world.api_user(account, "bob")
    sts = world.sts(user)
    default = sts.get_session_token()["Credentials"]
    assert default["AccessKeyId"].startswith("ASIA") and default["SessionToken"]
    assert 43200 - 60 < _lifetime(default) <= 43200 + 5
    shortest = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert 900 - 60 < _lifetime(shortest) <= 905
    longest = sts.get_session_token(DurationSeconds=129600)["Credentials"]
    assert 129600 - 60 < _lifetime(longest) <= 129605
    loose = world.sts(user, validate=False)
    for bad in (899, 129601):
        with pytest.raises(ClientError) as err:
            loose.get_session_token(DurationSeconds=bad)
        assert error_code(err.value) == "ValidationError"
    # the session acts as the user, and cannot make another session
    session = Keys.of(default)
    me = world.sts(session).get_caller_identity()
    assert me["Arn"] == account.user_arn("bob")
    with pytest.raises(ClientError) as err:
        world.sts(session).get_session_token()
    assert error_code(err.value) == "AccessDenied"
    # root sessions last at most an hour
    root_session = world.sts(account.root).get_session_token(DurationSeconds=7200)["Credentials"]
    assert _lifetime(root_session) <= 3605


def test_session_token_with_mfa_and_replayed_code(world: AwsWorld, account: Account) -> None:
    user = world.api_user(account, "carol", IAM_READ)
    iam = world.iam(account.root)
    serial, totp = world.enable_virtual_mfa(iam, "carol-phone", user_name="carol")
    sts = world.sts(user)
    code = totp.at(world.clock())
    with_mfa = Keys.of(sts.get_session_token(SerialNumber=serial, TokenCode=code, DurationSeconds=900)["Credentials"])
    with pytest.raises(ClientError) as err:
        sts.get_session_token(SerialNumber=serial, TokenCode=code)
    assert error_code(err.value) == "AccessDenied", "a used code is refused"
    with pytest.raises(ClientError) as err:
        sts.get_session_token(SerialNumber=serial, TokenCode="000000" if code != "000000" else "111111")
    assert error_code(err.value) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        sts.get_session_token(SerialNumber=f"arn:aws:iam::{account.account_id}:mfa/nothing", TokenCode=code)
    assert error_code(err.value) == "AccessDenied"

    # IAM calls with session credentials need MFA ones
    assert world.iam(with_mfa).get_user()["User"]["UserName"] == "carol"
    without = Keys.of(sts.get_session_token()["Credentials"])
    with pytest.raises(ClientError) as err:
        world.iam(without).get_user()
    assert error_code(err.value) == "AccessDenied"
    assert "MFA" in err.value.response["Error"]["Message"]


def test_assume_role_trusting_the_user_itself(world: AwsWorld, account: Account) -> None:
    user = world.api_user(account, "dave")  # no identity policy at all
    iam = world.iam(account.root)
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust(account.user_arn("dave")))["Role"]
    iam.attach_role_policy(RoleName="deployer", PolicyArn=IAM_READ)
    out = world.sts(user).assume_role(RoleArn=role["Arn"], RoleSessionName="ci-run.1@x")
    arn = f"arn:aws:sts::{account.account_id}:assumed-role/deployer/ci-run.1@x"
    assert out["AssumedRoleUser"] == {"AssumedRoleId": f"{role['RoleId']}:ci-run.1@x", "Arn": arn}
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and 3500 < _lifetime(creds) <= 3605
    session = Keys.of(creds)
    me = world.sts(session).get_caller_identity()
    assert me["Arn"] == arn and me["UserId"] == f"{role['RoleId']}:ci-run.1@x" and me["Account"] == account.account_id
    # the role's policies apply, not the user's
    assert world.iam(session).get_role(RoleName="deployer")["Role"]["Arn"] == role["Arn"]
    with pytest.raises(ClientError) as err:
        world.iam(session).create_user(UserName="nope")
    assert error_code(err.value) == "AccessDenied"
    assert arn in err.value.response["Error"]["Message"]
    # GetUser without a name needs user credentials
    with pytest.raises(ClientError) as err:
        world.iam(session).get_user()
    assert error_code(err.value) == "ValidationError"
    # an assumed role may not ask for more than an hour (role chaining)
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=trust(account.root_arn))
    iam.attach_role_policy(RoleName="deployer", PolicyArn=ADMIN)
    with pytest.raises(ClientError) as err:
        world.sts(session).assume_role(RoleArn=role["Arn"], RoleSessionName="chain", DurationSeconds=7200)
    assert error_code(err.value) == "ValidationError"


def test_assume_role_trusting_the_account_needs_an_identity_policy(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    role = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=trust(account.account_id))["Role"]
    plain = world.api_user(account, "erin")
    with pytest.raises(ClientError) as err:
        world.sts(plain).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert error_code(err.value) == "AccessDenied"
    message = err.value.response["Error"]["Message"]
    assert account.user_arn("erin") in message and "sts:AssumeRole" in message and role["Arn"] in message
    iam.put_user_policy(UserName="erin", PolicyName="assume-ops", PolicyDocument=allow("sts:AssumeRole", role["Arn"]))
    out = world.sts(plain).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/ops/s1")
    # the root user may not assume roles, even of its own account
    with pytest.raises(ClientError) as err:
        world.sts(account.root).assume_role(RoleArn=role["Arn"], RoleSessionName="root")
    assert error_code(err.value) == "AccessDenied"
    # an unknown role is denied like an untrusted one
    with pytest.raises(ClientError) as err:
        world.sts(plain).assume_role(RoleArn=f"arn:aws:iam::{account.account_id}:role/ghost", RoleSessionName="s1")
    assert error_code(err.value) == "AccessDenied"


def test_assume_role_external_id_and_mfa_conditions(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    user = world.api_user(account, "frank")
    ext = iam.create_role(RoleName="vendor", AssumeRolePolicyDocument=trust(
        account.user_arn("frank"), {"StringEquals": {"sts:ExternalId": "ticket-4711"}}))["Role"]
    sts = world.sts(user)
    for kwargs in ({}, {"ExternalId": "ticket-0000"}):
        with pytest.raises(ClientError) as err:
            sts.assume_role(RoleArn=ext["Arn"], RoleSessionName="vs", **kwargs)
        assert error_code(err.value) == "AccessDenied"
    assert sts.assume_role(RoleArn=ext["Arn"], RoleSessionName="vs", ExternalId="ticket-4711")["Credentials"]

    guarded = iam.create_role(RoleName="guarded", AssumeRolePolicyDocument=trust(
        account.user_arn("frank"), {"Bool": {"aws:MultiFactorAuthPresent": "true"}}))["Role"]
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=guarded["Arn"], RoleSessionName="mf")
    assert error_code(err.value) == "AccessDenied"
    serial, totp = world.enable_virtual_mfa(iam, "frank-phone", user_name="frank")
    out = sts.assume_role(RoleArn=guarded["Arn"], RoleSessionName="mf", SerialNumber=serial,
                          TokenCode=totp.at(world.clock()))
    assert out["AssumedRoleUser"]["Arn"].endswith("assumed-role/guarded/mf")
    # MFA from a GetSessionToken session counts as well
    mfa_session = Keys.of(sts.get_session_token(SerialNumber=serial,
                                                TokenCode=totp.at(world.clock() + 30))["Credentials"])
    assert world.sts(mfa_session).assume_role(RoleArn=guarded["Arn"], RoleSessionName="m2")["Credentials"]


def test_assume_role_duration_and_session_name_rules(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    user = world.api_user(account, "gina")
    role = iam.create_role(RoleName="long", AssumeRolePolicyDocument=trust(account.user_arn("gina")),
                           MaxSessionDuration=7200)["Role"]
    assert role["MaxSessionDuration"] == 7200
    sts = world.sts(user)
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="two-hours", DurationSeconds=7200)
    assert 7100 < _lifetime(out["Credentials"]) <= 7205
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)
    assert 800 < _lifetime(out["Credentials"]) <= 905
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="too-long", DurationSeconds=7201)
    assert error_code(err.value) == "ValidationError"
    assert "MaxSessionDuration" in err.value.response["Error"]["Message"]

    loose = world.sts(user, validate=False)
    for name in ("a", "x" * 65, "has space", "semi;colon"):
        with pytest.raises(ClientError) as err:
            loose.assume_role(RoleArn=role["Arn"], RoleSessionName=name)
        assert error_code(err.value) == "ValidationError", name
    for name in ("ab", "x" * 64, "a_b+c=d,e.f@g-h"):
        assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName=name)["AssumedRoleUser"]["Arn"].endswith("/" + name)
    with pytest.raises(ClientError) as err:
        loose.assume_role(RoleArn=role["Arn"])
    assert error_code(err.value) == "ValidationError"
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn="arn:aws:iam::123:role/not-an-arn-really", RoleSessionName="ok")
    assert error_code(err.value) == "ValidationError"


def test_federation_token_is_limited_by_both_policies(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    user = world.api_user(account, "hank", IAM_READ)
    role = iam.create_role(RoleName="visible", AssumeRolePolicyDocument=trust(account.root_arn))["Role"]
    # an IAM user needs sts:GetFederationToken itself
    with pytest.raises(ClientError) as err:
        world.sts(user).get_federation_token(Name="hank-web")
    assert error_code(err.value) == "AccessDenied"
    assert "sts:GetFederationToken" in err.value.response["Error"]["Message"]
    iam.put_user_policy(UserName="hank", PolicyName="federate", PolicyDocument=allow(
        "sts:GetFederationToken", f"arn:aws:sts::{account.account_id}:federated-user/*"))
    session_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetUser", "iam:CreateUser"], "Resource": "*"}]})
    out = world.sts(user).get_federation_token(Name="hank-web", Policy=session_policy, DurationSeconds=900)
    fed_arn = f"arn:aws:sts::{account.account_id}:federated-user/hank-web"
    assert out["FederatedUser"] == {"FederatedUserId": f"{account.account_id}:hank-web", "Arn": fed_arn}
    assert 800 < _lifetime(out["Credentials"]) <= 905
    fed = Keys.of(out["Credentials"])
    me = world.sts(fed).get_caller_identity()
    assert me["Arn"] == fed_arn and me["UserId"] == f"{account.account_id}:hank-web"
    assert me["Account"] == account.account_id
    fed_iam = world.iam(fed)
    assert fed_iam.get_user(UserName="hank")["User"]["UserName"] == "hank"  # both allow
    with pytest.raises(ClientError) as err:
        fed_iam.create_user(UserName="x")  # session allows, identity does not
    assert error_code(err.value) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        fed_iam.get_role(RoleName="visible")  # identity allows, session does not
    assert error_code(err.value) == "AccessDenied"
    # no session policy: a federated user may do nothing
    bare = Keys.of(world.sts(user).get_federation_token(Name="bare")["Credentials"])
    with pytest.raises(ClientError) as err:
        world.iam(bare).get_user(UserName="hank")
    assert error_code(err.value) == "AccessDenied"
    # a bad session policy
    with pytest.raises(ClientError) as err:
        world.sts(user).get_federation_token(Name="bad", Policy="{not json")
    assert error_code(err.value) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as err:
        world.sts(fed).get_federation_token(Name="again")
    assert error_code(err.value) == "AccessDenied"
    # federation credentials call no STS operation but GetCallerIdentity, even with a role trusting them
    iam.update_assume_role_policy(RoleName="visible", PolicyDocument=trust(fed_arn))
    with pytest.raises(ClientError) as err:
        world.sts(fed).assume_role(RoleArn=role["Arn"], RoleSessionName="fed")
    assert error_code(err.value) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        world.sts(fed).get_session_token()
    assert error_code(err.value) == "AccessDenied"


def test_access_key_info(world: AwsWorld, account: Account) -> None:
    other = world.new_account()
    sts = world.sts(account.root)
    assert sts.get_access_key_info(AccessKeyId=account.root.access_key_id)["Account"] == account.account_id
    assert sts.get_access_key_info(AccessKeyId=other.root.access_key_id)["Account"] == other.account_id
    temp = sts.get_session_token()["Credentials"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=temp)["Account"] == account.account_id
    with pytest.raises(ClientError) as err:
        sts.get_access_key_info(AccessKeyId="AKIA" + "Z" * 16)
    assert error_code(err.value) in {"InvalidParameterValue", "InvalidClientTokenId"}


def test_temporary_credentials_work_until_they_expire(world: AwsWorld, account: Account,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials are issued for 900 s at real time. Then the server's clock is moved (and
    botocore's signing clock with it, so the SigV4 time check still passes): 800 s later they
    still work, 901 s later the server answers ExpiredToken."""
    user = world.api_user(account, "ivy")
    iam = world.iam(account.root)
    iam.put_user_policy(UserName="ivy", PolicyName="federate", PolicyDocument=allow("sts:GetFederationToken"))
    role = iam.create_role(RoleName="brief", AssumeRolePolicyDocument=trust(account.user_arn("ivy")))["Role"]
    session = Keys.of(world.sts(user).get_session_token(DurationSeconds=900)["Credentials"])
    assumed = Keys.of(world.sts(user).assume_role(RoleArn=role["Arn"], RoleSessionName="bs",
                                                  DurationSeconds=900)["Credentials"])
    fed = Keys.of(world.sts(user).get_federation_token(Name="brief", DurationSeconds=900)["Credentials"])
    world.shift(monkeypatch, 800)
    for keys in (session, assumed, fed):
        assert world.sts(keys).get_caller_identity()["Account"] == account.account_id
    world.shift(monkeypatch, 901)
    for keys in (session, assumed, fed):
        with pytest.raises(ClientError) as err:
            world.sts(keys).get_caller_identity()
        assert error_code(err.value) == "ExpiredToken"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # long-term keys are not affected
    assert world.sts(user).get_caller_identity()["Arn"] == account.user_arn("ivy")
    # a temporary key without its session token, or with another one, is not valid
    world.shift(monkeypatch, 0)
    with pytest.raises(ClientError) as err:
        world.sts(Keys(session.access_key_id, session.secret_access_key)).get_caller_identity()
    assert error_code(err.value) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as err:
        world.sts(Keys(session.access_key_id, session.secret_access_key, fed.session_token)).get_caller_identity()
    assert error_code(err.value) == "InvalidClientTokenId"


def test_cross_account_assume_role_needs_both_sides(world: AwsWorld, account: Account) -> None:
    """Across accounts the role's trust policy and the caller's own identity policy must both allow."""
    owner = world.new_account()
    role = world.iam(owner.root).create_role(RoleName="shared", AssumeRolePolicyDocument=trust(
        account.user_arn("xuser")))["Role"]
    keys = world.api_user(account, "xuser")
    with pytest.raises(ClientError) as err:
        world.sts(keys).assume_role(RoleArn=role["Arn"], RoleSessionName="x1")
    assert error_code(err.value) == "AccessDenied"
    world.iam(account.root).put_user_policy(UserName="xuser", PolicyName="assume", PolicyDocument=allow(
        "sts:AssumeRole", role["Arn"]))
    out = world.sts(keys).assume_role(RoleArn=role["Arn"], RoleSessionName="x1")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{owner.account_id}:assumed-role/shared/x1"
    me = world.sts(Keys.of(out["Credentials"])).get_caller_identity()
    assert me["Account"] == owner.account_id
    # another user of the same account, with permission but not trusted
    other = world.api_user(account, "yuser")
    world.iam(account.root).put_user_policy(UserName="yuser", PolicyName="assume", PolicyDocument=allow(
        "sts:AssumeRole", "*"))
    with pytest.raises(ClientError) as err:
        world.sts(other).assume_role(RoleArn=role["Arn"], RoleSessionName="y1")
    assert error_code(err.value) == "AccessDenied"


def test_explicit_deny_of_assume_role_wins_over_a_trust_naming_the_user(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = world.api_user(account, "denied")
    role = iam.create_role(RoleName="named", AssumeRolePolicyDocument=trust(account.user_arn("denied")))["Role"]
    assert world.sts(keys).assume_role(RoleArn=role["Arn"], RoleSessionName="ok1")["Credentials"]
    iam.put_user_policy(UserName="denied", PolicyName="no-roles", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    with pytest.raises(ClientError) as err:
        world.sts(keys).assume_role(RoleArn=role["Arn"], RoleSessionName="ok2")
    assert error_code(err.value) == "AccessDenied"
    assert "explicit deny" in err.value.response["Error"]["Message"]


def test_federation_token_of_the_root_user_is_its_session_policy(world: AwsWorld, account: Account) -> None:
    out = world.sts(account.root).get_federation_token(Name="root-fed", Policy=allow("iam:ListUsers"))
    fed = world.iam(Keys.of(out["Credentials"]))
    assert fed.list_users()["Users"] == []
    with pytest.raises(ClientError) as err:
        fed.create_user(UserName="nope")
    assert error_code(err.value) == "AccessDenied"


def test_managed_session_policies(world: AwsWorld, account: Account) -> None:
    """PolicyArns (built-in or this account's policies) and Policy together: the union of their statements
    limits the session, intersected with the caller's own permissions."""
    iam = world.iam(account.root)
    keys = world.api_user(account, "msp", ADMIN)
    read_users = iam.create_policy(PolicyName="read-users", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "Same", "Effect": "Allow", "Action": "iam:ListUsers",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    read_groups = iam.create_policy(PolicyName="read-groups", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "Same", "Effect": "Allow", "Action": "iam:ListGroups",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    out = world.sts(keys).get_federation_token(Name="msp", PolicyArns=[{"arn": read_users}, {"arn": read_groups}],
                                               Policy=allow("iam:ListRoles"))
    fed = world.iam(Keys.of(out["Credentials"]))
    assert fed.list_users()["Users"] and fed.list_groups()["Groups"] == [] and fed.list_roles()["Roles"] == []
    with pytest.raises(ClientError) as err:
        fed.list_policies()
    assert error_code(err.value) == "AccessDenied"
    role = iam.create_role(RoleName="msp-role", AssumeRolePolicyDocument=trust(account.user_arn("msp")))["Role"]
    iam.attach_role_policy(RoleName="msp-role", PolicyArn=ADMIN)
    assumed = world.sts(keys).assume_role(RoleArn=role["Arn"], RoleSessionName="msp",
                                          PolicyArns=[{"arn": read_groups}, {"arn": IAM_READ}])
    session = world.iam(Keys.of(assumed["Credentials"]))
    assert session.get_role(RoleName="msp-role")["Role"]["RoleName"] == "msp-role"
    with pytest.raises(ClientError) as err:
        session.create_group(GroupName="nope")
    assert error_code(err.value) == "AccessDenied"
    other = world.new_account()
    foreign = world.iam(other.root).create_policy(PolicyName="theirs", PolicyDocument=allow("iam:*"))["Policy"]["Arn"]
    for arn in (foreign, f"arn:aws:iam::{account.account_id}:policy/missing"):
        with pytest.raises(ClientError) as err:
            world.sts(keys).get_federation_token(Name="msp2", PolicyArns=[{"arn": arn}])
        assert error_code(err.value) == "InvalidParameterValue"


def test_assume_role_session_policy_over_the_packed_size(world: AwsWorld, account: Account) -> None:
    """The model puts no length limit on AssumeRole's `Policy`; STS refuses what does not pack."""
    user = world.api_user(account, "packer")
    role = world.iam(account.root).create_role(RoleName="packed",
                                               AssumeRolePolicyDocument=trust(account.user_arn("packer")))["Role"]
    statements = [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": f"arn:aws:iam::*:user/u{i:04d}"}
                  for i in range(60)]
    big = json.dumps({"Version": "2012-10-17", "Statement": statements})
    assert len(big) > 2048
    with pytest.raises(ClientError) as err:
        world.sts(user).assume_role(RoleArn=role["Arn"], RoleSessionName="ss", Policy=big)
    assert error_code(err.value) == "PackedPolicyTooLarge"
    small = json.dumps({"Version": "2012-10-17", "Statement": statements[:3]})
    assert world.sts(user).assume_role(RoleArn=role["Arn"], RoleSessionName="ss", Policy=small)["PackedPolicySize"] > 0
