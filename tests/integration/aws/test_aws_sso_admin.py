"""SSO Admin (JSON 1.1, `SWBExternalService.*`) through boto3 against the live server: Identity Center
instances, their documented errors, and the rule that an instance of another account looks like none."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code

MISSING_INSTANCE = "arn:aws:sso:::instance/ssoins-0000000000000000"


def fails(code: str, call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    error: dict[str, Any] = err.value.response["Error"]
    return error


def test_create_describe_list_update_delete_an_instance(world: AwsWorld, account: Account) -> None:
    sso = world.client("sso-admin", account.root)
    assert sso.list_instances()["Instances"] == []
    arn = sso.create_instance(Name="main", ClientToken="token-1", Tags=[{"Key": "team", "Value": "a"}])["InstanceArn"]
    assert arn.startswith("arn:aws:sso:::instance/ssoins-") and len(arn.rsplit("-", 1)[1]) == 16
    assert sso.create_instance(Name="main", ClientToken="token-1")["InstanceArn"] == arn  # idempotent
    fails("ConflictException", sso.create_instance, Name="second")  # one instance per account
    described = sso.describe_instance(InstanceArn=arn)
    store = described["IdentityStoreId"]
    assert store.startswith("d-") and len(store) == 12
    assert (described["Name"], described["OwnerAccountId"], described["Status"]) == (
        "main", account.account_id, "ACTIVE")
    assert described["IdentityStoreArn"] == f"arn:aws:identitystore::{account.account_id}:identitystore/{store}"
    listed = sso.list_instances()["Instances"]
    assert [(i["InstanceArn"], i["IdentityStoreId"], i["OwnerAccountId"]) for i in listed] == [
        (arn, store, account.account_id)]
    sso.update_instance(InstanceArn=arn, Name="renamed")
    assert sso.describe_instance(InstanceArn=arn)["Name"] == "renamed"
    sso.delete_instance(InstanceArn=arn)
    assert sso.list_instances()["Instances"] == []
    fails("AccessDeniedException", sso.describe_instance, InstanceArn=arn)
    assert sso.create_instance(Name="again")["InstanceArn"] != arn


def test_an_instance_of_another_account_looks_like_none(world: AwsWorld, account: Account) -> None:
    other = world.new_account()
    arn = world.client("sso-admin", other.root).create_instance(Name="theirs")["InstanceArn"]
    sso = world.client("sso-admin", account.root)
    for given in (arn, MISSING_INSTANCE):
        denied = fails("AccessDeniedException", sso.describe_instance, InstanceArn=given)
        assert "theirs" not in denied["Message"]
        fails("ResourceNotFoundException", sso.update_instance, InstanceArn=given, Name="mine")
        fails("AccessDeniedException", sso.delete_instance, InstanceArn=given)
    assert sso.list_instances()["Instances"] == []
    assert world.client("sso-admin", other.root).describe_instance(InstanceArn=arn)["Name"] == "theirs"


def test_instance_calls_need_the_sso_actions(world: AwsWorld, account: Account) -> None:
    arn = world.client("sso-admin", account.root).create_instance()["InstanceArn"]
    reader = world.client("sso-admin", world.api_user(account, "reader", "arn:aws:iam::aws:policy/ReadOnlyAccess"))
    assert reader.describe_instance(InstanceArn=arn)["InstanceArn"] == arn
    fails("AccessDeniedException", reader.update_instance, InstanceArn=arn, Name="x")
    fails("AccessDeniedException", reader.delete_instance, InstanceArn=arn)


def test_instance_input_is_validated(world: AwsWorld, account: Account) -> None:
    sso = world.client("sso-admin", account.root, validate=False)
    fails("ValidationException", sso.describe_instance, InstanceArn="arn:aws:sso:::instance/nope")
    fails("ValidationException", sso.create_instance, Name="bad name!")
