"""Service last accessed data through boto3: successful authorized calls of users and roles are remembered per
service and action; reports on a user, role, group and managed policy (SERVICE_LEVEL and ACTION_LEVEL), the
entities behind a service, the policies granting access, and the documented errors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from vestibule.services.context import Deps
from vestibule.services.iam import last_accessed

TRUST_ACCOUNT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]})
READ_USERS_AND_S3 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers", "s3:GetObject"], "Resource": "*"}]})
ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})


def _fails(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    assert error_code(err.value) == code, err.value.response["Error"]
    return err.value


def _report(iam: Any, arn: str, granularity: str = "SERVICE_LEVEL") -> dict[str, Any]:
    job_id = iam.generate_service_last_accessed_details(Arn=arn, Granularity=granularity)["JobId"]
    assert len(job_id) == 36
    report: dict[str, Any] = iam.get_service_last_accessed_details(JobId=job_id)
    assert report["JobStatus"] == "COMPLETED" and report["JobType"] == granularity
    report["JobId"] = job_id
    return report


def _services(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["ServiceNamespace"]: s for s in report["ServicesLastAccessed"]}


def test_a_users_calls_are_reported_per_service_and_action(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="dana")
    iam.put_user_policy(UserName="dana", PolicyName="read", PolicyDocument=READ_USERS_AND_S3)
    iam.create_group(GroupName="assumers")
    iam.put_group_policy(GroupName="assumers", PolicyName="assume", PolicyDocument=ASSUME)
    iam.add_user_to_group(GroupName="assumers", UserName="dana")
    dana = Keys.of(iam.create_access_key(UserName="dana")["AccessKey"])
    arn = account.user_arn("dana")

    before = _services(_report(iam, arn))
    assert set(before) == {"iam", "s3", "sts"}  # s3 is named in the policy; Vestibule does not serve it
    assert all("LastAuthenticated" not in s and s["TotalAuthenticatedEntities"] == 0 for s in before.values())
    assert before["iam"]["ServiceName"] == "AWS Identity and Access Management" and before["s3"]["ServiceName"] == "s3"

    started = time.time()
    world.iam(dana).get_user()
    world.iam(dana).list_users()
    with pytest.raises(ClientError):  # denied: not remembered
        world.iam(dana).list_roles()
    after = _services(_report(iam, arn))
    used = after["iam"]
    assert used["LastAuthenticatedEntity"] == arn and used["TotalAuthenticatedEntities"] == 1
    assert used["LastAuthenticated"].timestamp() >= started - 1 and used["LastAuthenticatedRegion"] == "us-east-1"
    assert "TrackedActionsLastAccessed" not in used  # a SERVICE_LEVEL report
    assert "LastAuthenticated" not in after["sts"] and "LastAuthenticated" not in after["s3"]

    actions = {a["ActionName"]: a for a in _services(_report(iam, arn, "ACTION_LEVEL"))["iam"][
        "TrackedActionsLastAccessed"]}
    assert set(actions) == {"GetUser", "ListUsers"}  # the served iam actions the policies allow
    assert actions["GetUser"]["LastAccessedEntity"] == arn and "LastAccessedTime" in actions["ListUsers"]

    granting = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["iam", "sts", "ec2"])
    by_ns = {e["ServiceNamespace"]: e["Policies"] for e in granting["PoliciesGrantingServiceAccess"]}
    assert by_ns["iam"] == [{"PolicyName": "read", "PolicyType": "INLINE", "EntityType": "USER", "EntityName": "dana"}]
    assert by_ns["sts"] == [{"PolicyName": "assume", "PolicyType": "INLINE", "EntityType": "GROUP",
                             "EntityName": "assumers"}]
    assert by_ns["ec2"] == [] and granting["IsTruncated"] is False


def test_role_sessions_count_for_the_role_and_groups_and_policies_for_their_members(
        world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=TRUST_ACCOUNT.replace("{account}", account.account_id))
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    caller = world.api_user(account, "caller")
    iam.put_user_policy(UserName="caller", PolicyName="assume", PolicyDocument=ASSUME)
    session = world.sts(caller).assume_role(RoleArn=f"arn:aws:iam::{account.account_id}:role/reader",
                                            RoleSessionName="s1")["Credentials"]
    world.iam(Keys.of(session)).list_roles()
    role_arn = f"arn:aws:iam::{account.account_id}:role/reader"
    role = _services(_report(iam, role_arn))
    assert set(role) == {"iam"} and role["iam"]["LastAuthenticatedEntity"] == role_arn
    caller_report = _services(_report(iam, account.user_arn("caller")))
    assert caller_report["sts"]["LastAuthenticatedEntity"] == account.user_arn("caller")  # its AssumeRole

    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    members = {name: world.api_user(account, name) for name in ("m1", "m2", "m3")}
    for name in members:
        iam.add_user_to_group(GroupName="readers", UserName=name)
    world.iam(members["m1"]).list_users()
    world.iam(members["m2"]).get_user()
    group_arn = f"arn:aws:iam::{account.account_id}:group/readers"
    group = _report(iam, group_arn)
    service = _services(group)["iam"]
    assert service["TotalAuthenticatedEntities"] == 2
    assert service["LastAuthenticatedEntity"] == account.user_arn("m2")
    entities = iam.get_service_last_accessed_details_with_entities(JobId=group["JobId"], ServiceNamespace="iam")
    assert entities["JobStatus"] == "COMPLETED"
    by_name = {e["EntityInfo"]["Name"]: e for e in entities["EntityDetailsList"]}
    assert set(by_name) == {"m1", "m2", "m3"} and by_name["m1"]["EntityInfo"]["Type"] == "USER"
    assert "LastAuthenticated" in by_name["m1"] and "LastAuthenticated" not in by_name["m3"]
    paged = iam.get_service_last_accessed_details_with_entities(JobId=group["JobId"], ServiceNamespace="iam",
                                                                MaxItems=2)
    assert paged["IsTruncated"] is True and len(paged["EntityDetailsList"]) == 2

    policy = _report(iam, "arn:aws:iam::aws:policy/IAMReadOnlyAccess")  # the role and the group's members
    assert _services(policy)["iam"]["TotalAuthenticatedEntities"] == 3
    entities = iam.get_service_last_accessed_details_with_entities(JobId=policy["JobId"], ServiceNamespace="iam")
    assert {(e["EntityInfo"]["Type"], e["EntityInfo"]["Name"]) for e in entities["EntityDetailsList"]} == {
        ("ROLE", "reader"), ("USER", "m1"), ("USER", "m2"), ("USER", "m3")}


def test_last_accessed_errors_and_permissions(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root, validate=False)
    _fails("InvalidInput", iam.generate_service_last_accessed_details, Arn="arn:aws:s3:::some-bucket-name")
    _fails("NoSuchEntity", iam.generate_service_last_accessed_details, Arn=account.user_arn("ghost"))
    _fails("NoSuchEntity", iam.generate_service_last_accessed_details,
           Arn=f"arn:aws:iam::{account.account_id}:policy/none")
    _fails("AccessDenied", iam.generate_service_last_accessed_details, Arn="arn:aws:iam::123456789012:user/x")
    _fails("ValidationError", iam.generate_service_last_accessed_details, Arn=account.root_arn, Granularity="ALL")
    _fails("NoSuchEntity", iam.get_service_last_accessed_details, JobId="00000000-0000-4000-8000-000000000000")
    _fails("ValidationError", iam.get_service_last_accessed_details, JobId="short")
    _fails("InvalidInput", iam.list_policies_granting_service_access,
           Arn="arn:aws:iam::aws:policy/ReadOnlyAccess", ServiceNamespaces=["iam"])
    _fails("ValidationError", iam.list_policies_granting_service_access, Arn=account.root_arn,
           ServiceNamespaces=["not a namespace"])
    other = world.new_account()
    job = world.iam(other.root).generate_service_last_accessed_details(
        Arn="arn:aws:iam::aws:policy/ReadOnlyAccess")["JobId"]
    _fails("NoSuchEntity", iam.get_service_last_accessed_details, JobId=job)  # another account's job

    iam.create_user(UserName="plain")
    nobody = world.api_user(account, "nobody")
    _fails("AccessDenied", world.iam(nobody).generate_service_last_accessed_details, Arn=account.user_arn("plain"))
    reader = world.api_user(account, "reader", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    job = world.iam(reader).generate_service_last_accessed_details(Arn=account.user_arn("plain"))["JobId"]
    assert world.iam(reader).get_service_last_accessed_details(JobId=job)["ServicesLastAccessed"] == []


def test_recording_writes_a_batch_once_a_minute_per_action(world: AwsWorld, account: Account) -> None:
    """The request path only queues; repeated calls within a minute write nothing more."""
    keys = world.api_user(account, "busy", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    client = world.iam(keys)
    for _ in range(3):
        client.get_user()

    async def rows(deps: Deps) -> list[tuple[str, str, float]]:
        await last_accessed.recorder(deps.store).settle()
        async with deps.store.unit() as uow:
            user = await uow.users.by_name(account.account_id, "busy")
            assert user is not None
            return [(r.service, r.action, r.last_at) for r in await uow.last_accessed.of([f"user:{user.id}"],
                                                                                         since=0)]

    first = world.run(rows)
    assert [(s, a) for s, a, _ in first] == [("iam", "GetUser")]
    client.get_user()
    assert world.run(rows) == first  # within the minute: not written again
