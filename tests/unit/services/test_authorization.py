"""services/authorization: how identity policies, a permissions boundary and a session policy combine, the
AccessDenied wording that names the denying policy, when tags are read for the request context, and which trust
policy actions CreateRole accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vestibule.core.principals import PrincipalRef
from vestibule.errors import InvalidPolicy
from vestibule.services import authorization
from vestibule.services.authorization import Permissions, Verdict, decide, mentions, principal_tag_subject, verdict
from vestibule.services.aws_identity import Caller
from vestibule.services.iam.roles import _trust

ARN = "arn:aws:iam::111122223333:user/ann"
USER = Caller("111122223333", ARN, "AIDAEXAMPLE", "user", PrincipalRef.iam_user("AIDAEXAMPLE"), "AKIAEXAMPLE",
              user_name="ann")
ROLE_SESSION = Caller("111122223333", "arn:aws:sts::111122223333:assumed-role/app/s", "AROAEXAMPLE:s",
                      "assumed-role", PrincipalRef.role("AROAEXAMPLE"), "ASIAEXAMPLE", temporary=True,
                      role_id="AROAEXAMPLE")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*"}


def deny(action: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": "*"}


ADMIN = doc(allow("*"))
READ = doc(allow("iam:Get*"), allow("iam:List*"))


def judge(identity: list[str], boundary: str | None = None, session: str | None = None,
          action: str = "iam:CreateUser", caller: Caller = USER) -> Verdict:
    return verdict(Permissions(identity, boundary), session, caller, action, "*", {})


def test_without_a_boundary_the_identity_policies_decide() -> None:
    assert judge([ADMIN]) == Verdict(True)
    assert judge([READ]) == Verdict(False, False, "identity-based")
    assert judge([ADMIN, doc(deny("iam:CreateUser"))]) == Verdict(False, True, "identity-based")


def test_a_boundary_must_allow_too_and_never_widens() -> None:
    assert judge([ADMIN], READ) == Verdict(False, False, "permissions boundary")
    assert judge([ADMIN], READ, action="iam:GetUser") == Verdict(True)
    assert judge([READ], ADMIN) == Verdict(False, False, "identity-based")  # the boundary does not grant
    assert judge([], ADMIN) == Verdict(False, False, "identity-based")
    assert judge([ADMIN], doc(allow("*"), deny("iam:CreateUser"))) == Verdict(False, True, "permissions boundary")
    # an explicit deny anywhere wins over an implicit one elsewhere
    assert judge([READ], doc(deny("iam:*"))) == Verdict(False, True, "permissions boundary")
    assert judge([ADMIN], authorization.NO_ACCESS, action="iam:GetUser").allowed is False


def test_session_policies_still_intersect() -> None:
    assert judge([ADMIN], ADMIN, doc(allow("iam:List*"))) == Verdict(False, False, "session")
    assert judge([ADMIN], ADMIN, doc(allow("iam:*")), caller=ROLE_SESSION) == Verdict(True)
    assert judge([ADMIN], READ, doc(allow("iam:*"))) == Verdict(False, False, "permissions boundary")
    assert judge([ADMIN], None, doc(deny("*"))) == Verdict(False, True, "session")
    assert decide(Permissions([ADMIN], READ), None, USER, "iam:CreateUser", "*", {}) == (False, False)


def test_messages_name_the_policy_that_denied() -> None:
    head = f"User: {ARN} is not authorized to perform: iam:CreateUser on resource: *"
    assert Verdict(False).message(ARN, "iam:CreateUser", "*") == (
        f"{head} because no identity-based policy allows the iam:CreateUser action")
    assert Verdict(False, True).message(ARN, "iam:CreateUser", "*") == (
        f"{head} with an explicit deny in an identity-based policy")
    assert Verdict(False, False, "permissions boundary").message(ARN, "iam:CreateUser", "*") == (
        f"{head} because no permissions boundary allows the iam:CreateUser action")
    assert Verdict(False, True, "permissions boundary").message(ARN, "iam:CreateUser", "*") == (
        f"{head} with an explicit deny in a permissions boundary")
    assert Verdict(False, False, "session").message(ARN, "iam:CreateUser", "*") == (
        f"{head} because no session policy allows the iam:CreateUser action")
    assert Verdict(False, True, "session").message(ARN, "iam:CreateUser", "*") == (
        f"{head} with an explicit deny in a session policy")


def test_tags_are_read_only_for_policies_that_mention_them() -> None:
    plain = doc(allow("iam:*"))
    by_principal = doc({**allow("iam:*"), "Condition": {"StringEquals": {"aws:principaltag/team": "a"}}})
    by_variable = doc({"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::*:user/${aws:PrincipalTag/t}"})
    by_resource = doc({**allow("iam:*"), "Condition": {"StringEquals": {"AWS:ResourceTag/team": "a"}}})
    by_iam_key = doc({**allow("iam:*"), "Condition": {"StringEquals": {"iam:ResourceTag/team": "a"}}})
    assert not mentions([plain], authorization.PRINCIPAL_TAG)
    assert not mentions([plain], authorization.RESOURCE_TAG)
    assert mentions([plain, by_principal], authorization.PRINCIPAL_TAG)
    assert mentions([by_variable], authorization.PRINCIPAL_TAG)
    assert not mentions([by_principal], authorization.RESOURCE_TAG)
    assert mentions([by_resource], authorization.RESOURCE_TAG)
    assert mentions([by_iam_key], authorization.IAM_RESOURCE_TAG)
    assert not mentions([by_iam_key], authorization.RESOURCE_TAG)
    assert not mentions([], authorization.PRINCIPAL_TAG)


def test_whose_tags_are_principal_tags() -> None:
    assert principal_tag_subject(USER) == ("user", "AIDAEXAMPLE")
    assert principal_tag_subject(ROLE_SESSION) == ("role", "AROAEXAMPLE")
    root = Caller("111122223333", "arn:aws:iam::111122223333:root", "111122223333", "root",
                  PrincipalRef.root("111122223333"), "AKIAROOT")
    federated = Caller("111122223333", "arn:aws:sts::111122223333:federated-user/f", "111122223333:f",
                       "federated-user", PrincipalRef.iam_user("AIDAEXAMPLE"), "ASIAFED", temporary=True)
    from_root = Caller("111122223333", "arn:aws:sts::111122223333:federated-user/r", "111122223333:r",
                       "federated-user", PrincipalRef.root("111122223333"), "ASIAFEDROOT", temporary=True)
    assert principal_tag_subject(root) is None
    # AWS: a federated user's session tags override its IAM user's tags, which it therefore has
    assert principal_tag_subject(federated) == ("user", "AIDAEXAMPLE")
    assert principal_tag_subject(from_root) is None


def _trust_doc(action: object, **extra: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": action, **extra}]})


@pytest.mark.parametrize("action", [
    "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession",
    "sts:SetSourceIdentity", "sts:SetContext", "STS:assumerole", "sts:*", "sts:Assume*", "*",
    ["sts:AssumeRole", "sts:TagSession"]])
def test_trust_policy_actions_accepted(action: object) -> None:
    assert _trust(_trust_doc(action))


@pytest.mark.parametrize("action", ["s3:GetObject", "iam:*", "sts:GetCallerIdentity", "sts:Get*", "s*:*",
                                    ["sts:AssumeRole", "ec2:RunInstances"]])
def test_trust_policy_actions_refused(action: object) -> None:
    with pytest.raises(InvalidPolicy) as refused:
        _trust(_trust_doc(action))
    assert str(refused.value).startswith("Trust Policy statement actions can only be sts:AssumeRole")


def test_trust_policy_with_a_resource_is_refused() -> None:
    with pytest.raises(InvalidPolicy) as refused:
        _trust(_trust_doc("sts:AssumeRole", Resource="*"))
    assert str(refused.value) == "Has prohibited field Resource"
