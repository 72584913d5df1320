"""IAM policy documents: parsing rules, identity and trust evaluation, messages, AWS managed policies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vestibule.core.policy import (
    AWS_MANAGED_POLICIES,
    MANAGED_POLICY_MAX_SIZE,
    VERSION_2008,
    VERSION_2012,
    AuthzRequest,
    ContextValue,
    Decision,
    Effect,
    MalformedPolicy,
    Outcome,
    Policy,
    PolicyTooLarge,
    TrustPrincipal,
    access_denied_message,
    aws_managed_policy,
    check_policy_size,
    evaluate,
    evaluate_trust,
    parse_policy,
    policy_size,
    request_context,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci"


def doc(*statements: Mapping[str, object], version: str | None = VERSION_2012, **top: object) -> str:
    body: dict[str, object] = {"Statement": list(statements), **top}
    if version is not None:
        body["Version"] = version
    return json.dumps(body)


def allow(action: object = "*", resource: object = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object = "*", resource: object = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(
    statements: list[dict[str, object]],
    action: str,
    resource: str = "*",
    context: Mapping[str, ContextValue] | None = None,
    principal: str = BOB,
    version: str | None = VERSION_2012,
) -> Outcome:
    policy = parse_policy(doc(*statements, version=version))
    return evaluate([policy], AuthzRequest(principal, action, resource, context or {})).outcome


A, D, N = Outcome.ALLOW, Outcome.EXPLICIT_DENY, Outcome.IMPLICIT_DENY  # allow, deny, no decision


# --- parsing: accepted documents ------------------------------------------------------------------


def test_parse_full_identity_policy() -> None:
    policy = parse_policy(
        doc(
            allow(["iam:Get*", "iam:List*"], BOB, Sid="Read"),
            {
                "Sid": "NoDeletes",
                "Effect": "Deny",
                "NotAction": "iam:Get*",
                "NotResource": ["arn:aws:iam::*:user/${aws:username}"],
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": False}},
            },
            Id="example",
        )
    )
    assert policy.kind == "identity"
    assert policy.version == VERSION_2012
    assert policy.id == "example"
    assert policy.substitutes_variables
    first, second = policy.statements
    assert (first.index, first.sid, first.effect, first.actions, first.not_action) == (
        0,
        "Read",
        Effect.ALLOW,
        ("iam:Get*", "iam:List*"),
        False,
    )
    assert (first.resources, first.not_resource, first.conditions) == ((BOB,), False, ())
    assert (second.sid, second.effect, second.not_action, second.not_resource) == ("NoDeletes", Effect.DENY, True, True)
    assert second.conditions[0].values == ("false",)


@pytest.mark.parametrize(
    "document",
    [
        doc(allow()),
        doc(allow(), version=VERSION_2008),
        doc(allow(), version=None),
        json.dumps({"Version": VERSION_2012, "Statement": allow()}),  # one statement as an object
        doc(allow(Sid="")),
        doc(allow(Sid="A1"), allow(Sid="B2")),
        doc(allow(Sid=""), allow(Sid="")),  # empty Sids need not be unique
        doc(allow(["iam:CreateUser"], [BOB, ALICE])),
        doc(allow("iam:*")),
        doc(allow("*:Get*")),
        doc(allow("execute-api:Invoke")),
        doc(allow("iam:Get?ser")),
        doc(allow("IAM:getuser")),
        doc(allow(resource="arn:aws:s3:::bucket/${aws:username}/*")),
        doc(allow(Condition={})),
        doc(allow(Condition={"StringEquals": {"aws:RequestTag/Cost Center": "x"}})),
        "  \n" + doc(allow()) + "\n",
    ],
)
def test_parse_accepts(document: str) -> None:
    assert parse_policy(document).statements


def test_absent_version_means_2008() -> None:
    policy = parse_policy(doc(allow(), version=None))
    assert policy.version == VERSION_2008
    assert not policy.substitutes_variables


# --- parsing: malformed documents -----------------------------------------------------------------

MALFORMED: list[tuple[str, str, str]] = [
    # (case, document, expected message fragment)
    ("invalid json", "{", "Syntax errors in policy."),
    ("empty", "", "Syntax errors in policy."),
    ("trailing garbage", doc(allow()) + "x", "Syntax errors in policy."),
    ("NaN", '{"Version": "2012-10-17", "Statement": [], "Id": NaN}', "Syntax errors"),
    ("not an object: list", "[]", "Syntax errors in policy."),
    ("not an object: string", '"policy"', "Syntax errors in policy."),
    ("not an object: null", "null", "Syntax errors in policy."),
    ("bad version", doc(allow(), version="2012-10-18"), "The policy failed legacy parsing"),
    ("version as number", json.dumps({"Version": 2012, "Statement": [allow()]}), "legacy parsing"),
    ("version empty", doc(allow(), version=""), "legacy parsing"),
    ("no statement", json.dumps({"Version": VERSION_2012}), "Missing required field Statement"),
    ("statement string", json.dumps({"Version": VERSION_2012, "Statement": "x"}), "Syntax errors"),
    ("statement empty list", doc(), "Syntax errors"),
    ("statement list of strings", json.dumps({"Version": VERSION_2012, "Statement": ["x"]}), "Syntax errors"),
    ("unknown top-level key", doc(allow(), Extra=1), "Unknown field Extra"),
    ("lowercase top-level key", json.dumps({"version": VERSION_2012, "Statement": [allow()]}), "Unknown field"),
    ("id not a string", doc(allow(), Id=5), "Syntax errors"),
    ("duplicate key", '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": {}}', "Syntax errors"),
    ("unknown statement key", doc(allow(Actions="iam:*")), "Unknown field Actions"),
    ("missing effect", doc({"Action": "*", "Resource": "*"}), "Missing required field Effect"),
    ("effect lowercase", doc({"Effect": "allow", "Action": "*", "Resource": "*"}), "Invalid effect"),
    ("effect other", doc({"Effect": "Permit", "Action": "*", "Resource": "*"}), "Invalid effect"),
    ("effect list", doc({"Effect": ["Allow"], "Action": "*", "Resource": "*"}), "Invalid effect"),
    ("no action", doc({"Effect": "Allow", "Resource": "*"}), "must contain actions"),
    ("action and notaction", doc(allow(NotAction="iam:*")), "only one of Action and NotAction"),
    ("action empty list", doc(allow([])), "Syntax errors"),
    ("action number", doc(allow(5)), "Syntax errors"),
    ("action list with number", doc(allow(["iam:GetUser", 5])), "Syntax errors"),
    ("action without vendor", doc(allow("CreateUser")), "must be prefaced by a vendor"),
    ("action empty", doc(allow("")), "must be prefaced by a vendor"),
    ("action empty name", doc(allow("iam:")), "not in the form"),
    ("action empty vendor", doc(allow(":CreateUser")), "not in the form"),
    ("action with space", doc(allow("iam:Create User")), "not in the form"),
    ("action two colons", doc(allow("iam:Create:User")), "not in the form"),
    ("no resource", doc({"Effect": "Allow", "Action": "*"}), "must contain resources"),
    ("resource and notresource", doc(allow(NotResource="*")), "only one of Resource and NotResource"),
    ("resource not arn", doc(allow(resource="bucket")), 'must be in ARN format or "*"'),
    ("resource empty", doc(allow(resource="")), "must be in ARN format"),
    ("resource empty list", doc(allow(resource=[])), "Syntax errors"),
    ("resource object", doc(allow(resource={"a": 1})), "Syntax errors"),
    ("principal in identity policy", doc(allow(Principal="*")), "should not specify a principal"),
    ("notprincipal in identity policy", doc(allow(NotPrincipal={"AWS": ROOT})), "should not specify a principal"),
    ("duplicate sid", doc(allow(Sid="Same"), deny(Sid="Same")), "must be unique"),
    ("sid with dash", doc(allow(Sid="my-sid")), "alpha-numeric"),
    ("sid not a string", doc(allow(Sid=5)), "alpha-numeric"),
    ("condition not an object", doc(allow(Condition=[])), "Syntax errors"),
    ("condition operator unknown", doc(allow(Condition={"StringEqual": {"aws:username": "x"}})), "Unknown condition"),
    ("condition key shape", doc(allow(Condition={"StringEquals": "x"})), "Syntax errors"),
    ("condition key without vendor", doc(allow(Condition={"StringEquals": {"username": "x"}})), "prefaced by a vendor"),
    ("condition bad ip", doc(allow(Condition={"IpAddress": {"aws:SourceIp": "1.2.3"}})), "Invalid value"),
    ("condition bad date", doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "x"}})), "Invalid value"),
    ("statement not an object", json.dumps({"Version": VERSION_2012, "Statement": [allow(), 3]}), "Syntax errors"),
]


@pytest.mark.parametrize(("case", "document", "message"), MALFORMED, ids=[case for case, _, _ in MALFORMED])
def test_parse_rejects(case: str, document: str, message: str) -> None:
    with pytest.raises(MalformedPolicy) as raised:
        parse_policy(document)
    assert message in raised.value.message
    assert str(raised.value) == raised.value.message


TRUST_MALFORMED: list[tuple[str, dict[str, object], str]] = [
    ("no principal", {"Effect": "Allow", "Action": "sts:AssumeRole"}, "Missing required field Principal"),
    (
        "both principals",
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*", "NotPrincipal": {"AWS": ROOT}},
        "only one of Principal and NotPrincipal",
    ),
    (
        "resource in trust",
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*", "Resource": "*"},
        "Has prohibited field Resource",
    ),
    (
        "notresource in trust",
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*", "NotResource": "*"},
        "Has prohibited field NotResource",
    ),
    ("no action", {"Effect": "Allow", "Principal": "*"}, "must contain actions"),
    ("principal string", {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "bob"}, "Syntax errors"),
    ("principal empty", {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {}}, "Syntax errors"),
    ("principal list", {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": [ROOT]}, "Syntax errors"),
]
INVALID_PRINCIPALS: list[dict[str, object]] = [
    {"AWS": "bob"},
    {"AWS": "12345678901"},
    {"AWS": "arn:aws:iam::123456789012:user/*"},
    {"AWS": "arn:aws:iam::*:root"},
    {"AWS": "arn:aws:iam::123456789012:group/admins"},
    {"AWS": "arn:aws:s3:::bucket"},
    {"AWS": ""},
    {"AWS": [ROOT, "nope"]},
    {"AWS": []},
    {"AWS": 123456789012},
    {"Service": "*"},
    {"Service": ""},
    {"Service": "ec2 .amazonaws.com"},
    {"Federated": "*"},
    {"Robot": "r2d2"},
    {"aws": ROOT},
]


@pytest.mark.parametrize(("case", "statement", "message"), TRUST_MALFORMED, ids=[c for c, _, _ in TRUST_MALFORMED])
def test_trust_parse_rejects(case: str, statement: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedPolicy) as raised:
        parse_policy(doc(statement), kind="trust")
    assert message in raised.value.message


@pytest.mark.parametrize("principal", INVALID_PRINCIPALS)
def test_trust_parse_rejects_principal(principal: dict[str, object]) -> None:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}
    with pytest.raises(MalformedPolicy):
        parse_policy(doc(statement), kind="trust")


def test_parse_errors_are_not_cached_as_successes() -> None:
    for _ in range(2):
        with pytest.raises(MalformedPolicy):
            parse_policy("{")
    assert parse_policy(doc(allow())) is parse_policy(doc(allow()))


# --- sizes ----------------------------------------------------------------------------------------


def test_policy_size_ignores_whitespace() -> None:
    compact = doc(allow())
    pretty = json.dumps(json.loads(compact), indent=8)
    assert policy_size(pretty) == policy_size(compact) == len(compact.replace(" ", ""))


@pytest.mark.parametrize(("size", "limit", "ok"), [(6144, 6144, True), (6145, 6144, False), (2048, 2048, True)])
def test_check_policy_size(size: int, limit: int, ok: bool) -> None:
    document = "x" * size + " " * 500
    if ok:
        check_policy_size(document, limit)
    else:
        with pytest.raises(PolicyTooLarge) as raised:
            check_policy_size(document, limit)
        assert (raised.value.size, raised.value.limit) == (size, limit)
        assert str(raised.value) == f"Cannot exceed quota for PolicySize: {limit}"


def test_managed_policy_limit() -> None:
    assert MANAGED_POLICY_MAX_SIZE == 6144
    assert not issubclass(PolicyTooLarge, MalformedPolicy)  # the wire error is LimitExceeded


# --- evaluation: effects, actions, resources ------------------------------------------------------

EVALUATION: list[tuple[str, list[dict[str, object]], str, str, Outcome]] = [
    # (case, statements, action, resource, outcome)
    ("nothing", [allow("s3:GetObject")], "iam:CreateUser", ALICE, N),
    ("allow all", [allow()], "iam:CreateUser", ALICE, A),
    ("deny all", [deny()], "iam:CreateUser", ALICE, D),
    ("deny overrides allow", [allow(), deny("iam:CreateUser")], "iam:CreateUser", ALICE, D),
    ("deny first overrides allow", [deny("iam:CreateUser"), allow()], "iam:CreateUser", ALICE, D),
    ("deny elsewhere", [allow(), deny("iam:DeleteUser")], "iam:CreateUser", ALICE, A),
    ("deny other resource", [allow(), deny("*", BOB)], "iam:CreateUser", ALICE, A),
    ("exact action", [allow("iam:CreateUser")], "iam:CreateUser", ALICE, A),
    ("action case-insensitive", [allow("IAM:createuser")], "iam:CreateUser", ALICE, A),
    ("request action case", [allow("iam:CreateUser")], "IAM:CREATEUSER", ALICE, A),
    ("service wildcard", [allow("iam:*")], "iam:CreateUser", ALICE, A),
    ("other service", [allow("sts:*")], "iam:CreateUser", ALICE, N),
    ("prefix wildcard", [allow("iam:Create*")], "iam:CreateUser", ALICE, A),
    ("prefix wildcard miss", [allow("iam:Delete*")], "iam:CreateUser", ALICE, N),
    ("question mark", [allow("iam:?etUser")], "iam:GetUser", ALICE, A),
    ("question mark miss", [allow("iam:?etUser")], "iam:GetUsers", ALICE, N),
    ("action list", [allow(["iam:GetUser", "iam:CreateUser"])], "iam:CreateUser", ALICE, A),
    ("vendor wildcard", [allow("*:Get*")], "iam:GetUser", ALICE, A),
    (
        "NotAction allows the rest",
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        "sts:GetSessionToken",
        "*",
        A,
    ),
    ("NotAction excludes", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], "iam:CreateUser", ALICE, N),
    (
        "NotAction list",
        [{"Effect": "Allow", "NotAction": ["iam:Delete*", "iam:Put*"], "Resource": "*"}],
        "iam:DeleteUser",
        ALICE,
        N,
    ),
    (
        "deny NotAction",
        [allow(), {"Effect": "Deny", "NotAction": "iam:Get*", "Resource": "*"}],
        "iam:CreateUser",
        ALICE,
        D,
    ),
    (
        "deny NotAction spares",
        [allow(), {"Effect": "Deny", "NotAction": "iam:Get*", "Resource": "*"}],
        "iam:GetUser",
        ALICE,
        A,
    ),
    ("exact resource", [allow("*", ALICE)], "iam:CreateUser", ALICE, A),
    ("other resource", [allow("*", BOB)], "iam:CreateUser", ALICE, N),
    ("resource case-sensitive", [allow("*", ALICE.replace("alice", "Alice"))], "iam:CreateUser", ALICE, N),
    ("resource wildcard", [allow("*", f"arn:aws:iam::{ACCOUNT}:user/*")], "iam:CreateUser", ALICE, A),
    ("resource other type", [allow("*", f"arn:aws:iam::{ACCOUNT}:role/*")], "iam:CreateUser", ALICE, N),
    ("resource any account", [allow("*", "arn:aws:iam::*:user/alice")], "iam:CreateUser", ALICE, A),
    ("resource other account", [allow("*", f"arn:aws:iam::{OTHER_ACCOUNT}:user/*")], "iam:CreateUser", ALICE, N),
    ("resource question mark", [allow("*", f"arn:aws:iam::{ACCOUNT}:user/alic?")], "iam:CreateUser", ALICE, A),
    ("resource list", [allow("*", [BOB, ALICE])], "iam:CreateUser", ALICE, A),
    ("resource-less action needs *", [allow("*", f"arn:aws:iam::{ACCOUNT}:*")], "iam:ListUsers", "*", N),
    ("resource-less action with *", [allow("iam:ListUsers", "*")], "iam:ListUsers", "*", A),
    (
        "NotResource allows the rest",
        [{"Effect": "Allow", "Action": "*", "NotResource": BOB}],
        "iam:CreateUser",
        ALICE,
        A,
    ),
    ("NotResource excludes", [{"Effect": "Allow", "Action": "*", "NotResource": BOB}], "iam:CreateUser", BOB, N),
    (
        "NotResource wildcard",
        [{"Effect": "Allow", "Action": "*", "NotResource": f"arn:aws:iam::{ACCOUNT}:user/*"}],
        "iam:CreateRole",
        ROLE,
        A,
    ),
    (
        "deny NotResource",
        [allow(), {"Effect": "Deny", "Action": "*", "NotResource": [BOB]}],
        "iam:UpdateUser",
        ALICE,
        D,
    ),
    (
        "deny NotResource spares",
        [allow(), {"Effect": "Deny", "Action": "*", "NotResource": [BOB]}],
        "iam:UpdateUser",
        BOB,
        A,
    ),
    (
        "NotAction and NotResource",
        [{"Effect": "Allow", "NotAction": "iam:Delete*", "NotResource": BOB}],
        "iam:UpdateUser",
        ALICE,
        A,
    ),
    (
        "allow needs action and resource",
        [allow("iam:GetUser", ALICE), allow("iam:CreateUser", BOB)],
        "iam:CreateUser",
        ALICE,
        N,
    ),
]


@pytest.mark.parametrize(
    ("case", "statements", "action", "resource", "outcome"), EVALUATION, ids=[c for c, *_ in EVALUATION]
)
def test_evaluate(case: str, statements: list[dict[str, object]], action: str, resource: str, outcome: Outcome) -> None:
    assert decide(statements, action, resource) is outcome


def test_decision_names_the_deciding_statement() -> None:
    policies = [
        parse_policy(doc(allow("iam:Get*", Sid="Read"))),
        parse_policy(doc(allow("iam:*", Sid="All"), deny("iam:DeleteUser", Sid="NoDelete"))),
    ]
    allowed = evaluate(policies, AuthzRequest(BOB, "iam:GetUser", ALICE))
    assert allowed.allowed and not allowed.explicit
    assert (allowed.policy_index, allowed.statement and allowed.statement.sid) == (0, "Read")
    denied = evaluate(policies, AuthzRequest(BOB, "iam:DeleteUser", ALICE))
    assert denied.explicit and not denied.allowed
    assert (denied.policy_index, denied.statement and denied.statement.sid) == (1, "NoDelete")
    assert evaluate(policies, AuthzRequest(BOB, "sts:GetFederationToken", "*")) == Decision(Outcome.IMPLICIT_DENY)
    assert evaluate([], AuthzRequest(BOB, "iam:GetUser", ALICE)) == Decision(Outcome.IMPLICIT_DENY)


def test_deny_in_a_later_policy_overrides_allow_in_an_earlier_one() -> None:
    policies = [parse_policy(doc(allow())), parse_policy(doc(allow())), parse_policy(doc(deny("iam:*User")))]
    decision = evaluate(policies, AuthzRequest(BOB, "iam:CreateUser", ALICE))
    assert (decision.outcome, decision.policy_index) == (D, 2)


def test_outcome_values_are_simulate_policy_strings() -> None:
    assert [o.value for o in Outcome] == ["explicitDeny", "allowed", "implicitDeny"]


def test_evaluate_refuses_trust_policies() -> None:
    trust = parse_policy(doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}), kind="trust")
    with pytest.raises(ValueError, match="identity"):
        evaluate([trust], AuthzRequest(BOB, "sts:AssumeRole", ROLE))
    with pytest.raises(ValueError, match="trust"):
        evaluate_trust(parse_policy(doc(allow())), TrustPrincipal.aws(BOB))


# --- evaluation: policy variables -----------------------------------------------------------------

OWN_USER = "arn:aws:iam::*:user/${aws:username}"
VARIABLE_CASES: list[tuple[str, object, str, dict[str, ContextValue], str | None, Outcome]] = [
    # (case, resource pattern, request resource, context, version, outcome)
    ("own user", OWN_USER, BOB, {}, VERSION_2012, A),  # aws:username comes from the user ARN
    ("someone else", OWN_USER, ALICE, {}, VERSION_2012, N),
    ("explicit username wins", OWN_USER, ALICE, {"aws:username": "alice"}, VERSION_2012, A),
    ("2008: no substitution", OWN_USER, BOB, {}, VERSION_2008, N),
    ("no version: no substitution", OWN_USER, BOB, {}, None, N),
    ("2008: literal text", OWN_USER, "arn:aws:iam::1:user/${aws:username}", {}, VERSION_2008, A),
    (
        "userid",
        "arn:aws:s3:::home/${aws:userid}/*",
        "arn:aws:s3:::home/AIDA1/x",
        {"aws:userid": "AIDA1"},
        VERSION_2012,
        A,
    ),
    ("missing key", "arn:aws:s3:::home/${aws:userid}/*", "arn:aws:s3:::home//x", {}, VERSION_2012, N),
    (
        "missing key, default",
        "arn:aws:s3:::home/${aws:userid, 'shared'}/*",
        "arn:aws:s3:::home/shared/x",
        {},
        VERSION_2012,
        A,
    ),
    (
        "principal arn",
        "arn:aws:s3:::by-arn/${aws:PrincipalArn}",
        f"arn:aws:s3:::by-arn/{BOB}",
        {},
        VERSION_2012,
        A,
    ),
    (
        "any context key",
        "arn:aws:s3:::t/${aws:PrincipalTag/team}",
        "arn:aws:s3:::t/blue",
        {"aws:PrincipalTag/team": "blue"},
        VERSION_2012,
        A,
    ),
    ("literal star", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", {}, VERSION_2012, A),
    ("literal star is not a wildcard", "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", {}, VERSION_2012, N),
    ("literal question mark", "arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", {}, VERSION_2012, A),
    ("literal dollar", "arn:aws:s3:::b/${$}{x}", "arn:aws:s3:::b/${x}", {}, VERSION_2012, A),
]


@pytest.mark.parametrize(
    ("case", "pattern", "resource", "context", "version", "outcome"),
    VARIABLE_CASES,
    ids=[c for c, *_ in VARIABLE_CASES],
)
def test_policy_variables_in_resource(
    case: str, pattern: object, resource: str, context: dict[str, ContextValue], version: str | None, outcome: Outcome
) -> None:
    assert decide([allow("*", pattern)], "iam:ChangePassword", resource, context, version=version) is outcome


def test_missing_variable_in_not_resource_matches_nothing() -> None:
    statement: dict[str, object] = {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::home/${aws:userid}/*"}
    assert decide([allow(), statement], "s3:GetObject", "arn:aws:s3:::home/x/y") is D


def test_username_is_derived_only_for_iam_users() -> None:
    statements = [allow("*", OWN_USER)]
    assert decide(statements, "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/deploy", principal=SESSION) is N
    assert (
        decide(
            statements,
            "iam:GetUser",
            f"arn:aws:iam::{ACCOUNT}:user/bob",
            principal=f"arn:aws:iam::{ACCOUNT}:user/eng/bob",
        )
        is A
    )


def test_variables_in_conditions_follow_the_version() -> None:
    condition = {"StringEquals": {"aws:PrincipalTag/owner": "${aws:username}"}}
    context: dict[str, ContextValue] = {"aws:PrincipalTag/owner": "bob"}
    assert decide([allow(Condition=condition)], "iam:GetUser", ALICE, context) is A
    assert decide([allow(Condition=condition)], "iam:GetUser", ALICE, context, version=VERSION_2008) is N


# --- evaluation: conditions with the global keys --------------------------------------------------

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
CONDITION_CASES: list[tuple[str, dict[str, object], dict[str, ContextValue], Outcome]] = [
    ("mfa present", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {"aws:MultiFactorAuthPresent": "true"}, A),
    ("mfa absent", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {"aws:MultiFactorAuthPresent": "false"}, N),
    ("mfa key missing", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {}, N),
    ("mfa age ok", {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {"aws:MultiFactorAuthAge": "120"}, A),
    ("mfa age old", {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {"aws:MultiFactorAuthAge": "7200"}, N),
    ("mfa age missing", {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {}, N),
    (
        "source ip in",
        {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
        {"aws:SourceIp": "2001:db8::5"},
        A,
    ),
    ("source ip out", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.2"}, N),
    ("https", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, A),
    ("http", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, N),
    (
        "before deadline",
        {"DateLessThan": {"aws:CurrentTime": "2024-12-31T00:00:00Z"}},
        {"aws:CurrentTime": "2024-03-01T12:00:00Z"},
        A,
    ),
    (
        "after deadline",
        {"DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2024-03-01T12:00:00Z"},
        N,
    ),
    ("epoch time", {"DateGreaterThan": {"aws:EpochTime": "1700000000"}}, {"aws:EpochTime": "1709294400"}, A),
    ("account", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, {}, A),  # derived from the principal ARN
    ("other account", {"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}}, {}, N),
    ("principal arn", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/*"}}, {}, A),
    ("principal arn role", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, {}, N),
    ("username", {"StringEquals": {"aws:username": "bob"}}, {}, A),
    ("userid", {"StringLike": {"aws:userid": "AIDA*"}}, {"aws:userid": "AIDAEXAMPLE"}, A),
    ("custom key", {"StringEquals": {"vestibule:Tier": "gold"}}, {"vestibule:Tier": "gold"}, A),
    ("key case", {"StringEquals": {"AWS:USERNAME": "bob"}}, {}, A),
    (
        "all keys must hold",
        {"Bool": {"aws:SecureTransport": "true"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SecureTransport": "true", "aws:SourceIp": "11.0.0.1"},
        N,
    ),
]


@pytest.mark.parametrize(
    ("case", "condition", "context", "outcome"), CONDITION_CASES, ids=[c for c, *_ in CONDITION_CASES]
)
def test_conditions_in_statements(
    case: str, condition: dict[str, object], context: dict[str, ContextValue], outcome: Outcome
) -> None:
    assert decide([allow(Condition=condition)], "iam:GetUser", ALICE, context) is outcome


@pytest.mark.parametrize(
    ("context", "outcome"),
    [
        ({}, A),  # long-term keys: the key is absent, so plain Bool does not match and the deny is skipped
        ({"aws:MultiFactorAuthPresent": "false"}, D),
        ({"aws:MultiFactorAuthPresent": "true"}, A),
    ],
)
def test_deny_without_mfa_pattern(context: dict[str, ContextValue], outcome: Outcome) -> None:
    statements = [
        allow(),
        deny("iam:Delete*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
    ]
    assert decide(statements, "iam:DeleteUser", ALICE, context) is outcome


@pytest.mark.parametrize(
    ("context", "outcome"),
    [({}, D), ({"aws:MultiFactorAuthPresent": "false"}, D), ({"aws:MultiFactorAuthPresent": "true"}, A)],
)
def test_deny_without_mfa_if_exists_pattern(context: dict[str, ContextValue], outcome: Outcome) -> None:
    statements = [
        allow(),
        deny("iam:Delete*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
    ]
    # BoolIfExists: absent key -> the deny applies, as AWS's "deny unless MFA" examples intend.
    assert decide(statements, "iam:DeleteUser", ALICE, context) is outcome


def test_deny_outside_network_with_not_ip_address() -> None:
    statements = [allow(), deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})]
    assert decide(statements, "iam:GetUser", ALICE, {"aws:SourceIp": "10.1.1.1"}) is A
    assert decide(statements, "iam:GetUser", ALICE, {"aws:SourceIp": "192.0.2.1"}) is D
    assert decide(statements, "iam:GetUser", ALICE, {}) is D  # missing key: the negated operator holds


# --- request context ------------------------------------------------------------------------------


def test_request_context() -> None:
    context = request_context(
        now=datetime(2024, 3, 1, 13, tzinfo=timezone(timedelta(hours=1))),
        source_ip="203.0.113.9",
        secure_transport=False,
        mfa_present=True,
        mfa_age_seconds=30,
        username="bob",
        userid="AIDAEXAMPLE",
        principal_arn=BOB,
        external_id="ext-1",
        extra={"vestibule:Tier": ["a", "b"]},
    )
    assert context == {
        "aws:CurrentTime": "2024-03-01T12:00:00Z",
        "aws:EpochTime": "1709294400",
        "aws:SourceIp": "203.0.113.9",
        "aws:SecureTransport": "false",
        "aws:MultiFactorAuthPresent": "true",
        "aws:MultiFactorAuthAge": "30",
        "aws:username": "bob",
        "aws:userid": "AIDAEXAMPLE",
        "aws:PrincipalArn": BOB,
        "aws:PrincipalAccount": ACCOUNT,
        "sts:ExternalId": "ext-1",
        "vestibule:Tier": ["a", "b"],
    }


def test_request_context_leaves_unknown_keys_out() -> None:
    context = request_context(now=datetime(2024, 3, 1, 12))
    assert context == {"aws:CurrentTime": "2024-03-01T12:00:00Z", "aws:EpochTime": "1709294400"}


def test_request_context_drives_date_conditions() -> None:
    context = request_context(now=NOW)
    before = {"DateLessThan": {"aws:CurrentTime": "2024-03-01T12:00:01Z"}}
    after = {"DateGreaterThan": {"aws:EpochTime": str(int(NOW.timestamp()))}}
    assert decide([allow(Condition=before)], "iam:GetUser", ALICE, context) is A
    assert decide([allow(Condition=after)], "iam:GetUser", ALICE, context) is N


# --- trust policies -------------------------------------------------------------------------------


def trust(principal: object, *, negated: bool = False, effect: str = "Allow", **extra: object) -> str:
    key = "NotPrincipal" if negated else "Principal"
    return doc({"Effect": effect, "Action": "sts:AssumeRole", key: principal, **extra})


TRUST_CASES: list[tuple[str, object, TrustPrincipal, Outcome]] = [
    ("star string: user", "*", TrustPrincipal.aws(BOB), A),
    ("star string: service", "*", TrustPrincipal.service("ec2.amazonaws.com"), A),
    ("AWS star", {"AWS": "*"}, TrustPrincipal.aws(f"arn:aws:iam::{OTHER_ACCOUNT}:user/x"), A),
    ("AWS star: not a service", {"AWS": "*"}, TrustPrincipal.service("ec2.amazonaws.com"), N),
    ("account id: user", {"AWS": ACCOUNT}, TrustPrincipal.aws(BOB), A),
    ("account id: root", {"AWS": ACCOUNT}, TrustPrincipal.aws(ROOT), A),
    ("account id: role session", {"AWS": ACCOUNT}, TrustPrincipal.aws(SESSION, role_arn=ROLE), A),
    ("account id: other account", {"AWS": ACCOUNT}, TrustPrincipal.aws(f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob"), N),
    ("root arn: user", {"AWS": ROOT}, TrustPrincipal.aws(BOB), A),
    ("root arn: root", {"AWS": ROOT}, TrustPrincipal.aws(ROOT), A),
    ("root arn: other account", {"AWS": ROOT}, TrustPrincipal.aws(f"arn:aws:iam::{OTHER_ACCOUNT}:root"), N),
    ("user arn", {"AWS": BOB}, TrustPrincipal.aws(BOB), A),
    ("user arn: other user", {"AWS": BOB}, TrustPrincipal.aws(ALICE), N),
    ("user arn: root is not the user", {"AWS": BOB}, TrustPrincipal.aws(ROOT), N),
    ("role arn: role session", {"AWS": ROLE}, TrustPrincipal.aws(SESSION, role_arn=ROLE), A),
    ("role arn: other role's session", {"AWS": ROLE}, TrustPrincipal.aws(SESSION, role_arn=ROLE + "2"), N),
    ("assumed-role arn", {"AWS": SESSION}, TrustPrincipal.aws(SESSION, role_arn=ROLE), A),
    ("list", {"AWS": [ALICE, BOB]}, TrustPrincipal.aws(BOB), A),
    ("list miss", {"AWS": [ALICE, ROLE]}, TrustPrincipal.aws(BOB), N),
    ("service", {"Service": "ec2.amazonaws.com"}, TrustPrincipal.service("ec2.amazonaws.com"), A),
    (
        "service list",
        {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
        TrustPrincipal.service("ec2.amazonaws.com"),
        A,
    ),
    ("service other", {"Service": "ec2.amazonaws.com"}, TrustPrincipal.service("lambda.amazonaws.com"), N),
    ("service is not an AWS principal", {"Service": "ec2.amazonaws.com"}, TrustPrincipal.aws(BOB), N),
    ("AWS is not a service", {"AWS": ACCOUNT}, TrustPrincipal.service("ec2.amazonaws.com"), N),
    (
        "federated saml",
        {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"},
        TrustPrincipal.federated(f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"),
        A,
    ),
    ("federated oidc", {"Federated": "accounts.google.com"}, TrustPrincipal.federated("accounts.google.com"), A),
    ("federated other", {"Federated": "accounts.google.com"}, TrustPrincipal.federated("graph.facebook.com"), N),
    ("mixed types", {"AWS": BOB, "Service": "ec2.amazonaws.com"}, TrustPrincipal.service("ec2.amazonaws.com"), A),
]


@pytest.mark.parametrize(("case", "principal", "caller", "outcome"), TRUST_CASES, ids=[c for c, *_ in TRUST_CASES])
def test_trust_principals(case: str, principal: object, caller: TrustPrincipal, outcome: Outcome) -> None:
    assert evaluate_trust(parse_policy(trust(principal), kind="trust"), caller).outcome is outcome


@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_trust_not_principal_is_refused(effect: str) -> None:
    """AWS: NotPrincipal cannot be used in a role trust policy (tests/unit/core/test_policy_not_elements.py
    covers it in resource-based policies)."""
    statements = [{"Effect": effect, "Action": "sts:AssumeRole", "NotPrincipal": {"AWS": BOB}}]
    with pytest.raises(MalformedPolicy, match="NotPrincipal is not supported in a role trust policy"):
        parse_policy(doc(*statements), kind="trust")


@pytest.mark.parametrize(
    ("action", "outcome"),
    [("sts:AssumeRole", A), ("STS:assumerole", A), ("sts:TagSession", N), ("sts:AssumeRoleWithSAML", N)],
)
def test_trust_action(action: str, outcome: Outcome) -> None:
    policy = parse_policy(trust({"AWS": ACCOUNT}), kind="trust")
    assert evaluate_trust(policy, TrustPrincipal.aws(BOB), action).outcome is outcome


EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "Unique-1234"}}
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.mark.parametrize(
    ("condition", "context", "outcome"),
    [
        (EXTERNAL_ID, {"sts:ExternalId": "Unique-1234"}, A),
        (EXTERNAL_ID, {"sts:ExternalId": "unique-1234"}, N),
        (EXTERNAL_ID, {}, N),
        (MFA, {"aws:MultiFactorAuthPresent": "true"}, A),
        (MFA, {"aws:MultiFactorAuthPresent": "false"}, N),
        (MFA, {}, N),
        ({**EXTERNAL_ID, **MFA}, {"sts:ExternalId": "Unique-1234", "aws:MultiFactorAuthPresent": "true"}, A),
        ({**EXTERNAL_ID, **MFA}, {"sts:ExternalId": "Unique-1234"}, N),
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {"aws:MultiFactorAuthAge": "60"}, A),
        ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, {}, A),
        ({"ArnEquals": {"aws:PrincipalArn": ROLE}}, {}, A),  # a session's aws:PrincipalArn is its role
        ({"StringEquals": {"aws:username": "bob"}}, {}, N),  # roles have no aws:username
    ],
)
def test_trust_conditions(condition: dict[str, object], context: dict[str, ContextValue], outcome: Outcome) -> None:
    policy = parse_policy(trust({"AWS": ACCOUNT}, Condition=condition), kind="trust")
    assert evaluate_trust(policy, TrustPrincipal.aws(SESSION, role_arn=ROLE), context=context).outcome is outcome


def test_trust_conditions_for_users() -> None:
    policy = parse_policy(trust({"AWS": ROOT}, Condition={"StringEquals": {"aws:username": "bob"}}), kind="trust")
    assert evaluate_trust(policy, TrustPrincipal.aws(BOB)).allowed
    assert not evaluate_trust(policy, TrustPrincipal.aws(ALICE)).allowed


def test_trust_deny_overrides_allow() -> None:
    policy = parse_policy(
        doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ACCOUNT}},
            {"Sid": "NotBob", "Effect": "Deny", "Action": "sts:*", "Principal": {"AWS": BOB}},
        ),
        kind="trust",
    )
    assert evaluate_trust(policy, TrustPrincipal.aws(ALICE)).allowed
    decision = evaluate_trust(policy, TrustPrincipal.aws(BOB))
    assert decision.explicit and decision.statement is not None and decision.statement.sid == "NotBob"


def test_trust_principal_account() -> None:
    assert TrustPrincipal.aws(SESSION, role_arn=ROLE).account_id == ACCOUNT
    assert TrustPrincipal.aws(ROOT).account_id == ACCOUNT
    assert TrustPrincipal.service("ec2.amazonaws.com").account_id is None


def test_trust_policy_parsed_shape() -> None:
    policy = parse_policy(trust({"AWS": [ACCOUNT, BOB], "Service": "ec2.amazonaws.com"}), kind="trust")
    (statement,) = policy.statements
    assert policy.kind == "trust"
    assert statement.principals == (("AWS", ACCOUNT), ("AWS", BOB), ("Service", "ec2.amazonaws.com"))
    assert statement.resources == ()
    assert parse_policy(trust("*"), kind="trust").statements[0].principals == (("*", "*"),)


# --- AccessDenied messages ------------------------------------------------------------------------


def test_access_denied_message_implicit() -> None:
    assert access_denied_message(BOB, "iam:CreateUser", ALICE, False) == (
        "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:CreateUser "
        "on resource: arn:aws:iam::123456789012:user/alice "
        "because no identity-based policy allows the iam:CreateUser action"
    )


def test_access_denied_message_explicit() -> None:
    assert access_denied_message(BOB, "iam:CreateUser", ALICE, True) == (
        "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:CreateUser "
        "on resource: arn:aws:iam::123456789012:user/alice with an explicit deny in an identity-based policy"
    )


def test_access_denied_message_resource_based() -> None:
    message = access_denied_message(BOB, "sts:AssumeRole", ROLE, True, policy_type="resource-based")
    assert message.endswith("with an explicit deny in a resource-based policy")
    message = access_denied_message(BOB, "sts:AssumeRole", ROLE, False, policy_type="resource-based")
    assert message.endswith("because no resource-based policy allows the sts:AssumeRole action")


# --- AWS managed policies -------------------------------------------------------------------------

REQUIRED_MANAGED = [
    "AdministratorAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "IAMUserChangePassword",
    "ReadOnlyAccess",
    "ViewOnlyAccess",
    "PowerUserAccess",
    "SecurityAudit",
]


@pytest.mark.parametrize("name", REQUIRED_MANAGED)
def test_managed_policy_is_valid(name: str) -> None:
    managed = AWS_MANAGED_POLICIES[name]
    assert managed.arn.startswith("arn:aws:iam::aws:policy/") and managed.arn.endswith(f"/{name}")
    policy = parse_policy(managed.document)
    assert policy.version == VERSION_2012
    assert policy_size(managed.document) <= MANAGED_POLICY_MAX_SIZE
    assert aws_managed_policy(managed.arn) == (name, managed)


def test_managed_policy_arns() -> None:
    assert AWS_MANAGED_POLICIES["AdministratorAccess"].arn == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert AWS_MANAGED_POLICIES["ViewOnlyAccess"].arn == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    assert aws_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy") is None
    with pytest.raises(TypeError):
        AWS_MANAGED_POLICIES["Mine"] = AWS_MANAGED_POLICIES["AdministratorAccess"]  # type: ignore[index]


def managed(name: str) -> Policy:
    return parse_policy(AWS_MANAGED_POLICIES[name].document)


MANAGED_CASES: list[tuple[str, str, str, str, Outcome]] = [
    # (policy, principal, action, resource, outcome)
    ("AdministratorAccess", BOB, "iam:CreateUser", ALICE, A),
    ("AdministratorAccess", BOB, "iam:DeleteAccountPasswordPolicy", "*", A),
    ("AdministratorAccess", SESSION, "sts:GetFederationToken", "*", A),
    ("AdministratorAccess", BOB, "s3:PutObject", "arn:aws:s3:::b/k", A),
    ("IAMFullAccess", BOB, "iam:CreateUser", ALICE, A),
    ("IAMFullAccess", BOB, "iam:AttachRolePolicy", ROLE, A),
    ("IAMFullAccess", BOB, "organizations:ListRoots", "*", A),
    ("IAMFullAccess", BOB, "sts:GetFederationToken", "*", N),
    ("IAMReadOnlyAccess", BOB, "iam:GetUser", ALICE, A),
    ("IAMReadOnlyAccess", BOB, "iam:ListUsers", "*", A),
    ("IAMReadOnlyAccess", BOB, "iam:ListMFADevices", BOB, A),
    ("IAMReadOnlyAccess", BOB, "iam:GetAccountSummary", "*", A),
    ("IAMReadOnlyAccess", BOB, "iam:GenerateCredentialReport", "*", A),
    ("IAMReadOnlyAccess", BOB, "iam:SimulatePrincipalPolicy", BOB, A),
    ("IAMReadOnlyAccess", BOB, "iam:CreateUser", ALICE, N),
    ("IAMReadOnlyAccess", BOB, "iam:DeleteUser", ALICE, N),
    ("IAMReadOnlyAccess", BOB, "iam:ChangePassword", BOB, N),
    ("IAMReadOnlyAccess", BOB, "iam:CreateAccessKey", BOB, N),
    ("IAMUserChangePassword", BOB, "iam:ChangePassword", BOB, A),
    ("IAMUserChangePassword", BOB, "iam:ChangePassword", ALICE, N),
    ("IAMUserChangePassword", ALICE, "iam:ChangePassword", ALICE, A),
    ("IAMUserChangePassword", BOB, "iam:GetAccountPasswordPolicy", "*", A),
    ("IAMUserChangePassword", BOB, "iam:UpdateLoginProfile", BOB, N),
    ("IAMUserChangePassword", SESSION, "iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/deploy", N),
    ("ReadOnlyAccess", BOB, "iam:GetUser", ALICE, A),
    ("ReadOnlyAccess", BOB, "iam:ListAccessKeys", ALICE, A),
    ("ReadOnlyAccess", BOB, "ec2:DescribeInstances", "*", A),
    ("ReadOnlyAccess", BOB, "sts:GetCallerIdentity", "*", A),
    ("ReadOnlyAccess", BOB, "iam:CreateUser", ALICE, N),
    ("ReadOnlyAccess", BOB, "iam:PutUserPolicy", ALICE, N),
    ("ViewOnlyAccess", BOB, "iam:ListUsers", "*", A),
    ("ViewOnlyAccess", BOB, "iam:GetAccountSummary", "*", A),
    ("ViewOnlyAccess", BOB, "iam:GetUserPolicy", ALICE, N),
    ("ViewOnlyAccess", BOB, "iam:CreateUser", ALICE, N),
    ("PowerUserAccess", BOB, "s3:PutObject", "arn:aws:s3:::b/k", A),
    ("PowerUserAccess", BOB, "sts:AssumeRole", ROLE, A),
    ("PowerUserAccess", BOB, "iam:CreateUser", ALICE, N),
    ("PowerUserAccess", BOB, "iam:ListRoles", "*", A),
    ("PowerUserAccess", BOB, "iam:CreateServiceLinkedRole", ROLE, A),
    ("PowerUserAccess", BOB, "organizations:CreateAccount", "*", N),
    ("PowerUserAccess", BOB, "account:GetAccountInformation", "*", A),
    ("PowerUserAccess", BOB, "account:PutAlternateContact", "*", N),
    ("SecurityAudit", BOB, "iam:GetAccountAuthorizationDetails", "*", A),
    ("SecurityAudit", BOB, "iam:ListUsers", "*", A),
    ("SecurityAudit", BOB, "cloudtrail:DescribeTrails", "*", A),
    ("SecurityAudit", BOB, "iam:CreateUser", ALICE, N),
]


@pytest.mark.parametrize(("name", "principal", "action", "resource", "outcome"), MANAGED_CASES)
def test_managed_policies(name: str, principal: str, action: str, resource: str, outcome: Outcome) -> None:
    assert evaluate([managed(name)], AuthzRequest(principal, action, resource)).outcome is outcome


def test_managed_plus_customer_deny() -> None:
    policies = [managed("AdministratorAccess"), parse_policy(doc(deny("iam:DeleteUser", ALICE)))]
    assert evaluate(policies, AuthzRequest(BOB, "iam:DeleteUser", ALICE)).explicit
    assert evaluate(policies, AuthzRequest(BOB, "iam:DeleteUser", BOB)).allowed
