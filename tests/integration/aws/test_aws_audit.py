"""Every credential or permission change made through the IAM and STS APIs is an audit event, recorded once
by the operation's row (method `sigv4:access-key`, the caller's ARN, what changed), never with a secret in it; a call
that is refused records no change."""

from __future__ import annotations

import json

import pyotp
import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys
from vestibule.services.audit import as_dict
from vestibule.services.context import Deps

TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole"}]}'
DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}'


def _events(world: AwsWorld, account_id: str) -> list[dict[str, object]]:
    async def read(deps: Deps) -> list[dict[str, object]]:
        async with deps.store.unit() as uow:
            return [as_dict(e) for e in await uow.audit.for_account(account_id)]

    return world.run(read)


def test_api_changes_are_audit_events(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    root = f"arn:aws:iam::{account.account_id}:root"
    iam.create_user(UserName="ann", Tags=[{"Key": "team", "Value": "a"}])
    iam.tag_user(UserName="ann", Tags=[{"Key": "x", "Value": "y"}])
    iam.create_group(GroupName="ops")
    iam.add_user_to_group(GroupName="ops", UserName="ann")
    iam.put_group_policy(GroupName="ops", PolicyName="read", PolicyDocument=DOC)
    policy = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="ann", PolicyArn=policy)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST % f"arn:aws:iam::{account.account_id}:user/ann")
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=TRUST % account.account_id)
    key = iam.create_access_key(UserName="ann")["AccessKey"]
    iam.update_access_key(UserName="ann", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    iam.create_login_profile(UserName="ann", Password="a fine password 1")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="ann-phone")["VirtualMFADevice"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    now = world.clock()
    iam.enable_mfa_device(UserName="ann", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 60), AuthenticationCode2=totp.at(now - 30))
    iam.deactivate_mfa_device(UserName="ann", SerialNumber=device["SerialNumber"])
    iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
    iam.update_account_password_policy(MinimumPasswordLength=12)
    ann = Keys.of(iam.create_access_key(UserName="ann")["AccessKey"])
    world.sts(ann).get_session_token()

    events = _events(world, account.account_id)
    api = [(e["event"], e["principal"]) for e in events if e["method"] == "sigv4:access-key"]
    for wanted in ("CreateUser", "TagUser", "CreateGroup", "AddUserToGroup", "PutGroupPolicy", "CreatePolicy",
                   "AttachUserPolicy", "CreateRole", "UpdateAssumeRolePolicy", "CreateAccessKey",
                   "UpdateAccessKey", "PasswordSetByAdministrator", "CreateVirtualMFADevice", "EnableMFADevice",
                   "DeactivateMFADevice", "DeleteVirtualMFADevice", "PasswordPolicyChanged"):
        assert [p for e, p in api if e == wanted] in ([root], [root, root]), (wanted, api)
    assert api.count(("CreateUser", root)) == 1, "recorded once, not also by the shared user service"
    assert ("GetSessionToken", f"arn:aws:iam::{account.account_id}:user/ann") in api
    detail = {e["event"]: e["detail"] for e in events}
    assert detail["UpdateAccessKey"] == {"access_key_id": key["AccessKeyId"], "status": "Inactive"}
    text = json.dumps(events)
    for secret in (key["SecretAccessKey"], ann.secret_access_key, "a fine password 1", device["Base32StringSeed"]
                   .decode()):
        assert secret not in text


def test_a_refused_change_records_nothing(world: AwsWorld, account: Account) -> None:
    plain = world.api_user(account, "plain")
    before = len(_events(world, account.account_id))
    with pytest.raises(ClientError):
        world.iam(plain).create_group(GroupName="nope")
    events = _events(world, account.account_id)
    assert len(events) == before and not any(e["event"] == "CreateGroup" for e in events)
