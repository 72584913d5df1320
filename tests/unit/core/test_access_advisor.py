"""Which services a set of identity policies allows, as service last accessed data names them."""

from __future__ import annotations

import json

from vestibule.core import access_advisor
from vestibule.core.policy import Policy, parse_policy

SERVED = {"iam": ("GetUser", "ListRoles", "ListUsers"), "sts": ("AssumeRole", "GetFederationToken")}


def _policy(*statements: dict[str, object]) -> Policy:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def _allow(action: object, *, not_action: bool = False) -> dict[str, object]:
    return {"Effect": "Allow", "NotAction" if not_action else "Action": action, "Resource": "*"}


def test_served_services_are_matched_against_their_actions() -> None:
    assert access_advisor.allowed_services([_policy(_allow("*"))], SERVED) == ["iam", "sts"]
    assert access_advisor.allowed_services([_policy(_allow("*:List*"))], SERVED) == ["iam"]
    assert access_advisor.allowed_services([_policy(_allow("i?m:get*"))], SERVED) == ["iam"]
    assert access_advisor.allowed_services([_policy(_allow("iam:*", not_action=True))], SERVED) == ["sts"]
    assert access_advisor.allowed_services([_policy(_allow("*", not_action=True))], SERVED) == []


def test_other_services_only_when_the_policy_names_them() -> None:
    policy = _policy(_allow(["s3:GetObject", "ec2:*", "*:Describe*", "dynamo*:Get*"]))
    assert access_advisor.allowed_services([policy], SERVED) == ["ec2", "s3"]
    denied = _policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    assert access_advisor.allowed_services([denied], SERVED) == []  # a Deny allows nothing


def test_actions_of_a_served_service() -> None:
    policies = [_policy(_allow(["iam:List*"])), _policy(_allow("sts:AssumeRole"))]
    assert access_advisor.allowed_actions(policies, "iam", SERVED["iam"]) == ["ListRoles", "ListUsers"]
    assert access_advisor.allowed_actions(policies, "sts", SERVED["sts"]) == ["AssumeRole"]
    assert access_advisor.service_name("sts") == "AWS Security Token Service"
    assert access_advisor.service_name("s3") == "s3"
