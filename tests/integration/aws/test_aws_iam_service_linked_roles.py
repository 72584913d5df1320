"""IAM service-linked roles through boto3 against a live server: CreateServiceLinkedRole (names, paths, trust
policy, CustomSuffix, refusals), DeleteServiceLinkedRole and its deletion task's status, authorization."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.services.context import Deps

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _error(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value


def _trust_of(role: dict[str, Any]) -> Any:
    document = role["AssumeRolePolicyDocument"]
    return document if isinstance(document, dict) else json.loads(unquote(document))


def test_create_service_linked_role(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    role = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com",
                                          Description="Beanstalk's own")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForElasticBeanstalk"
    assert role["Path"] == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
    assert role["Arn"] == (f"arn:aws:iam::{account.account_id}:role/aws-service-role/elasticbeanstalk.amazonaws.com/"
                           "AWSServiceRoleForElasticBeanstalk")
    assert role["RoleId"].startswith("AROA") and role["Description"] == "Beanstalk's own"
    assert _trust_of(role) == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": ["elasticbeanstalk.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}
    got = iam.get_role(RoleName="AWSServiceRoleForElasticBeanstalk")["Role"]
    assert got["Arn"] == role["Arn"] and "Description" in got
    listed = iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]
    assert [r["RoleName"] for r in listed] == ["AWSServiceRoleForElasticBeanstalk"]
    # a service AWS names its own way, and the documented rule for any other <name>.amazonaws.com
    assert iam.create_service_linked_role(AWSServiceName="es.amazonaws.com")["Role"]["RoleName"] == (
        "AWSServiceRoleForAmazonElasticsearchService")
    made = iam.create_service_linked_role(AWSServiceName="my-tool.example.amazonaws.com")["Role"]
    assert made["RoleName"] == "AWSServiceRoleForMyToolExample" and "Description" not in made
    # CustomSuffix: one more role of the same service
    suffixed = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="batch-1")
    assert suffixed["Role"]["RoleName"] == "AWSServiceRoleForAutoScaling_batch-1"
    assert suffixed["Role"]["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"


def test_create_service_linked_role_refusals(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    err = _error(iam.create_service_linked_role, AWSServiceName="ecs.amazonaws.com")
    assert error_code(err) == "InvalidInput"
    assert err.response["Error"]["Message"] == ("Service role name AWSServiceRoleForECS has been taken in this "
                                                "account, please try a different suffix.")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = _error(iam.create_service_linked_role, AWSServiceName="ecs.amazonaws.com", CustomSuffix="two")
    assert error_code(err) == "InvalidInput"
    assert err.response["Error"]["Message"] == "Custom suffix is not allowed for ecs.amazonaws.com"
    for service in ("example.com", "amazonaws.com", "Upper.amazonaws.com", "a..b.amazonaws.com"):
        err = _error(iam.create_service_linked_role, AWSServiceName=service)
        assert error_code(err) == "InvalidInput", service
        assert "Invalid service name" in err.response["Error"]["Message"]
    err = _error(iam.create_service_linked_role, AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="x" * 40)
    assert error_code(err) == "InvalidInput" and "64" in err.response["Error"]["Message"]
    unchecked = world.iam(account.root, validate=False)
    err = _error(unchecked.create_service_linked_role, AWSServiceName="bad name.amazonaws.com")
    assert error_code(err) == "ValidationError"
    err = _error(unchecked.create_service_linked_role, AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="")
    assert error_code(err) == "ValidationError"


def test_service_linked_roles_need_permission(world: AwsWorld, account: Account) -> None:
    keys = world.api_user(account, "dev")
    iam = world.iam(keys)
    err = _error(iam.create_service_linked_role, AWSServiceName="elasticbeanstalk.amazonaws.com")
    assert error_code(err) == "AccessDenied"
    assert ("iam:CreateServiceLinkedRole on resource: arn:aws:iam::" f"{account.account_id}:role/aws-service-role/"
            "elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk") in err.response["Error"]["Message"]
    # iam:AWSServiceName limits which services a principal may link
    world.iam(account.root).put_user_policy(UserName="dev", PolicyName="slr", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": "autoscaling.amazonaws.com"}}}]}))
    assert iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]["RoleName"] == (
        "AWSServiceRoleForAutoScaling")
    err = _error(iam.create_service_linked_role, AWSServiceName="elasticbeanstalk.amazonaws.com")
    assert error_code(err) == "AccessDenied"
    err = _error(iam.delete_service_linked_role, RoleName="AWSServiceRoleForAutoScaling")
    assert error_code(err) == "AccessDenied"


def test_delete_service_linked_role_and_its_status(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")
    iam.tag_role(RoleName="AWSServiceRoleForElasticBeanstalk", Tags=[{"Key": "team", "Value": "web"}])
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForElasticBeanstalk")["DeletionTaskId"]
    prefix = "task/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk/"
    assert task.startswith(prefix) and len(task) == len(prefix) + 36
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task)
    assert status["Status"] == "SUCCEEDED" and "Reason" not in status
    err = _error(iam.get_role, RoleName="AWSServiceRoleForElasticBeanstalk")
    assert error_code(err) == "NoSuchEntity"
    err = _error(iam.delete_service_linked_role, RoleName="AWSServiceRoleForElasticBeanstalk")
    assert error_code(err) == "NoSuchEntity"
    # created again, it starts without the old tags
    iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")
    assert iam.list_role_tags(RoleName="AWSServiceRoleForElasticBeanstalk")["Tags"] == []
    # unknown and malformed task IDs; another account's task
    unknown = prefix + "00000000-0000-0000-0000-000000000000"
    err = _error(iam.get_service_linked_role_deletion_status, DeletionTaskId=unknown)
    assert error_code(err) == "NoSuchEntity"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    err = _error(iam.get_service_linked_role_deletion_status, DeletionTaskId="task/whatever")
    assert error_code(err) == "InvalidInput"
    other = world.new_account()
    err = _error(world.iam(other.root).get_service_linked_role_deletion_status, DeletionTaskId=task)
    assert error_code(err) == "NoSuchEntity"


def test_deletion_fails_while_an_instance_profile_holds_the_role(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    iam.create_instance_profile(InstanceProfileName="fleet")
    with pytest.raises(ClientError) as err:  # as AWS: only the role's service may put it in a profile
        iam.add_role_to_instance_profile(InstanceProfileName="fleet", RoleName="AWSServiceRoleForAutoScaling")
    assert error_code(err.value) == "UnmodifiableEntity"

    async def hold(deps: Deps) -> None:  # as the service would, or a release that did not refuse it
        async with deps.store.unit() as uow:
            profile = await uow.instance_profiles.by_name(account.account_id, "fleet")
            role = await uow.roles.by_name(account.account_id, "AWSServiceRoleForAutoScaling")
            assert profile is not None and role is not None
            assert await uow.instance_profiles.put_role(profile, role.id)

    world.run(hold)
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")["DeletionTaskId"]
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task)
    assert status["Status"] == "FAILED"
    assert "instance profile" in status["Reason"]["Reason"]
    [usage] = status["Reason"]["RoleUsageList"]
    assert usage["Region"] == "us-east-1"
    assert usage["Resources"] == [f"arn:aws:iam::{account.account_id}:instance-profile/fleet"]
    assert iam.get_role(RoleName="AWSServiceRoleForAutoScaling")["Role"]["RoleName"] == "AWSServiceRoleForAutoScaling"
    iam.remove_role_from_instance_profile(InstanceProfileName="fleet", RoleName="AWSServiceRoleForAutoScaling")
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"


def test_delete_service_linked_role_refuses_an_ordinary_role(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_role(RoleName="plain", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    err = _error(iam.delete_service_linked_role, RoleName="plain")
    assert error_code(err) == "InvalidInput" and "not a service-linked role" in err.response["Error"]["Message"]
    assert iam.get_role(RoleName="plain")["Role"]["RoleName"] == "plain"


def test_service_linked_roles_are_unmodifiable(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    name = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")["Role"]["RoleName"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account.root_arn}, "Action": "sts:AssumeRole"}]})
    refused = [
        (iam.delete_role, {"RoleName": name}),
        (iam.update_assume_role_policy, {"RoleName": name, "PolicyDocument": trust}),
        (iam.put_role_policy, {"RoleName": name, "PolicyName": "mine", "PolicyDocument": policy}),
        (iam.delete_role_policy, {"RoleName": name, "PolicyName": "mine"}),
        (iam.attach_role_policy, {"RoleName": name, "PolicyArn": ADMIN}),
        (iam.detach_role_policy, {"RoleName": name, "PolicyArn": ADMIN}),
        (iam.update_role, {"RoleName": name, "MaxSessionDuration": 7200}),
        (iam.put_role_permissions_boundary, {"RoleName": name, "PermissionsBoundary": ADMIN}),
        (iam.delete_role_permissions_boundary, {"RoleName": name}),
    ]
    for call, kwargs in refused:
        err = _error(call, **kwargs)
        assert error_code(err) == "UnmodifiableEntity", (call, err.response["Error"])
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err.response["Error"]["Message"] == (f"Cannot perform the operation on the protected role '{name}' - "
                                                    "this role is only modifiable by AWS")
    # reading it, tagging it and editing its description are allowed, as in AWS
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    iam.update_role_description(RoleName=name, Description="edited")
    iam.update_role(RoleName=name, Description="edited again")
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "edited again"
    iam.tag_role(RoleName=name, Tags=[{"Key": "k", "Value": "v"}])
    # an ordinary role cannot be put under the service-linked roles' path
    err = _error(iam.create_role, RoleName="sneaky", Path="/aws-service-role/elasticbeanstalk.amazonaws.com/",
                 AssumeRolePolicyDocument=trust)
    assert error_code(err) == "InvalidInput" and "reserved" in err.response["Error"]["Message"]
    # permission is checked first: a user without any learns nothing about the role
    keys = world.api_user(account, "nobody")
    err = _error(world.iam(keys).delete_role, RoleName=name)
    assert error_code(err) == "AccessDenied"
