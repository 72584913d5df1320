"""NotPrincipal, NotAction, NotResource and explicit deny, as AWS's policy evaluation logic documents them
(IAM User Guide: "AWS JSON policy elements: NotPrincipal / NotAction / NotResource", "Policy evaluation
logic"); resource-based policies, which the policy simulator evaluates."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from vestibule.core.policy import (
    AuthzRequest,
    MalformedPolicy,
    Outcome,
    TrustPrincipal,
    evaluate,
    parse_policy,
)
from vestibule.core.policy_explain import explain_resource

ACCOUNT = "123456789012"
OTHER = "210987654321"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci"
BUCKET = "arn:aws:s3:::reports"
A, D, N = Outcome.ALLOW, Outcome.EXPLICIT_DENY, Outcome.IMPLICIT_DENY


def doc(*statements: Mapping[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def on_bucket(policy: str, who: TrustPrincipal, *, bounded: bool = False, action: str = "s3:GetObject") -> Outcome:
    request = AuthzRequest(principal_arn=who.identifier, action=action, resource=f"{BUCKET}/k")
    return explain_resource(parse_policy(policy, kind="resource"), who, request, bounded=bounded).outcome


EVERYONE_IN_ACCOUNT = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:*", "Resource": f"{BUCKET}/*"}


def deny_all_but(*listed: str) -> str:
    return doc({"Effect": "Deny", "NotPrincipal": {"AWS": list(listed)}, "Action": "s3:*", "Resource": "*"},
               EVERYONE_IN_ACCOUNT)


# --- NotPrincipal -----------------------------------------------------------------------------------


def test_not_principal_needs_deny() -> None:
    with pytest.raises(MalformedPolicy, match="NotPrincipal must be used with"):
        parse_policy(doc({"Effect": "Allow", "NotPrincipal": {"AWS": BOB}, "Action": "s3:*", "Resource": "*"}),
                     kind="resource")


def test_not_principal_is_refused_in_trust_and_identity_policies() -> None:
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": BOB}, "Action": "sts:AssumeRole"}
    with pytest.raises(MalformedPolicy, match="not supported in a role trust policy"):
        parse_policy(doc(statement), kind="trust")
    with pytest.raises(MalformedPolicy, match="should not specify a principal"):
        parse_policy(doc({**statement, "Resource": "*"}))


@pytest.mark.parametrize(
    ("listed", "who", "outcome"),
    [
        # the user alone is not enough: AWS checks the account first, and the account is not excepted
        ((BOB,), TrustPrincipal.aws(BOB), D),
        ((ACCOUNT, BOB), TrustPrincipal.aws(BOB), A),
        ((ROOT, BOB), TrustPrincipal.aws(BOB), A),
        ((ACCOUNT, BOB), TrustPrincipal.aws(ALICE), D),
        # the account alone excepts the account (its root user), not the users in it
        ((ACCOUNT,), TrustPrincipal.aws(BOB), D),
        ((ACCOUNT,), TrustPrincipal.aws(ROOT), A),
        # an assumed role: account, role and session must all be listed
        ((ACCOUNT, ROLE), TrustPrincipal.aws(SESSION, role_arn=ROLE), D),
        ((ACCOUNT, SESSION), TrustPrincipal.aws(SESSION, role_arn=ROLE), D),
        ((ACCOUNT, ROLE, SESSION), TrustPrincipal.aws(SESSION, role_arn=ROLE), A),
        ((ROLE, SESSION), TrustPrincipal.aws(SESSION, role_arn=ROLE), D),
    ],
)
def test_not_principal_deny_excepts_only_a_fully_listed_principal(
        listed: tuple[str, ...], who: TrustPrincipal, outcome: Outcome) -> None:
    assert on_bucket(deny_all_but(*listed), who) is outcome


def test_not_principal_deny_always_denies_a_principal_with_a_permissions_boundary() -> None:
    policy = deny_all_but(ACCOUNT, BOB)
    assert on_bucket(policy, TrustPrincipal.aws(BOB)) is A
    assert on_bucket(policy, TrustPrincipal.aws(BOB), bounded=True) is D


def test_not_principal_wildcard_excepts_everyone_and_services_are_matched_by_name() -> None:
    star = doc({"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"},
               EVERYONE_IN_ACCOUNT)
    assert on_bucket(star, TrustPrincipal.aws(BOB)) is A
    service = doc({"Effect": "Deny", "NotPrincipal": {"Service": "logs.amazonaws.com"}, "Action": "s3:*",
                   "Resource": "*"},
                  {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    assert on_bucket(service, TrustPrincipal.service("logs.amazonaws.com")) is A
    assert on_bucket(service, TrustPrincipal.service("ec2.amazonaws.com")) is D
    assert on_bucket(service, TrustPrincipal.aws(BOB)) is D


def test_resource_policy_principal_forms() -> None:
    def grants(principal: object, who: TrustPrincipal) -> Outcome:
        return on_bucket(doc({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                              "Resource": f"{BUCKET}/*"}), who)

    assert grants({"AWS": BOB}, TrustPrincipal.aws(BOB)) is A
    assert grants({"AWS": BOB}, TrustPrincipal.aws(ALICE)) is N
    assert grants({"AWS": ROLE}, TrustPrincipal.aws(SESSION, role_arn=ROLE)) is A
    assert grants({"AWS": OTHER}, TrustPrincipal.aws(BOB)) is N
    assert grants("*", TrustPrincipal.aws(f"arn:aws:iam::{OTHER}:user/x")) is A


def test_resource_policies_need_a_principal_and_a_resource() -> None:
    with pytest.raises(MalformedPolicy, match="Missing required field Principal"):
        parse_policy(doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), kind="resource")
    with pytest.raises(MalformedPolicy, match="must contain resources"):
        parse_policy(doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}), kind="resource")


# --- NotAction, NotResource, explicit deny (identity-based policies) ---------------------------------


def decide(*statements: Mapping[str, object], action: str, resource: str = "*",
           context: Mapping[str, str] | None = None) -> Outcome:
    request = AuthzRequest(principal_arn=BOB, action=action, resource=resource, context=context or {})
    return evaluate([parse_policy(doc(*statements))], request).outcome


@pytest.mark.parametrize(("action", "outcome"), [("s3:GetObject", A), ("iam:CreateUser", N), ("IAM:createuser", N)])
def test_not_action_allow_grants_every_other_action(action: str, outcome: Outcome) -> None:
    assert decide({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, action=action) is outcome


@pytest.mark.parametrize(("action", "outcome"), [("iam:GetUser", A), ("iam:DeleteUser", D), ("s3:GetObject", D)])
def test_not_action_deny_denies_every_other_action_and_grants_nothing(action: str, outcome: Outcome) -> None:
    statements = [{"Effect": "Deny", "NotAction": "iam:Get*", "Resource": "*"},
                  {"Effect": "Allow", "Action": "*", "Resource": "*"}]
    assert decide(*statements, action=action) is outcome
    assert decide(statements[0], action=action) in (D, N)  # a Deny alone never allows


@pytest.mark.parametrize(
    ("resource", "outcome"),
    [(ALICE, A), (BOB, N), (f"arn:aws:iam::{ACCOUNT}:user/admins/root", N), (f"arn:aws:iam::{OTHER}:user/x", A)],
)
def test_not_resource_allow(resource: str, outcome: Outcome) -> None:
    statement = {"Effect": "Allow", "Action": "iam:*",
                 "NotResource": [BOB, f"arn:aws:iam::{ACCOUNT}:user/admins/*"]}
    assert decide(statement, action="iam:GetUser", resource=resource) is outcome


@pytest.mark.parametrize(("resource", "outcome"), [(f"{BUCKET}/public/a", A), (f"{BUCKET}/private/a", D)])
def test_not_resource_deny(resource: str, outcome: Outcome) -> None:
    statements = [{"Effect": "Deny", "Action": "s3:*", "NotResource": f"{BUCKET}/public/*"},
                  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    assert decide(*statements, action="s3:GetObject", resource=resource) is outcome


def test_not_action_with_not_resource_needs_both_outside_their_lists() -> None:
    statement = {"Effect": "Deny", "NotAction": "s3:GetObject", "NotResource": f"{BUCKET}/public/*"}
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert decide(statement, allow, action="s3:PutObject", resource=f"{BUCKET}/private/a") is D
    assert decide(statement, allow, action="s3:GetObject", resource=f"{BUCKET}/private/a") is A
    assert decide(statement, allow, action="s3:PutObject", resource=f"{BUCKET}/public/a") is A


def test_explicit_deny_wins_in_any_policy_and_any_order() -> None:
    allow = {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": BOB}
    request = AuthzRequest(principal_arn=BOB, action="iam:DeleteUser", resource=BOB)
    for order in ([allow, deny], [deny, allow]):
        assert evaluate([parse_policy(doc(*order))], request).outcome is D
    split = [parse_policy(doc(allow)), parse_policy(doc(deny))]
    assert evaluate(split, request).outcome is D
    assert evaluate(split[::-1], request).outcome is D


def test_a_deny_whose_condition_fails_does_not_deny() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert decide(deny, allow, action="iam:GetUser", context={"aws:SecureTransport": "true"}) is A
    assert decide(deny, allow, action="iam:GetUser", context={"aws:SecureTransport": "false"}) is D
