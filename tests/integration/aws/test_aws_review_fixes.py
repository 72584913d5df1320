"""Regression tests for the review of issue 9 (notes/redteam.md), through boto3 against a live server:
scope-down policies of GetSessionToken sessions (the root's too) are enforced (F1); an explicit Deny on a user,
group, role, instance profile or server certificate holds whatever case (or path) the call names it with (F2);
tag keys are case-insensitive for every entity kind (F3); a stored trust policy that no longer parses refuses
AssumeRole instead of failing (500); a service-linked role cannot go into an instance profile (F5)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pyotp
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from vestibule.services.context import Deps


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def _trust(principal: str) -> str:
    return _policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"})


def _code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return error_code(err.value)


def _user(world: AwsWorld, account: Account, name: str, *statements: dict[str, Any],
          tags: list[dict[str, str]] | None = None) -> Keys:
    iam = world.iam(account.root)
    iam.create_user(UserName=name, **({"Tags": tags} if tags else {}))
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(*statements))
    return Keys.of(iam.create_access_key(UserName=name)["AccessKey"])


def _scoped(world: AwsWorld, keys: Keys, *statements: dict[str, Any]) -> Keys:
    out = world.sts(keys).get_scoped_credentials(Policy=_policy(*statements))
    return Keys.of(out["Credentials"])


# ---- F1: scope-down policies of GetSessionToken sessions -----------------------------------------------------

def test_scope_down_of_an_mfa_session_token_is_enforced(world: AwsWorld, account: Account) -> None:
    user = _user(world, account, "u2", _allow(["iam:*", "sts:*"]))
    serial, totp = world.enable_virtual_mfa(world.iam(account.root), "u2-phone", user_name="u2")
    session = Keys.of(world.sts(user).get_session_token(
        DurationSeconds=900, SerialNumber=serial, TokenCode=totp.at(world.clock()))["Credentials"])
    assert world.iam(session).list_users()["Users"]
    scoped = _scoped(world, session, _allow("iam:GetUser"))
    assert world.iam(scoped).get_user(UserName="u2")["User"]["UserName"] == "u2"
    assert _code(world.iam(scoped).create_user, UserName="made-by-scoped") == "AccessDenied"
    assert _code(world.iam(scoped).list_users) == "AccessDenied"
    assert _code(world.iam(account.root).get_user, UserName="made-by-scoped") == "NoSuchEntity"
    world.iam(session).create_user(UserName="made-by-the-session")  # the calling session keeps its permissions


def test_scope_down_of_a_session_token_without_mfa_is_enforced(world: AwsWorld, account: Account) -> None:
    user = _user(world, account, "u1", _allow(["iam:*", "sts:*"]))
    world.iam(account.root).create_role(RoleName="next", AssumeRolePolicyDocument=_trust(account.user_arn("u1")))
    role_arn = f"arn:aws:iam::{account.account_id}:role/next"
    session = Keys.of(world.sts(user).get_session_token(DurationSeconds=900)["Credentials"])
    scoped = _scoped(world, session, _deny("*"))
    assert _code(world.sts(scoped).get_scoped_credentials, Policy=_policy(_allow("*")),
                 DurationSeconds=300) == "AccessDenied"
    assert _code(world.sts(scoped).assume_role, RoleArn=role_arn, RoleSessionName="ss") == "AccessDenied"
    narrow = _scoped(world, session, _allow("sts:GetScopedCredentials"))
    assert _code(world.sts(narrow).assume_role, RoleArn=role_arn, RoleSessionName="ss") == "AccessDenied"
    # the session itself may still do both
    assert world.sts(session).assume_role(RoleArn=role_arn, RoleSessionName="ss")["AssumedRoleUser"]
    _scoped(world, session, _allow("*"))


def test_scope_down_of_the_roots_session_token_is_enforced(world: AwsWorld, account: Account) -> None:
    session = Keys.of(world.sts(account.root).get_session_token(DurationSeconds=900)["Credentials"])
    allowed = _scoped(world, session, _allow("sts:*"))
    _scoped(world, allowed, _allow("sts:GetScopedCredentials"))
    denied = _scoped(world, session, _deny("*"))
    assert _code(world.sts(denied).get_scoped_credentials, Policy=_policy(_allow("*")),
                 DurationSeconds=300) == "AccessDenied"
    # two layers: each must allow
    layered = _scoped(world, allowed, _allow("iam:*"))
    assert _code(world.sts(layered).get_scoped_credentials, Policy=_policy(_allow("*")),
                 DurationSeconds=300) == "AccessDenied"


def test_scope_down_of_the_roots_mfa_session_limits_iam(world: AwsWorld, account: Account) -> None:
    device = world.iam(account.root).create_virtual_mfa_device(VirtualMFADeviceName="root-phone")["VirtualMFADevice"]
    serial, totp = device["SerialNumber"], pyotp.TOTP(device["Base32StringSeed"].decode())

    async def assign(deps: Deps) -> None:  # as the console's enrolment does (EnableMFADevice names IAM users)
        async with deps.store.unit() as uow:
            found = await uow.mfa.by_serial(serial)
            assert found is not None
            found.principal_key, found.enabled_at = f"root:{account.account_id}", deps.clock()

    world.run(assign)
    session = Keys.of(world.sts(account.root).get_session_token(
        DurationSeconds=900, SerialNumber=serial, TokenCode=totp.at(world.clock()))["Credentials"])
    world.iam(account.root).create_user(UserName="someone")
    assert world.iam(session).list_users()["Users"]
    scoped = _scoped(world, session, _allow("iam:GetUser"))
    assert world.iam(scoped).get_user(UserName="someone")["User"]["UserName"] == "someone"
    assert _code(world.iam(scoped).list_users) == "AccessDenied"
    assert _code(world.iam(scoped).create_user, UserName="made-by-scoped-root") == "AccessDenied"


# ---- F2: a Deny on an entity's ARN holds whatever case the call names it with ------------------------------------

def _self_signed(name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    body = cert.public_bytes(serialization.Encoding.PEM).decode()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return body, private


def test_deny_on_an_entity_holds_for_another_case_of_its_name(world: AwsWorld, account: Account) -> None:
    acct = account.account_id
    root = world.iam(account.root)
    root.create_user(UserName="Admin")
    root.put_user_policy(UserName="Admin", PolicyName="secret-inline", PolicyDocument=_policy(_allow("s3:*")))
    root.create_user(UserName="Bob")
    root.create_group(GroupName="Ops")
    root.create_role(RoleName="Prod", AssumeRolePolicyDocument=_trust(account.root_arn))
    root.create_role(RoleName="Spare", AssumeRolePolicyDocument=_trust(account.root_arn))
    root.create_instance_profile(InstanceProfileName="Web")
    root.create_instance_profile(InstanceProfileName="Other")
    body, private = _self_signed("Edge")
    root.upload_server_certificate(ServerCertificateName="Edge", CertificateBody=body, PrivateKey=private)
    protected = [f"arn:aws:iam::{acct}:user/Admin", f"arn:aws:iam::{acct}:group/Ops",
                 f"arn:aws:iam::{acct}:role/Prod", f"arn:aws:iam::{acct}:instance-profile/Web",
                 f"arn:aws:iam::{acct}:server-certificate/Edge"]
    helpdesk = world.iam(_user(world, account, "helpdesk", _allow("iam:*"), _deny("iam:*", protected)))

    assert _code(helpdesk.get_user, UserName="Admin") == "AccessDenied"
    assert _code(helpdesk.create_access_key, UserName="admin") == "AccessDenied"
    assert _code(helpdesk.get_user_policy, UserName="ADMIN", PolicyName="secret-inline") == "AccessDenied"
    assert _code(helpdesk.get_group, GroupName="ops") == "AccessDenied"
    assert _code(helpdesk.update_assume_role_policy, RoleName="prod",
                 PolicyDocument=_trust(f"arn:aws:iam::{acct}:user/helpdesk")) == "AccessDenied"
    assert _code(helpdesk.get_instance_profile, InstanceProfileName="web") == "AccessDenied"
    # iam:PassRole on role/Prod is denied too, whatever the case of RoleName
    assert _code(helpdesk.add_role_to_instance_profile, InstanceProfileName="Other", RoleName="pROD") == \
        "AccessDenied"
    assert _code(helpdesk.get_server_certificate, ServerCertificateName="edge") == "AccessDenied"
    assert _code(helpdesk.simulate_principal_policy, PolicySourceArn=f"arn:aws:iam::{acct}:user/admin",
                 ActionNames=["s3:GetObject"]) == "AccessDenied"
    assert _code(helpdesk.get_context_keys_for_principal_policy,
                 PolicySourceArn=f"arn:aws:iam::{acct}:role/PROD") == "AccessDenied"
    assert _code(helpdesk.generate_service_last_accessed_details, Arn=f"arn:aws:iam::{acct}:user/admin") == \
        "AccessDenied"
    assert _code(helpdesk.generate_service_last_accessed_details, Arn=f"arn:aws:iam::{acct}:group/OPS") == \
        "AccessDenied"
    assert root.get_user(UserName="Admin")["User"]["UserName"] == "Admin"
    assert root.list_access_keys(UserName="Admin")["AccessKeyMetadata"] == []

    # what is not denied still works, in any case, on the stored entity
    assert helpdesk.get_user(UserName="bob")["User"]["UserName"] == "Bob"
    helpdesk.add_role_to_instance_profile(InstanceProfileName="other", RoleName="spare")
    assert [r["RoleName"] for r in root.get_instance_profile(InstanceProfileName="Other")["InstanceProfile"]["Roles"]] \
        == ["Spare"]
    found = helpdesk.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{acct}:user/bob",
                                              ActionNames=["iam:GetUser"])
    assert found["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    # a name that does not exist is authorized as given: the denied caller learns nothing
    assert _code(helpdesk.get_user, UserName="nobody") == "NoSuchEntity"


def test_assume_role_needs_the_roles_own_arn(world: AwsWorld, account: Account) -> None:
    acct = account.account_id
    root = world.iam(account.root)
    root.create_role(RoleName="Prod", AssumeRolePolicyDocument=_trust(account.root_arn))
    root.create_role(RoleName="Ops", Path="/team/", AssumeRolePolicyDocument=_trust(account.root_arn))
    caller = world.sts(_user(world, account, "a", _allow("sts:AssumeRole"),
                             _deny("sts:AssumeRole", f"arn:aws:iam::{acct}:role/Prod")))
    for arn in (f"arn:aws:iam::{acct}:role/Prod", f"arn:aws:iam::{acct}:role/prod",
                f"arn:aws:iam::{acct}:role/zz/Prod", f"arn:aws:iam::{acct}:role/zz/prod"):
        assert _code(caller.assume_role, RoleArn=arn, RoleSessionName="ss") == "AccessDenied", arn
    out = caller.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/team/Ops", RoleSessionName="ss")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{acct}:assumed-role/Ops/ss"
    # the role's ARN is case sensitive and carries its path
    for arn in (f"arn:aws:iam::{acct}:role/team/ops", f"arn:aws:iam::{acct}:role/Ops",
                f"arn:aws:iam::{acct}:role/other/Ops"):
        assert _code(caller.assume_role, RoleArn=arn, RoleSessionName="ss") == "AccessDenied", arn


# ---- F3: tag keys are case-insensitive --------------------------------------------------------------------------

def test_a_tag_key_in_another_case_replaces_the_tag(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    victim = _user(world, account, "victim",
                   _allow("iam:GetUser", Condition={"StringEquals": {"aws:PrincipalTag/Team": "red"}}),
                   tags=[{"Key": "team", "Value": "blue"}])
    assert _code(world.iam(victim).get_user) == "AccessDenied"
    root.tag_user(UserName="victim", Tags=[{"Key": "Team", "Value": "red"}])
    assert root.list_user_tags(UserName="victim")["Tags"] == [{"Key": "Team", "Value": "red"}]
    assert world.iam(victim).get_user()["User"]["UserName"] == "victim"
    root.tag_user(UserName="victim", Tags=[{"Key": "TEAM", "Value": "blue"}])
    assert root.list_user_tags(UserName="victim")["Tags"] == [{"Key": "TEAM", "Value": "blue"}]
    assert _code(world.iam(victim).get_user) == "AccessDenied"
    root.untag_user(UserName="victim", TagKeys=["team"])
    assert root.list_user_tags(UserName="victim")["Tags"] == []


def test_tag_keys_are_case_insensitive_for_every_kind(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    root.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(account.root_arn),
                     Tags=[{"Key": "Team", "Value": "blue"}])
    root.tag_role(RoleName="r", Tags=[{"Key": "team", "Value": "red"}])
    assert root.list_role_tags(RoleName="r")["Tags"] == [{"Key": "team", "Value": "red"}]
    root.create_instance_profile(InstanceProfileName="p", Tags=[{"Key": "Team", "Value": "blue"}])
    root.tag_instance_profile(InstanceProfileName="p", Tags=[{"Key": "team", "Value": "red"}])
    assert root.list_instance_profile_tags(InstanceProfileName="p")["Tags"] == [{"Key": "team", "Value": "red"}]
    arn = root.create_policy(PolicyName="pol", PolicyDocument=_policy(_allow("s3:ListBucket")),
                             Tags=[{"Key": "Team", "Value": "blue"}])["Policy"]["Arn"]
    root.tag_policy(PolicyArn=arn, Tags=[{"Key": "team", "Value": "red"}])
    assert root.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "team", "Value": "red"}]
    root.untag_policy(PolicyArn=arn, TagKeys=["TEAM"])
    assert root.list_policy_tags(PolicyArn=arn)["Tags"] == []


def test_the_tag_quota_counts_keys_without_case(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    root.create_user(UserName="full", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    root.tag_user(UserName="full", Tags=[{"Key": f"K{i}", "Value": "w"} for i in range(50)])
    tags = root.list_user_tags(UserName="full")["Tags"]
    assert len(tags) == 50 and {t["Key"] for t in tags} == {f"K{i}" for i in range(50)}
    assert _code(root.tag_user, UserName="full", Tags=[{"Key": "one-more", "Value": "v"}]) == "LimitExceeded"


def test_resource_tag_condition_sees_one_value(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    root.create_user(UserName="target", Tags=[{"Key": "stage", "Value": "prod"}])
    reader = world.iam(_user(world, account, "reader", _allow(
        "iam:GetUser", f"arn:aws:iam::{account.account_id}:user/target",
        Condition={"StringEquals": {"aws:ResourceTag/Stage": "dev"}})))
    assert _code(reader.get_user, UserName="target") == "AccessDenied"
    root.tag_user(UserName="target", Tags=[{"Key": "Stage", "Value": "dev"}])
    assert reader.get_user(UserName="target")["User"]["UserName"] == "target"


# ---- a stored trust policy that no longer parses -----------------------------------------------------------------

def test_assume_role_with_an_unparsable_stored_trust_policy_is_denied(
        world: AwsWorld, account: Account, caplog: pytest.LogCaptureFixture) -> None:
    acct = account.account_id
    root = world.iam(account.root)
    root.create_role(RoleName="legacy", AssumeRolePolicyDocument=_trust(account.root_arn))
    stored = _policy({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                      "Action": "sts:AssumeRole"})

    async def store_legacy(deps: Deps) -> None:  # as a release with a laxer parser stored it
        async with deps.store.unit() as uow:
            role = await uow.roles.by_name(acct, "legacy")
            assert role is not None
            role.trust_policy = stored

    world.run(store_legacy)
    caller = world.sts(_user(world, account, "a", _allow("sts:AssumeRole")))
    with caplog.at_level(logging.WARNING, logger="vestibule.sts"):
        assert _code(caller.assume_role, RoleArn=f"arn:aws:iam::{acct}:role/legacy",
                     RoleSessionName="ss") == "AccessDenied"
    assert any("trust policy does not parse" in r.getMessage() for r in caplog.records)


# ---- F5: service-linked roles stay out of instance profiles --------------------------------------------------

def test_a_service_linked_role_cannot_join_an_instance_profile(world: AwsWorld, account: Account) -> None:
    root = world.iam(account.root)
    root.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")
    root.create_instance_profile(InstanceProfileName="eb")
    with pytest.raises(ClientError) as err:
        root.add_role_to_instance_profile(InstanceProfileName="eb", RoleName="AWSServiceRoleForElasticBeanstalk")
    assert error_code(err.value) == "UnmodifiableEntity"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert root.get_instance_profile(InstanceProfileName="eb")["InstanceProfile"]["Roles"] == []
