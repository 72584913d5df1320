"""Managed policy attachments under concurrent requests (boto3, requests released together): an attachment
never outlives its policy, and the 10-policies-per-entity quota holds."""

from __future__ import annotations

import json
from functools import partial

import pytest

from integration.aws.aws_world import Account, AwsWorld, at_once

DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
                                                               "Resource": "*"}]})


def test_attach_racing_delete_policy_leaves_no_attachment_to_a_deleted_policy(world: AwsWorld,
                                                                              account: Account) -> None:
    clients = [world.iam(account.root) for _ in range(4)]
    iam = clients[0]
    for name in ("u1", "u2", "u3"):
        iam.create_user(UserName=name)
    for round_ in range(4):
        arn = iam.create_policy(PolicyName=f"raced-{round_}", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
        answers = at_once([partial(clients[0].delete_policy, PolicyArn=arn),
                           *[partial(c.attach_user_policy, UserName=f"u{i}", PolicyArn=arn)
                             for i, c in enumerate(clients[1:], 1)]])
        deleted = answers[0] == "ok"
        attached = [name for name in ("u1", "u2", "u3")
                    if arn in [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)[
                        "AttachedPolicies"]]]
        if deleted:
            assert attached == [], (round_, answers, attached)
            assert set(answers[1:]) <= {"NoSuchEntity", "ok"} and "ok" not in answers[1:], answers
        else:
            assert answers[0] == "DeleteConflict", answers
            assert len(attached) == answers[1:].count("ok") >= 1, (answers, attached)
        for name in attached:
            iam.detach_user_policy(UserName=name, PolicyArn=arn)


def test_concurrent_attachments_keep_ten_per_user(world: AwsWorld, account: Account) -> None:
    clients = [world.iam(account.root) for _ in range(4)]
    iam = clients[0]
    iam.create_user(UserName="many")
    arns = [iam.create_policy(PolicyName=f"p{i}", PolicyDocument=DOCUMENT)["Policy"]["Arn"] for i in range(12)]
    for arn in arns[:8]:
        iam.attach_user_policy(UserName="many", PolicyArn=arn)
    answers = at_once([partial(c.attach_user_policy, UserName="many", PolicyArn=arn)
                       for c, arn in zip(clients, arns[8:], strict=True)])
    assert sorted(answers) == ["LimitExceeded"] * 2 + ["ok"] * 2, answers
    assert len(iam.list_attached_user_policies(UserName="many")["AttachedPolicies"]) == 10


def test_a_value_that_is_no_policy_arn_is_invalid_input(world: AwsWorld, account: Account) -> None:
    from botocore.exceptions import ClientError

    iam = world.iam(account.root)
    iam.create_user(UserName="arnless")
    for call in (partial(iam.get_policy, PolicyArn="not-an-arn-but-long-enough"),
                 partial(iam.attach_user_policy, UserName="arnless", PolicyArn="not-an-arn-but-long-enough")):
        try:
            call()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidInput", exc.response
            assert exc.response["Error"]["Message"] == "ARN not-an-arn-but-long-enough is not valid."
        else:
            raise AssertionError("accepted")
    with pytest.raises(ClientError) as missing:
        iam.get_policy(PolicyArn=f"arn:aws:iam::{account.account_id}:policy/none")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
