"""IAM access keys through boto3: create (secret once), list, deactivate (the key stops working),
reactivate, delete, last used, and the two-keys limit."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from vestibule.services.aws_identity import CACHE_SECONDS


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _eventually_fails(code: str, call: Any) -> None:
    """Keys are cached per server process for CACHE_SECONDS; a change shows within that time."""
    deadline = time.monotonic() + CACHE_SECONDS + 2
    while True:
        try:
            call()
        except ClientError as exc:
            assert error_code(exc) == code, exc.response["Error"]
            return
        assert time.monotonic() < deadline, f"still accepted after {CACHE_SECONDS} s"
        time.sleep(0.25)


def test_access_key_lifecycle(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="alice")
    before = datetime.now(UTC)
    first = iam.create_access_key(UserName="alice")["AccessKey"]
    assert first["UserName"] == "alice" and first["Status"] == "Active"
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40
    assert abs((first["CreateDate"] - before).total_seconds()) < 5
    second = iam.create_access_key(UserName="alice")["AccessKey"]
    err = _fails("LimitExceeded", iam.create_access_key, UserName="alice")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([first["AccessKeyId"], second["AccessKeyId"]])
    assert all(k["UserName"] == "alice" and k["Status"] == "Active" and "SecretAccessKey" not in k for k in listed)
    _fails("NoSuchEntity", iam.list_access_keys, UserName="ghost")

    keys = Keys.of(first)
    sts = world.sts(keys)
    assert sts.get_caller_identity()["Arn"] == account.user_arn("alice")
    never = iam.get_access_key_last_used(AccessKeyId=second["AccessKeyId"])
    assert never["UserName"] == "alice"
    assert never["AccessKeyLastUsed"]["ServiceName"] == "N/A" and "LastUsedDate" not in never["AccessKeyLastUsed"]
    used = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts" and used["Region"] == "us-east-1"
    assert abs((used["LastUsedDate"] - datetime.now(UTC)).total_seconds()) < 30
    _fails("NoSuchEntity", iam.get_access_key_last_used, AccessKeyId="AKIA" + "Q" * 16)

    iam.update_access_key(UserName="alice", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]}
    assert statuses[first["AccessKeyId"]] == "Inactive"
    _eventually_fails("InvalidClientTokenId", sts.get_caller_identity)
    # still inactive, still refused
    _fails("InvalidClientTokenId", sts.get_caller_identity)
    iam.update_access_key(UserName="alice", AccessKeyId=first["AccessKeyId"], Status="Active")
    deadline = time.monotonic() + CACHE_SECONDS + 2
    while True:
        try:
            assert sts.get_caller_identity()["Arn"] == account.user_arn("alice")
            break
        except ClientError:
            assert time.monotonic() < deadline
            time.sleep(0.25)
    _fails("ValidationError", world.iam(account.root, validate=False).update_access_key,
           UserName="alice", AccessKeyId=first["AccessKeyId"], Status="Paused")
    _fails("NoSuchEntity", iam.update_access_key, UserName="alice", AccessKeyId="AKIA" + "Q" * 16, Status="Inactive")

    iam.delete_access_key(UserName="alice", AccessKeyId=first["AccessKeyId"])
    _eventually_fails("InvalidClientTokenId", sts.get_caller_identity)
    _fails("NoSuchEntity", iam.delete_access_key, UserName="alice", AccessKeyId=first["AccessKeyId"])
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]] == [
        second["AccessKeyId"]]
    # a key of another user is not found under this one
    iam.create_user(UserName="bob")
    _fails("NoSuchEntity", iam.delete_access_key, UserName="bob", AccessKeyId=second["AccessKeyId"])


def test_user_manages_own_keys_without_user_name(world: AwsWorld, account: Account) -> None:
    """With no UserName, the key operations act on the calling user (here allowed by a policy)."""
    iam = world.iam(account.root)
    keys = world.api_user(account, "self-service")
    iam.put_user_policy(UserName="self-service", PolicyName="own-keys", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*"],'
        '"Resource":"arn:aws:iam::*:user/${aws:username}"}]}'))
    me = world.iam(keys)
    made = me.create_access_key()["AccessKey"]
    assert made["UserName"] == "self-service"
    assert len(me.list_access_keys()["AccessKeyMetadata"]) == 2
    me.delete_access_key(AccessKeyId=made["AccessKeyId"])
    assert [k["AccessKeyId"] for k in me.list_access_keys()["AccessKeyMetadata"]] == [keys.access_key_id]


def test_root_access_keys(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    listed = iam.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [account.root.access_key_id]
    assert "UserName" not in listed[0]
    extra = iam.create_access_key()["AccessKey"]
    assert "UserName" not in extra and extra["AccessKeyId"].startswith("AKIA")
    _fails("LimitExceeded", iam.create_access_key)
    assert world.sts(Keys.of(extra)).get_caller_identity()["Arn"] == account.root_arn
    last = iam.get_access_key_last_used(AccessKeyId=extra["AccessKeyId"])
    assert "UserName" not in last and last["AccessKeyLastUsed"]["ServiceName"] == "sts"
    iam.delete_access_key(AccessKeyId=extra["AccessKeyId"])
    # another account's key is not visible
    other = world.new_account()
    _fails("NoSuchEntity", world.iam(other.root).get_access_key_last_used, AccessKeyId=account.root.access_key_id)
