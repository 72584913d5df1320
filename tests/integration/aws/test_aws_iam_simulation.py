"""The IAM policy simulator through boto3 (and the aws CLI once): SimulatePrincipalPolicy, SimulateCustomPolicy,
GetContextKeysForCustomPolicy and GetContextKeysForPrincipalPolicy, decided by the evaluator that decides real
calls; the last test compares simulated and real decisions on generated policies."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, Keys, error_code
from integration.aws.test_aws_cli import Cli

ALLOW_S3 = {"Sid": "ReadWrite", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::reports/*"}
DENY_SECRET = {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::reports/secret/*"}


def policy(*statements: dict[str, Any], indent: int | None = 2) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=indent)


def statement_text(document: str, matched: dict[str, Any]) -> Any:
    """The statement a MatchedStatements entry points at, cut out of the policy text by its positions."""
    lines = document.split("\n")
    start, end = matched["StartPosition"], matched["EndPosition"]
    if start["Line"] == end["Line"]:
        text = lines[start["Line"] - 1][start["Column"] - 1:end["Column"] - 1]
    else:
        text = "\n".join([lines[start["Line"] - 1][start["Column"] - 1:], *lines[start["Line"]:end["Line"] - 1],
                          lines[end["Line"] - 1][:end["Column"] - 1]])
    return json.loads(text)


def decisions(answer: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in answer["EvaluationResults"]]


def test_custom_policy_decisions_and_the_statements_that_decided(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    document = policy(ALLOW_S3, DENY_SECRET)
    answer = iam.simulate_custom_policy(
        PolicyInputList=[document], ActionNames=["s3:GetObject", "s3:DeleteObject"],
        ResourceArns=["arn:aws:s3:::reports/2024/a.csv", "arn:aws:s3:::reports/secret/b"])
    assert decisions(answer) == [
        ("s3:GetObject", "arn:aws:s3:::reports/2024/a.csv", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::reports/secret/b", "explicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::reports/2024/a.csv", "implicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::reports/secret/b", "explicitDeny"),
    ]
    assert answer["IsTruncated"] is False
    allowed, denied, implicit, _ = answer["EvaluationResults"]
    (matched,) = allowed["MatchedStatements"]
    assert matched["SourcePolicyId"] == "PolicyInputList.1" and matched["SourcePolicyType"] == "IAM Policy"
    assert statement_text(document, matched) == ALLOW_S3
    assert matched["StartPosition"] == {"Line": 4, "Column": 5}
    assert statement_text(document, denied["MatchedStatements"][0]) == DENY_SECRET
    assert implicit["MatchedStatements"] == [] and implicit["MissingContextValues"] == []
    (specific,) = allowed["ResourceSpecificResults"]
    assert specific["EvalResourceName"] == "arn:aws:s3:::reports/2024/a.csv"
    assert specific["EvalResourceDecision"] == "allowed" and specific["MatchedStatements"] == [matched]
    assert allowed["EvalDecisionDetails"] == {}  # same account, a resource given: present and empty
    assert allowed["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert "PermissionsBoundaryDecisionDetail" not in allowed

    everything = iam.simulate_custom_policy(PolicyInputList=[policy(ALLOW_S3, indent=None)],
                                            ActionNames=["s3:PutObject"])["EvaluationResults"][0]
    assert everything["EvalResourceName"] == "*" and everything["EvalDecision"] == "implicitDeny"
    assert "ResourceSpecificResults" not in everything and "EvalDecisionDetails" not in everything


def test_one_line_policy_positions_and_several_documents(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    first = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    second = policy({"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"})
    answer = iam.simulate_custom_policy(PolicyInputList=[first, second], ActionNames=["iam:GetUser"])
    matched = answer["EvaluationResults"][0]["MatchedStatements"]
    assert [m["SourcePolicyId"] for m in matched] == ["PolicyInputList.1", "PolicyInputList.2"]
    # as AWS's own sample: from the statement's brace to just past its closing brace
    assert matched[0]["StartPosition"] == {"Line": 1, "Column": 38}
    assert matched[0]["EndPosition"] == {"Line": 1, "Column": 84}


def test_context_entries_and_missing_context_values(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    document = policy(
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                       "ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}},
        {"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}})
    bare = iam.simulate_custom_policy(PolicyInputList=[document], ActionNames=["iam:DeleteUser"])
    result = bare["EvaluationResults"][0]
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:MultiFactorAuthPresent", "aws:TagKeys", "aws:MultiFactorAuthAge"]

    def simulate(*entries: dict[str, Any], resources: list[str] | None = None) -> dict[str, Any]:
        extra = {"ResourceArns": resources} if resources else {}
        answer: dict[str, Any] = iam.simulate_custom_policy(
            PolicyInputList=[document], ActionNames=["iam:DeleteUser"], ContextEntries=list(entries), **extra)
        return dict(answer["EvaluationResults"][0])

    mfa = {"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["True"], "ContextKeyType": "boolean"}
    tags = {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["team", "env"], "ContextKeyType": "stringList"}
    young = {"ContextKeyName": "aws:MultiFactorAuthAge", "ContextKeyValues": ["60"], "ContextKeyType": "numeric"}
    old = {**young, "ContextKeyValues": ["7200"]}
    assert simulate(mfa, tags, young)["EvalDecision"] == "allowed"
    assert simulate(mfa, tags, old)["EvalDecision"] == "explicitDeny"
    assert simulate(mfa, {**tags, "ContextKeyValues": ["team"]}, young)["EvalDecision"] == "implicitDeny"
    # with ResourceArns the missing keys are reported per resource
    listed = simulate(mfa, resources=["arn:aws:iam::123456789012:user/x"])
    assert listed["MissingContextValues"] == []
    assert listed["ResourceSpecificResults"][0]["MissingContextValues"] == ["aws:TagKeys", "aws:MultiFactorAuthAge"]

    for bad in ({**young, "ContextKeyValues": ["soon"]}, {**mfa, "ContextKeyValues": ["yes"]},
                {**young, "ContextKeyValues": ["1", "2"]},
                {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["300.1.1.1"], "ContextKeyType": "ip"}):
        with pytest.raises(ClientError) as refused:
            simulate(bad)
        assert error_code(refused.value) == "InvalidInput", bad
    with pytest.raises(ClientError) as unknown_type:
        simulate({**young, "ContextKeyType": "decimal"})
    assert error_code(unknown_type.value) == "ValidationError"


def test_principal_policy_of_a_user_with_groups(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="ana", Path="/team/")
    managed = iam.create_policy(PolicyName="reports-read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="ana", PolicyArn=managed)
    iam.attach_user_policy(UserName="ana", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.put_user_policy(UserName="ana", PolicyName="write", PolicyDocument=policy(ALLOW_S3))
    iam.create_group(GroupName="auditors")
    iam.add_user_to_group(GroupName="auditors", UserName="ana")
    group_document = policy(DENY_SECRET)
    iam.put_group_policy(GroupName="auditors", PolicyName="no-secrets", PolicyDocument=group_document)
    arn = account.user_arn("ana", "/team/")
    answer = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "iam:ListUsers", "iam:CreateUser"],
        ResourceArns=["arn:aws:s3:::reports/secret/x"])
    assert [r["EvalDecision"] for r in answer["EvaluationResults"]] == ["explicitDeny", "allowed", "implicitDeny"]
    (deny,) = answer["EvaluationResults"][0]["MatchedStatements"]
    assert deny["SourcePolicyId"] == "group_auditors_no-secrets"
    assert statement_text(group_document, deny) == DENY_SECRET
    listed = answer["EvaluationResults"][1]["MatchedStatements"]
    assert [m["SourcePolicyId"] for m in listed] == ["IAMReadOnlyAccess"]

    plain = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"],
                                          ResourceArns=["arn:aws:s3:::reports/a"])
    assert [m["SourcePolicyId"] for m in plain["EvaluationResults"][0]["MatchedStatements"]] == [
        "reports-read", "user_ana_write"]
    # an extra policy given as a string joins the principal's own
    extra = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["iam:CreateUser"],
        PolicyInputList=[policy({"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"})])
    assert extra["EvaluationResults"][0]["EvalDecision"] == "allowed"
    # the group alone, and a role
    group = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account.account_id}:group/auditors",
                                          ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::reports/a"])
    assert group["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    role = iam.create_role(RoleName="builder", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": account.account_id}, "Action": "sts:AssumeRole"}))["Role"]
    iam.attach_role_policy(RoleName="builder", PolicyArn=managed)
    simulated = iam.simulate_principal_policy(PolicySourceArn=role["Arn"], ActionNames=["s3:GetObject"])
    assert simulated["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_permissions_boundaries_given_and_stored(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="bounded")
    iam.put_user_policy(UserName="bounded", PolicyName="all", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    boundary = policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
                      {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"})
    answer = iam.simulate_principal_policy(
        PolicySourceArn=account.user_arn("bounded"), ActionNames=["iam:GetUser", "s3:GetObject", "iam:DeleteUser"],
        PermissionsBoundaryPolicyInputList=[boundary])
    results = answer["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny", "explicitDeny"]
    assert [r["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"] for r in results] == [
        True, False, False]
    (deny,) = results[2]["MatchedStatements"]
    assert deny["SourcePolicyId"] == "PermissionsBoundaryPolicyInputList.1"
    assert deny["SourcePolicyType"] == "Permissions Boundary Policy"
    assert [m["SourcePolicyId"] for m in results[0]["MatchedStatements"]] == ["user_bounded_all"]

    # the boundary stored on the user (where authorization reads it) is part of the simulation
    stored = iam.create_policy(PolicyName="iam-only", PolicyDocument=boundary)["Policy"]["Arn"]

    async def put_boundary(deps: Any) -> None:
        async with deps.store.unit() as uow:
            user = await uow.users.by_name(account.account_id, "bounded")
            user.permissions_boundary = stored

    world.run(put_boundary)
    answer = iam.simulate_principal_policy(PolicySourceArn=account.user_arn("bounded"),
                                           ActionNames=["iam:GetUser", "s3:GetObject"])
    assert [r["EvalDecision"] for r in answer["EvaluationResults"]] == ["allowed", "implicitDeny"]
    assert answer["EvaluationResults"][1]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False}
    # a boundary given in the call replaces the stored one
    wider = iam.simulate_principal_policy(
        PolicySourceArn=account.user_arn("bounded"), ActionNames=["s3:GetObject"],
        PermissionsBoundaryPolicyInputList=[policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})])
    assert wider["EvaluationResults"][0]["EvalDecision"] == "allowed"
    with pytest.raises(ClientError) as two:
        iam.simulate_principal_policy(PolicySourceArn=account.user_arn("bounded"), ActionNames=["s3:GetObject"],
                                      PermissionsBoundaryPolicyInputList=[boundary, boundary])
    assert error_code(two.value) == "InvalidInput"


def test_resource_policy_same_account_and_across_accounts(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    caller = account.user_arn("reader")
    resource_policy = policy({"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject",
                              "Resource": "arn:aws:s3:::shared/*"}, indent=None)
    common = {"PolicyInputList": [policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})],
              "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::shared/a"],
              "ResourcePolicy": resource_policy, "CallerArn": caller}
    same = iam.simulate_custom_policy(**common)["EvaluationResults"][0]
    assert same["EvalDecision"] == "allowed"  # the bucket policy names the caller: enough in its own account
    (matched,) = same["MatchedStatements"]
    assert matched["SourcePolicyId"] == "ResourcePolicy" and matched["SourcePolicyType"] == "Resource Policy"
    assert matched["StartPosition"] == {"Line": 1, "Column": 41}
    assert statement_text(resource_policy, matched)["Principal"] == {"AWS": caller}
    across = iam.simulate_custom_policy(**common, ResourceOwner="999988887777")["EvaluationResults"][0]
    assert across["EvalDecision"] == "implicitDeny"  # across accounts the identity policies must allow too
    assert across["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    across_root = iam.simulate_custom_policy(**common, ResourceOwner="arn:aws:iam::999988887777:root")
    assert across_root["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"

    for change, member in (({"CallerArn": None}, "CallerArn"), ({"ResourceOwner": "nobody"}, "ResourceOwner"),
                           ({"ResourcePolicy": policy(ALLOW_S3)}, "ResourcePolicy"),
                           ({"CallerArn": "arn:aws:sts::123456789012:assumed-role/r/s"}, "CallerArn")):
        call = {key: value for key, value in {**common, **change}.items() if value is not None}
        with pytest.raises(ClientError) as refused:
            iam.simulate_custom_policy(**call)
        assert error_code(refused.value) == "InvalidInput", member


def test_pages_of_evaluation_results(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    actions = [f"iam:{name}" for name in ("GetUser", "ListUsers", "CreateUser", "DeleteUser", "TagUser")]
    resources = [account.user_arn("a"), account.user_arn("b")]
    common = {"PolicyInputList": [policy({"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"})],
              "ActionNames": actions, "ResourceArns": resources}
    first = iam.simulate_custom_policy(**common, MaxItems=4)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 4
    second = iam.simulate_custom_policy(**common, MaxItems=4, Marker=first["Marker"])
    third = iam.simulate_custom_policy(**common, MaxItems=4, Marker=second["Marker"])
    assert third["IsTruncated"] is False and "Marker" not in third
    paged = [r for page in (first, second, third) for r in page["EvaluationResults"]]
    everything = [r for page in iam.get_paginator("simulate_custom_policy").paginate(
        **common, PaginationConfig={"PageSize": 3}) for r in page["EvaluationResults"]]
    assert decisions({"EvaluationResults": paged}) == decisions({"EvaluationResults": everything})
    assert len(everything) == 10
    assert [r["EvalDecision"] for r in everything[:2]] == ["allowed", "allowed"]
    with pytest.raises(ClientError) as bad_marker:
        iam.simulate_custom_policy(**common, Marker="not-a-marker")
    assert error_code(bad_marker.value) == "ValidationError"


def test_documented_errors(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    good = policy(ALLOW_S3)

    def refused(call: Any, **kw: Any) -> str:
        with pytest.raises(ClientError) as exc:
            call(**kw)
        return error_code(exc.value)

    assert refused(iam.simulate_principal_policy, PolicySourceArn=account.user_arn("nobody"),
                   ActionNames=["s3:GetObject"]) == "NoSuchEntity"
    iam.create_user(UserName="pathed", Path="/a/")
    assert refused(iam.simulate_principal_policy, PolicySourceArn=account.user_arn("pathed"),
                   ActionNames=["s3:GetObject"]) == "NoSuchEntity"  # the ARN must name it at its own path
    for arn in (account.root_arn, "arn:aws:s3:::bucket/key-that-is-long",
                f"arn:aws:sts::{account.account_id}:assumed-role/r/s"):
        assert refused(iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=["s3:GetObject"]) == (
            "InvalidInput"), arn
    for actions in (["s3:*"], ["s3:Get?bject"], ["GetObject"]):
        assert refused(iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=actions) == "InvalidInput"
    assert refused(iam.simulate_custom_policy, PolicyInputList=['{"Statement": []}'],
                   ActionNames=["s3:GetObject"]) == "InvalidInput"
    assert refused(iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["s3:GetObject"],
                   ResourceArns=["bucket"]) == "InvalidInput"
    assert refused(iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["s3:GetObject"],
                   ResourceHandlingOption="EC2-Nowhere") == "InvalidInput"
    assert refused(iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["ec2:RunInstances"],
                   ResourceHandlingOption="EC2-VPC-InstanceStore",
                   ResourceArns=["arn:aws:ec2:us-east-1:123456789012:instance/*"]) == "InvalidInput"
    scenario = iam.simulate_custom_policy(
        PolicyInputList=[policy({"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"})],
        ActionNames=["ec2:RunInstances"], ResourceHandlingOption="EC2-VPC-InstanceStore",
        ResourceArns=[f"arn:aws:ec2:us-east-1:123456789012:{kind}/*"
                      for kind in ("instance", "image", "security-group", "network-interface")])
    assert {r["EvalDecision"] for r in scenario["EvaluationResults"]} == {"allowed"}
    assert refused(iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=[]) == "ValidationError"
    unvalidated = world.iam(account.root, validate=False)
    assert refused(unvalidated.simulate_custom_policy, PolicyInputList=["\u2603"],
                   ActionNames=["s3:GetObject"]) == "ValidationError"
    assert refused(unvalidated.simulate_custom_policy, PolicyInputList=[good],
                   ActionNames=["s3"]) == "ValidationError"
    other = world.new_account()
    assert refused(iam.simulate_principal_policy, PolicySourceArn=other.user_arn("x"),
                   ActionNames=["s3:GetObject"]) == "AccessDenied"


def test_who_may_simulate(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    keys = world.api_user(account, "simulator")
    iam.put_user_policy(UserName="simulator", PolicyName="sim", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["iam:SimulatePrincipalPolicy", "iam:GetContextKeysForPrincipalPolicy"],
         "Resource": f"arn:aws:iam::{account.account_id}:user/public/*"}))
    iam.create_user(UserName="open", Path="/public/")
    iam.create_user(UserName="secret", Path="/private/")
    mine = world.iam(keys)
    answer = mine.simulate_principal_policy(PolicySourceArn=account.user_arn("open", "/public/"),
                                            ActionNames=["s3:GetObject"])
    assert answer["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    mine.get_context_keys_for_principal_policy(PolicySourceArn=account.user_arn("open", "/public/"))
    calls: list[Callable[[], Any]] = [
                 lambda: mine.simulate_principal_policy(PolicySourceArn=account.user_arn("secret", "/private/"),
                                                        ActionNames=["s3:GetObject"]),
                 # a user that does not exist is not told apart from one the caller may not see
                 lambda: mine.simulate_principal_policy(PolicySourceArn=account.user_arn("ghost", "/private/"),
                                                        ActionNames=["s3:GetObject"]),
                 lambda: mine.simulate_custom_policy(PolicyInputList=[policy(ALLOW_S3)],
                                                     ActionNames=["s3:GetObject"]),
                 lambda: mine.get_context_keys_for_custom_policy(PolicyInputList=[policy(ALLOW_S3)])]
    for call in calls:
        with pytest.raises(ClientError) as denied:
            call()
        assert error_code(denied.value) == "AccessDenied"


def test_context_keys_of_policies(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    document = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*",
                       "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                                     "StringLike": {"s3:prefix": "home/${aws:username}/*"}}})
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[document])["ContextKeyNames"]
    assert keys == ["aws:username", "aws:SourceIp", "s3:prefix"]
    iam.create_user(UserName="keyed")
    iam.put_user_policy(UserName="keyed", PolicyName="mfa", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}))
    principal = iam.get_context_keys_for_principal_policy(PolicySourceArn=account.user_arn("keyed"),
                                                          PolicyInputList=[document])["ContextKeyNames"]
    assert principal == ["aws:MultiFactorAuthPresent", "aws:username", "aws:SourceIp", "s3:prefix"]
    with pytest.raises(ClientError) as missing:
        iam.get_context_keys_for_principal_policy(PolicySourceArn=account.user_arn("ghost"))
    assert error_code(missing.value) == "NoSuchEntity"
    with pytest.raises(ClientError) as malformed:
        iam.get_context_keys_for_custom_policy(PolicyInputList=["{"])
    assert error_code(malformed.value) == "InvalidInput"


def test_policy_exclusion_list(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="excl")
    managed = iam.create_policy(PolicyName="team-read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="excl", PolicyArn=managed)
    iam.attach_user_policy(UserName="excl", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.put_user_policy(UserName="excl", PolicyName="deny-get", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"}))
    iam.create_group(GroupName="excl-group")
    iam.add_user_to_group(GroupName="excl-group", UserName="excl")
    iam.put_group_policy(GroupName="excl-group", PolicyName="deny-get", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "iam:GetGroup", "Resource": "*"}))

    def decided(*exclusions: dict[str, Any]) -> list[str]:
        answer = iam.simulate_principal_policy(
            PolicySourceArn=account.user_arn("excl"), ActionNames=["iam:GetRole", "iam:GetGroup", "iam:GetUser"],
            PolicyExclusionList=list(exclusions))
        return [r["EvalDecision"] for r in answer["EvaluationResults"]]

    assert decided() == ["explicitDeny", "explicitDeny", "allowed"]
    assert decided({"PolicyType": "inline"}) == ["allowed", "allowed", "allowed"]
    user_inline = {"InlinePolicyIdentifier": {"PolicyName": "deny-get", "AttachmentType": "user",
                                              "AttachmentName": "ex*"}}
    assert decided(user_inline) == ["allowed", "explicitDeny", "allowed"]
    assert decided({"PolicyType": "inline"}, {"PolicyArn": managed}) == ["allowed", "allowed", "allowed"]
    assert decided({"PolicyType": "inline"}, {"PolicyArn": managed},
                   {"PolicyType": "aws-managed"}) == ["implicitDeny", "implicitDeny", "implicitDeny"]
    assert decided({"PolicyType": "inline"}, {"PolicyArn": f"arn:aws:iam::{account.account_id}:policy/team-*"},
                   {"PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnly?ccess"}) == ["implicitDeny"] * 3
    assert decided({"PolicyArn": f"arn:aws:iam::{account.account_id}:policy/nothing"},
                   {"PolicyType": "scp"}) == ["explicitDeny", "explicitDeny", "allowed"]  # matching nothing: ignored
    for bad in ({"PolicyArn": "arn:aws:iam::*:policy/team-read"}, {"PolicyArn": "arn:aws:iam::aws:policy/a*b*"},
                {"PolicyArn": "not-an-arn-but-long-enough"},
                {"InlinePolicyIdentifier": {**user_inline["InlinePolicyIdentifier"], "AttachmentType": "bucket"}},
                {"PolicyType": "inline", "PolicyArn": managed}):  # a union names one (botocore checks it too)
        with pytest.raises(ClientError) as refused:
            world.iam(account.root, validate=False).simulate_principal_policy(
                PolicySourceArn=account.user_arn("excl"), ActionNames=["iam:GetUser"], PolicyExclusionList=[bad])
        assert error_code(refused.value) == "InvalidInput", bad


def test_service_control_policies_of_a_custom_simulation(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    full = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    no_delete = policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                       {"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"})
    only_iam = policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    answer = iam.simulate_custom_policy(
        PolicyInputList=[full], ActionNames=["iam:GetUser", "iam:DeleteUser", "s3:GetObject"],
        OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [no_delete]},
                                            {"ServiceControlPolicyInputList": [only_iam]}])
    results = answer["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "explicitDeny", "implicitDeny"]
    assert [r["OrganizationsDecisionDetail"]["AllowedByOrganizations"] for r in results] == [True, False, False]


def test_cli_simulate_principal_policy(world: AwsWorld, account: Account, cli: Cli) -> None:
    iam = world.iam(account.root)
    iam.create_user(UserName="cli-sim")
    iam.put_user_policy(UserName="cli-sim", PolicyName="read", PolicyDocument=policy(ALLOW_S3, DENY_SECRET))
    answer = cli.ok(account.root, "iam", "simulate-principal-policy",
                    "--policy-source-arn", account.user_arn("cli-sim"),
                    "--action-names", "s3:GetObject", "s3:DeleteObject",
                    "--resource-arns", "arn:aws:s3:::reports/a", "arn:aws:s3:::reports/secret/b",
                    "--context-entries", "ContextKeyName=aws:SourceIp,ContextKeyValues=10.0.0.1,ContextKeyType=ip",
                    "--max-items", "3")
    assert [r["EvalDecision"] for r in answer["EvaluationResults"]] == ["allowed", "explicitDeny", "implicitDeny"]
    assert answer["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "user_cli-sim_read"
    rest = cli.ok(account.root, "iam", "simulate-principal-policy",
                  "--policy-source-arn", account.user_arn("cli-sim"), "--action-names", "s3:GetObject",
                  "s3:DeleteObject", "--resource-arns", "arn:aws:s3:::reports/a", "arn:aws:s3:::reports/secret/b",
                  "--starting-token", answer["NextToken"])
    assert [r["EvalDecision"] for r in rest["EvaluationResults"]] == ["explicitDeny"]


@pytest.fixture
def cli(world: AwsWorld, tmp_path: Any) -> Cli:
    return Cli(world, tmp_path)


# --- simulated decisions equal real ones --------------------------------------------------------------

_REAL_ACTIONS = ("iam:GetUser", "iam:ListUserTags", "iam:ListUserPolicies", "iam:ListAttachedUserPolicies")
_TARGETS = ("alpha", "beta", "ops-gamma")


def _real_call(iam: Any, action: str, target: str) -> None:
    {"iam:GetUser": lambda: iam.get_user(UserName=target),
     "iam:ListUserTags": lambda: iam.list_user_tags(UserName=target),
     "iam:ListUserPolicies": lambda: iam.list_user_policies(UserName=target),
     "iam:ListAttachedUserPolicies": lambda: iam.list_attached_user_policies(UserName=target)}[action]()


def _generated_policy(rng: random.Random, account_id: str) -> str:
    def actions() -> list[str]:
        return rng.sample([*_REAL_ACTIONS, "iam:Get*", "iam:List*", "iam:*", "*", "iam:ListUser*", "s3:*"],
                          rng.randint(1, 3))

    def resources() -> list[str]:
        return rng.sample([f"arn:aws:iam::{account_id}:user/{t}" for t in _TARGETS]
                          + [f"arn:aws:iam::{account_id}:user/ops-*", "*", "arn:aws:iam::*:user/?eta",
                             f"arn:aws:iam::{account_id}:user/${{aws:username}}"], rng.randint(1, 2))

    conditions: list[dict[str, Any] | None] = [
        None, None, {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"NotIpAddress": {"aws:SourceIp": "127.0.0.1"}},
        {"Bool": {"aws:SecureTransport": "true"}}, {"StringEquals": {"aws:PrincipalType": "User"}},
        {"StringLike": {"aws:username": "sim-*"}}, {"Null": {"aws:MultiFactorAuthPresent": "true"}}]
    statements = []
    for _ in range(rng.randint(1, 3)):
        statement: dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Deny"]),
                                     rng.choice(["Action", "Action", "NotAction"]): actions(),
                                     rng.choice(["Resource", "Resource", "NotResource"]): resources()}
        condition = rng.choice(conditions)
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return policy(*statements, indent=None)


def _set_boundary(account_id: str, user_name: str, policy_arn: str) -> Callable[[Any], Any]:
    async def put(deps: Any) -> None:
        async with deps.store.unit() as uow:
            user = await uow.users.by_name(account_id, user_name)
            user.permissions_boundary = policy_arn

    return put


def test_simulated_decisions_equal_real_ones(world: AwsWorld, account: Account) -> None:
    """For generated policies (the user's, its group's, its permissions boundary), SimulatePrincipalPolicy (with
    the request's context given as ContextEntries) decides exactly as a real call by that user does: allowed, or
    denied explicitly or implicitly."""
    rng = random.Random(20240901)
    iam = world.iam(account.root)
    for target in _TARGETS:
        iam.create_user(UserName=target)
    context = [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["127.0.0.1"], "ContextKeyType": "ip"},
               {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["false"], "ContextKeyType": "boolean"},
               {"ContextKeyName": "aws:PrincipalType", "ContextKeyValues": ["User"], "ContextKeyType": "string"}]
    seen: list[str] = []
    for number in range(16):
        name = f"sim-{number}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="generated", PolicyDocument=_generated_policy(
            rng, account.account_id))
        if rng.random() < 0.5:
            iam.create_group(GroupName=f"g-{number}")
            iam.add_user_to_group(GroupName=f"g-{number}", UserName=name)
            iam.put_group_policy(GroupName=f"g-{number}", PolicyName="generated",
                                 PolicyDocument=_generated_policy(rng, account.account_id))
        if rng.random() < 0.4:  # a permissions boundary, stored where authorization reads it
            boundary = iam.create_policy(PolicyName=f"boundary-{number}", PolicyDocument=_generated_policy(
                rng, account.account_id))["Policy"]["Arn"]
            world.run(_set_boundary(account.account_id, name, boundary))
        keys = Keys.of(iam.create_access_key(UserName=name)["AccessKey"])
        theirs = world.iam(keys)
        resources = [account.user_arn(t) for t in _TARGETS]
        simulated = iam.simulate_principal_policy(PolicySourceArn=account.user_arn(name),
                                                  ActionNames=list(_REAL_ACTIONS), ResourceArns=resources,
                                                  ContextEntries=context)["EvaluationResults"]
        by_pair = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in simulated}
        for action in _REAL_ACTIONS:
            for target in _TARGETS:
                try:
                    _real_call(theirs, action, target)
                    real = "allowed"
                except ClientError as exc:
                    assert error_code(exc) == "AccessDenied"
                    real = "explicitDeny" if "explicit deny" in exc.response["Error"]["Message"] else "implicitDeny"
                assert by_pair[(action, account.user_arn(target))] == real, (name, action, target)
                seen.append(real)
    assert len(seen) == 16 * len(_REAL_ACTIONS) * len(_TARGETS)
    assert {decision: seen.count(decision) > 5 for decision in ("allowed", "explicitDeny", "implicitDeny")} == {
        "allowed": True, "explicitDeny": True, "implicitDeny": True}
