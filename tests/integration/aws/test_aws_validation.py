"""Validation errors as boto3 receives them: one ValidationError listing every invalid parameter, each with
its value (boto3's own parameter validation off, so the server is the one judging)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code

_CONSTRAINT = "failed to satisfy constraint: Member must"


def _refused(call: Any, **params: Any) -> ClientError:
    with pytest.raises(ClientError) as refused:
        call(**params)
    return refused.value


def test_every_invalid_parameter_is_listed_in_one_error(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root, validate=False)
    err = _refused(iam.attach_user_policy, UserName="x" * 65, PolicyArn="short")
    assert error_code(err) == "ValidationError" and err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["Error"]["Message"] == (
        f"2 validation errors detected: Value '{'x' * 64}...' at 'userName' {_CONSTRAINT} have length less than or "
        f"equal to 64; Value 'short' at 'policyArn' {_CONSTRAINT} have length greater than or equal to 20")


def test_a_missing_parameter_and_a_bad_page_size(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root, validate=False)
    err = _refused(iam.list_users, MaxItems=0, PathPrefix="no-slash")
    assert err.response["Error"]["Message"] == (
        f"2 validation errors detected: Value 'no-slash' at 'pathPrefix' {_CONSTRAINT} satisfy regular expression "
        rf"pattern: \u002F[\u0021-\u007F]*; Value '0' at 'maxItems' {_CONSTRAINT} have value greater than or "
        "equal to 1")
    err = _refused(iam.create_access_key, UserName="a;b")
    assert err.response["Error"]["Message"] == (
        rf"1 validation error detected: Value 'a;b' at 'userName' {_CONSTRAINT} satisfy regular expression "
        r"pattern: [\w+=,.@-]+")


def test_a_password_is_not_quoted_back(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root, validate=False)
    iam.create_user(UserName="quiet")
    err = _refused(iam.create_login_profile, UserName="quiet", Password="p" * 129)
    assert err.response["Error"]["Message"] == (
        f"1 validation error detected: Value at 'password' {_CONSTRAINT} have length less than or equal to 128")


def test_sts_lists_every_invalid_parameter(world: AwsWorld, account: Account) -> None:
    sts = world.sts(account.root, validate=False)
    err = _refused(sts.assume_role, RoleArn="arn", RoleSessionName="a b", DurationSeconds=10)
    assert err.response["Error"]["Message"] == (
        f"3 validation errors detected: Value 'arn' at 'roleArn' {_CONSTRAINT} have length greater than or equal "
        f"to 20; Value 'a b' at 'roleSessionName' {_CONSTRAINT} satisfy regular expression pattern: "
        rf"[\w+=,.@-]*; Value '10' at 'durationSeconds' {_CONSTRAINT} have value greater than or equal to 900")
