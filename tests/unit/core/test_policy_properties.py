"""Invariants of the policy evaluator, on generated policies and requests (hypothesis): an explicit deny always
wins; adding an Allow never removes access; adding a Deny never grants; a permissions boundary never widens
access; statement and policy order do not matter; NotAction and NotResource are complements; wildcard
matching agrees with a reference matcher; policy variables substitute; the simulator's explanation agrees
with the evaluator."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vestibule.core.policy import (
    AuthzRequest,
    Effect,
    Outcome,
    Policy,
    Target,
    evaluate,
    parse_policy,
    principal_keys,
    statement_applies,
    statement_in_scope,
)
from vestibule.core.policy_conditions import glob_match
from vestibule.core.policy_explain import explain
from vestibule.services.iam.simulation import IDENTITY, Setup, SourcedPolicy, decide_request

ACCOUNT = "123456789012"
USERS = ("alice", "bob", "carol")
ACTIONS = ("iam:GetUser", "iam:ListUsers", "iam:CreateUser", "iam:DeleteUser", "s3:GetObject", "s3:PutObject")
ACTION_PATTERNS = (*ACTIONS, "*", "iam:*", "s3:*", "iam:Get*", "*:List*", "iam:?etUser", "IAM:getuser",
                   "s3:*Object", "iam:*User*")
RESOURCES = (*(f"arn:aws:iam::{ACCOUNT}:user/{u}" for u in USERS), f"arn:aws:iam::{ACCOUNT}:user/ops/alice",
             "arn:aws:s3:::reports/2024/a.csv", "arn:aws:s3:::reports/b.csv", "*")
RESOURCE_PATTERNS = ("*", f"arn:aws:iam::{ACCOUNT}:user/*", "arn:aws:iam::*:user/a*",
                     f"arn:aws:iam::{ACCOUNT}:user/bob", "arn:aws:s3:::reports/*", "arn:aws:s3:::reports/2024/*",
                     "arn:aws:*:*:*:*",
                     f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", "arn:aws:s3:::reports/${aws:username}/*",
                     f"arn:aws:iam::{ACCOUNT}:user/${{aws:nothing, 'carol'}}")
CONDITIONS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"StringEquals": {"aws:username": ["alice", "bob"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "ops"}},
    {"Null": {"aws:MultiFactorAuthPresent": "true"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["env*"]}},
)

FEW = settings(max_examples=80, deadline=None)  # the whole module stays under ~20 s on a loaded machine


def one_or_many(options: tuple[str, ...]) -> st.SearchStrategy[str | list[str]]:
    return st.one_of(st.sampled_from(options), st.lists(st.sampled_from(options), min_size=1, max_size=2))


_ELEMENTS = st.tuples(st.sampled_from(["Allow", "Deny"]), st.sampled_from(["Action", "Action", "NotAction"]),
                      one_or_many(ACTION_PATTERNS), st.sampled_from(["Resource", "Resource", "NotResource"]),
                      one_or_many(RESOURCE_PATTERNS), st.sampled_from(CONDITIONS))


def _statement(elements: tuple[str, str, Any, str, Any, dict[str, Any] | None],
               effect: str | None = None) -> dict[str, Any]:
    chosen, action_key, actions, resource_key, resources, condition = elements
    statement: dict[str, Any] = {"Effect": effect or chosen, action_key: actions, resource_key: resources}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def statements(effect: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return _ELEMENTS.map(lambda elements: _statement(elements, effect))


def document(items: list[dict[str, Any]], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": items})


policy_texts = st.builds(document, st.lists(statements(), min_size=1, max_size=3),
                         st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17"]))
policy_sets = st.lists(policy_texts, min_size=1, max_size=3)


@st.composite
def requests(draw: st.DrawFn) -> AuthzRequest:
    user = draw(st.sampled_from(USERS))
    context: dict[str, Any] = {}
    if draw(st.booleans()):
        context["aws:SecureTransport"] = draw(st.sampled_from(["true", "false"]))
    if draw(st.booleans()):
        context["aws:SourceIp"] = draw(st.sampled_from(["10.1.2.3", "192.0.2.1"]))
    if draw(st.booleans()):
        context["aws:PrincipalTag/team"] = draw(st.sampled_from(["ops", "dev"]))
    if draw(st.booleans()):
        context["aws:MultiFactorAuthPresent"] = "true"
    if draw(st.booleans()):
        context["aws:TagKeys"] = draw(st.lists(st.sampled_from(["env", "environment", "team"]), max_size=2))
    return AuthzRequest(principal_arn=f"arn:aws:iam::{ACCOUNT}:user/{user}", action=draw(st.sampled_from(ACTIONS)),
                        resource=draw(st.sampled_from(RESOURCES)), context=context)


def decide(texts: list[str], request: AuthzRequest) -> Outcome:
    return evaluate([parse_policy(t) for t in texts], request).outcome


def allowed(texts: list[str], request: AuthzRequest) -> bool:
    return decide(texts, request) is Outcome.ALLOW


def applies_anywhere(texts: list[str], request: AuthzRequest, effect: Effect) -> bool:
    context = principal_keys(request.context, request.principal_arn)
    target = Target(request.action, request.resource)
    return any(statement.effect is effect and statement_applies(statement, policy, target, context)
               for policy in (parse_policy(t) for t in texts) for statement in policy.statements)


@FEW
@given(policy_sets, requests())
def test_a_deny_that_applies_always_wins(texts: list[str], request: AuthzRequest) -> None:
    outcome = decide(texts, request)
    assert (outcome is Outcome.EXPLICIT_DENY) == applies_anywhere(texts, request, Effect.DENY)
    if outcome is Outcome.ALLOW:
        assert applies_anywhere(texts, request, Effect.ALLOW)
    blanket = document([{"Effect": "Deny", "Action": "*", "Resource": "*"}])
    assert decide([*texts, blanket], request) is Outcome.EXPLICIT_DENY
    assert decide([blanket, *texts], request) is Outcome.EXPLICIT_DENY


@FEW
@given(policy_sets, requests(), statements(effect="Allow"), st.booleans())
def test_adding_an_allow_never_removes_access(texts: list[str], request: AuthzRequest, extra: dict[str, Any],
                                              own_policy: bool) -> None:
    before = decide(texts, request)
    if own_policy:
        after = decide([*texts, document([extra])], request)
    else:
        widened = json.loads(texts[0])
        widened["Statement"].append(extra)
        after = decide([json.dumps(widened), *texts[1:]], request)
    if before is Outcome.ALLOW:
        assert after is Outcome.ALLOW
    if before is Outcome.EXPLICIT_DENY:
        assert after is Outcome.EXPLICIT_DENY


@FEW
@given(policy_sets, requests(), statements(effect="Deny"))
def test_adding_a_deny_never_grants(texts: list[str], request: AuthzRequest, extra: dict[str, Any]) -> None:
    before = decide(texts, request)
    after = decide([*texts, document([extra])], request)
    if before is not Outcome.ALLOW:
        assert after is not Outcome.ALLOW
    else:
        assert after in (Outcome.ALLOW, Outcome.EXPLICIT_DENY)


def _sourced(texts: list[str]) -> list[SourcedPolicy]:
    return [SourcedPolicy(f"PolicyInputList.{n}", IDENTITY, t, parse_policy(t)) for n, t in enumerate(texts, 1)]


def _combined(identity: list[str], boundary: str | None, request: AuthzRequest) -> Outcome:
    setup = Setup(_sourced(identity), _sourced([boundary])[0] if boundary else None, None, [],
                  request.principal_arn, ACCOUNT, None, request.context)
    return decide_request(setup, request.action, request.resource).decision


@FEW
@given(policy_sets, policy_texts, requests())
def test_a_permissions_boundary_never_widens_access(identity: list[str], boundary: str,
                                                    request: AuthzRequest) -> None:
    unbounded = _combined(identity, None, request)
    bounded = _combined(identity, boundary, request)
    assert unbounded is decide(identity, request)
    if bounded is Outcome.ALLOW:
        assert unbounded is Outcome.ALLOW and allowed([boundary], request)
    if unbounded is Outcome.EXPLICIT_DENY:
        assert bounded is Outcome.EXPLICIT_DENY


@FEW
@given(policy_sets, requests(), st.randoms(use_true_random=False))
def test_statement_and_policy_order_do_not_matter(texts: list[str], request: AuthzRequest, rng: Any) -> None:
    shuffled = []
    for text in texts:
        body = json.loads(text)
        rng.shuffle(body["Statement"])
        shuffled.append(json.dumps(body))
    rng.shuffle(shuffled)
    assert decide(shuffled, request) is decide(texts, request)


@FEW
@given(statements(), requests())
def test_not_action_and_not_resource_are_complements(statement: dict[str, Any], request: AuthzRequest) -> None:
    def flipped(raw: dict[str, Any], name: str) -> dict[str, Any]:
        positive, negative = name, f"Not{name}"
        out = dict(raw)
        if positive in out:
            out[negative] = out.pop(positive)
        else:
            out[positive] = out.pop(negative)
        return out

    def in_scope(raw: dict[str, Any]) -> bool:
        policy: Policy = parse_policy(document([raw]))
        context = principal_keys(request.context, request.principal_arn)
        return statement_in_scope(policy.statements[0], policy, Target(request.action, request.resource), context)

    base = {key: value for key, value in statement.items() if key != "Condition"}
    for name, other in (("Action", "Resource"), ("Resource", "Action")):
        fixed = {key: value for key, value in base.items() if not key.endswith(other)}
        fixed[other] = "*"  # only the element under test decides
        assert in_scope(fixed) != in_scope(flipped(fixed, name))


def reference_glob(pattern: str, value: str, *, arn: bool, ignore_case: bool = False) -> bool:
    """An independent reading of AWS's wildcards: `*` any run, `?` one character; in an ARN each of the first
    five colon-separated segments is matched on its own, the rest (the resource part) as a whole."""
    def one(p: str, v: str) -> bool:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p)
        return re.fullmatch(regex, v, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None

    if pattern == "*" or not arn:
        return pattern == "*" or one(pattern, value)
    parts = pattern.split(":", 5)
    values = value.split(":", len(parts) - 1)
    return len(values) == len(parts) and all(one(p, v) for p, v in zip(parts, values, strict=True))


@settings(max_examples=300, deadline=None)
@given(st.text("ab:*?/", max_size=10), st.text("ab:/", max_size=10), st.booleans(), st.booleans())
def test_wildcards_agree_with_a_reference_matcher(pattern: str, value: str, arn: bool, fold: bool) -> None:
    if fold:
        value = value.upper()
    assert glob_match(pattern, value, arn=arn, ignore_case=fold) == reference_glob(pattern, value, arn=arn,
                                                                                  ignore_case=fold)


names = st.text("abAB*?-_.", min_size=1, max_size=6)


@FEW
@given(names, names, st.booleans())
def test_policy_variables_substitute_literally(user: str, requested: str, defaulted: bool) -> None:
    pattern = "arn:aws:iam::123456789012:user/team/${aws:username}"
    context = {"aws:username": (user,)}
    if defaulted:
        pattern = "arn:aws:iam::123456789012:user/team/${aws:absent, '" + user + "'}"
    resource = f"arn:aws:iam::123456789012:user/team/{requested}"
    # the value is inserted as text: a `*` or `?` in a user name is no wildcard
    assert glob_match(pattern, resource, context, arn=True) == (requested == user)
    assert glob_match(pattern, resource, {}, arn=True) == (defaulted and requested == user)
    assert glob_match(pattern, resource, None, arn=True) == (resource == pattern)  # 2008-10-17: no variables


@FEW
@given(policy_sets, requests())
def test_the_explanation_agrees_with_the_evaluator(texts: list[str], request: AuthzRequest) -> None:
    policies = [parse_policy(t) for t in texts]
    decision = evaluate(policies, request)
    found = explain(policies, request)
    assert found.outcome is decision.outcome
    if decision.statement is not None:
        assert (decision.policy_index, decision.statement) in [(m.policy_index, m.statement)
                                                               for m in found.statements]
    expected = Effect.DENY if decision.outcome is Outcome.EXPLICIT_DENY else Effect.ALLOW
    assert all(m.statement.effect is expected for m in found.statements)
