"""IAM condition operators, wildcards and policy variables, one table per concern."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vestibule.core.policy_conditions import (
    OPERATORS,
    Condition,
    ContextValue,
    InvalidCondition,
    SetQualifier,
    condition_holds,
    conditions_hold,
    glob_match,
    normalize_context,
    parse_conditions,
    parse_date,
    parse_number,
    resolve,
)

KEY = "test:Key"


def holds(operator: str, values: object, actual: ContextValue | None, *, substitute: bool = True) -> bool:
    (condition,) = parse_conditions({operator: {KEY: values}})
    context = normalize_context({} if actual is None else {KEY: actual})
    return condition_holds(condition, context, substitute)


# --- wildcards ------------------------------------------------------------------------------------

ARN_USER = "arn:aws:iam::123456789012:user/bob"


@pytest.mark.parametrize(
    ("pattern", "value", "arn", "ignore_case", "expected"),
    [
        ("*", "anything at all", False, False, True),
        ("*", "", False, False, True),
        ("iam:*", "iam:CreateUser", False, True, True),
        ("iam:Create*", "iam:CreateUser", False, True, True),
        ("iam:create*", "IAM:CREATEUSER", False, True, True),
        ("iam:create*", "iam:CreateUser", False, False, False),
        ("iam:Get?ser", "iam:GetUser", False, True, True),
        ("iam:Get?ser", "iam:GetUUser", False, True, False),
        ("iam:*User", "iam:CreateUser", False, True, True),
        ("iam:*User", "iam:CreateUsers", False, True, False),
        ("*:Get*", "sts:GetCallerIdentity", False, True, True),
        ("*:Get*", "iam:CreateUser", False, True, False),
        ("a.b", "axb", False, False, False),  # regex metacharacters are literal
        ("a+b", "a+b", False, False, True),
        ("a[b]", "a[b]", False, False, True),
        ("x*", "x\ny", False, False, True),
        ("", "", False, False, True),
        ("", "a", False, False, False),
        # ARN mode: a wildcard stays within its segment, except in the last one.
        ("arn:aws:iam::*:user/bob", ARN_USER, True, False, True),
        ("arn:aws:iam::123456789012:user/*", ARN_USER, True, False, True),
        ("arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/a/b:c", True, False, True),
        ("arn:aws:iam::123456789012:user/B*", ARN_USER, True, False, False),  # case-sensitive
        ("arn:aws:iam::123456789012:*", ARN_USER, True, False, True),
        ("arn:aws:iam::*", ARN_USER, True, False, True),  # short pattern: its last wildcard spans the rest
        ("arn:aws:*:*:*:*", ARN_USER, True, False, True),
        ("arn:aws:*:123456789012:*", ARN_USER, True, False, False),  # region is empty, not 123456789012
        ("arn:aws:*::123456789012:*", ARN_USER, True, False, True),
        ("arn:aws:iam::?23456789012:user/bob", ARN_USER, True, False, True),
        ("arn:aws:iam::12345678901?:user/bo?", ARN_USER, True, False, True),
        ("arn:*:iam::123456789012:user/bob", ARN_USER, True, False, True),
        ("arn:aws:iam::*:user/bob", "arn:aws:iam::1:2:user/bob", True, False, False),
        ("arn:aws:iam::*:user/bob", "arn:aws:iam::1:2:user/bob", False, False, True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True, False, True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::other/a", True, False, False),
        ("arn:aws:iam::123456789012:user/bob", "*", True, False, False),
        ("arn:aws:iam::123456789012:user/bob", ARN_USER, True, False, True),
    ],
)
def test_glob_match(pattern: str, value: str, arn: bool, ignore_case: bool, expected: bool) -> None:
    assert glob_match(pattern, value, arn=arn, ignore_case=ignore_case) is expected


# --- policy variables -----------------------------------------------------------------------------

VARIABLES = normalize_context(
    {
        "aws:username": "bob",
        "aws:userid": "AIDAEXAMPLE",
        "aws:PrincipalArn": ARN_USER,
        "aws:PrincipalTag/team": "blue",
        "test:many": ["a", "b"],
        "test:empty": "",
    }
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("${aws:username}", "bob"),
        ("${AWS:USERNAME}", "bob"),  # keys are case-insensitive
        ("home/${aws:username}/*", "home/bob/*"),
        ("${aws:userid}:${aws:username}", "AIDAEXAMPLE:bob"),
        ("${aws:PrincipalArn}", ARN_USER),
        ("${aws:principaltag/team}", "blue"),
        ("${ aws:username }", "bob"),
        ("${aws:missing}", None),
        ("x${aws:missing}", None),
        ("${aws:missing, 'guest'}", "guest"),
        ("${aws:missing,'guest'}", "guest"),
        ("${aws:username, 'guest'}", "bob"),
        ("${aws:missing, ''}", ""),
        ("${test:many}", None),  # a multi-valued key is not a variable value
        ("${test:many, 'one'}", "one"),
        ("${test:empty}", ""),
        ("${*}", "*"),
        ("${?}", "?"),
        ("${$}", "$"),
        ("a${*}b${?}c${$}d", "a*b?c$d"),
        ("${not a variable}", "${not a variable}"),
        ("${", "${"),
        ("$ {aws:username}", "$ {aws:username}"),
        ("${}", "${}"),
    ],
)
def test_resolve(value: str, expected: str | None) -> None:
    assert resolve(value, VARIABLES) == expected


def test_resolve_without_substitution_is_literal() -> None:
    assert resolve("${aws:username}", None) == "${aws:username}"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:iam::*:user/${aws:username}", ARN_USER, True),
        ("arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::123456789012:user/alice", False),
        ("arn:aws:iam::*:user/${aws:missing}", ARN_USER, False),
        ("arn:aws:iam::*:user/${aws:missing, 'bob'}", ARN_USER, True),
        ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", True),  # ${*} is a literal star, not a wildcard
        ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", False),
        ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", True),
        ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", False),
        ("arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/$x", True),
        ("${aws:PrincipalArn}", ARN_USER, True),
    ],
)
def test_glob_match_with_variables(pattern: str, value: str, expected: bool) -> None:
    assert glob_match(pattern, value, VARIABLES, arn=True) is expected


def test_substituted_values_are_literal() -> None:
    variables = normalize_context({"test:v": "a*"})
    assert glob_match("${test:v}", "a*", variables)
    assert not glob_match("${test:v}", "abc", variables)


# --- each operator --------------------------------------------------------------------------------

NOW = "2024-03-01T12:00:00Z"
NOW_EPOCH = str(int(datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp()))
B64_HELLO = "aGVsbG8="  # b"hello"

OPERATOR_CASES: list[tuple[str, object, ContextValue | None, bool]] = [
    # String
    ("StringEquals", "abc", "abc", True),
    ("StringEquals", "abc", "ABC", False),
    ("StringEquals", "abc", "abcd", False),
    ("StringEquals", ["x", "abc"], "abc", True),  # values: OR
    ("StringEquals", "a*", "abc", False),  # no wildcards
    ("StringEquals", "a*", "a*", True),
    ("StringEquals", "abc", None, False),
    ("StringEquals", "", "", True),
    ("StringNotEquals", "abc", "abc", False),
    ("StringNotEquals", "abc", "xyz", True),
    ("StringNotEquals", ["abc", "xyz"], "xyz", False),  # NOR
    ("StringNotEquals", "abc", None, True),  # missing key: true
    ("StringEqualsIgnoreCase", "AbC", "aBc", True),
    ("StringEqualsIgnoreCase", "abc", "abd", False),
    ("StringEqualsIgnoreCase", "abc", None, False),
    ("StringNotEqualsIgnoreCase", "AbC", "aBc", False),
    ("StringNotEqualsIgnoreCase", "abc", "abd", True),
    ("StringNotEqualsIgnoreCase", "abc", None, True),
    ("StringLike", "a*", "abc", True),
    ("StringLike", "a?c", "abc", True),
    ("StringLike", "a?c", "abbc", False),
    ("StringLike", "A*", "abc", False),  # case-sensitive
    ("StringLike", "*", "", True),
    ("StringLike", ["x*", "*c"], "abc", True),
    ("StringLike", "a:*", "a:b:c", True),  # no ARN segments here
    ("StringLike", "a*", None, False),
    ("StringNotLike", "a*", "abc", False),
    ("StringNotLike", "x*", "abc", True),
    ("StringNotLike", ["x*", "a*"], "abc", False),
    ("StringNotLike", "a*", None, True),
    # Numeric
    ("NumericEquals", "10", "10", True),
    ("NumericEquals", 10, "10.0", True),
    ("NumericEquals", "10", "11", False),
    ("NumericEquals", "10", "ten", False),  # wrong type in the request: false
    ("NumericEquals", "10", None, False),
    ("NumericNotEquals", "10", "11", True),
    ("NumericNotEquals", "10", "10", False),
    ("NumericNotEquals", "10", None, True),
    ("NumericNotEquals", "10", "ten", False),
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericLessThan", "10", "-1.5", True),
    ("NumericLessThan", "10", None, False),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericLessThanEquals", "10", "10.0001", False),
    ("NumericGreaterThan", "10", "11", True),
    ("NumericGreaterThan", "10", "10", False),
    ("NumericGreaterThan", 0.5, "0.6", True),
    ("NumericGreaterThanEquals", "10", "10", True),
    ("NumericGreaterThanEquals", "10", "9", False),
    ("NumericGreaterThanEquals", ["100", "5"], "9", True),
    # Date: ISO 8601 and epoch seconds, on either side
    ("DateEquals", NOW, NOW, True),
    ("DateEquals", NOW, NOW_EPOCH, True),
    ("DateEquals", NOW_EPOCH, NOW, True),
    ("DateEquals", "2024-03-01T13:00:00+01:00", NOW, True),
    ("DateEquals", "2024-03-01T12:00:00", NOW, True),  # naive means UTC
    ("DateEquals", NOW, "2024-03-01T12:00:01Z", False),
    ("DateEquals", NOW, "yesterday", False),
    ("DateEquals", NOW, None, False),
    ("DateNotEquals", NOW, "2024-03-01T12:00:01Z", True),
    ("DateNotEquals", NOW, NOW, False),
    ("DateNotEquals", NOW, None, True),
    ("DateLessThan", "2024-03-02", NOW, True),
    ("DateLessThan", "2024-03-01", NOW, False),
    ("DateLessThan", NOW, NOW, False),
    ("DateLessThanEquals", NOW, NOW, True),
    ("DateLessThanEquals", "2024-03-01T11:59:59Z", NOW, False),
    ("DateGreaterThan", "2024-03-01", NOW, True),
    ("DateGreaterThan", "2024-03-01T12:00:00.5Z", NOW, False),
    ("DateGreaterThan", "2024-03-01T11:59:59.5Z", NOW, True),
    ("DateGreaterThanEquals", NOW, NOW, True),
    ("DateGreaterThanEquals", "2025-01-01T00:00:00Z", NOW, False),
    ("DateGreaterThan", "1700000000", NOW, True),
    ("DateLessThan", "1800000000", NOW_EPOCH, True),
    # Bool
    ("Bool", "true", "true", True),
    ("Bool", True, "true", True),
    ("Bool", "true", "false", False),
    ("Bool", "false", "false", True),
    ("Bool", False, "true", False),
    ("Bool", "TRUE", "true", True),
    ("Bool", "true", "True", True),
    ("Bool", "true", "yes", False),
    ("Bool", "true", None, False),
    ("Bool", "false", None, False),
    # Binary: base64 on both sides
    ("BinaryEquals", B64_HELLO, B64_HELLO, True),
    ("BinaryEquals", B64_HELLO, "aGVsbG8h", False),
    ("BinaryEquals", B64_HELLO, "not base64!", False),
    ("BinaryEquals", B64_HELLO, None, False),
    # IP addresses, v4 and v6
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
    ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
    ("IpAddress", "203.0.113.7", "203.0.113.7", True),  # a bare address is a /32
    ("IpAddress", "203.0.113.7/32", "203.0.113.8", False),
    ("IpAddress", "203.0.113.7/24", "203.0.113.200", True),  # host bits ignored
    ("IpAddress", "0.0.0.0/0", "198.51.100.1", True),
    ("IpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "192.168.1.1", True),
    ("IpAddress", "2001:db8::/32", "2001:db8:1::1", True),
    ("IpAddress", "2001:db8::/32", "2001:db9::1", False),
    ("IpAddress", "2001:DB8::/32", "2001:db8::ff", True),
    ("IpAddress", "::/0", "203.0.113.7", False),  # versions never mix
    ("IpAddress", "0.0.0.0/0", "::1", False),
    ("IpAddress", "203.0.113.0/24", "not-an-ip", False),
    ("IpAddress", "203.0.113.0/24", None, False),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
    ("NotIpAddress", "203.0.113.0/24", "203.0.113.1", False),
    ("NotIpAddress", ["10.0.0.0/8", "203.0.113.0/24"], "203.0.113.1", False),
    ("NotIpAddress", "2001:db8::/32", "2001:db8::1", False),
    ("NotIpAddress", "2001:db8::/32", "203.0.113.1", True),
    ("NotIpAddress", "203.0.113.0/24", None, True),
    ("NotIpAddress", "203.0.113.0/24", "garbage", False),
    # ARN: both Equals and Like take wildcards, segment by segment; case-sensitive
    ("ArnEquals", ARN_USER, ARN_USER, True),
    ("ArnEquals", "arn:aws:iam::*:user/bob", ARN_USER, True),
    ("ArnEquals", ARN_USER, "arn:aws:iam::123456789012:user/Bob", False),
    ("ArnEquals", ARN_USER, None, False),
    ("ArnLike", "arn:aws:iam::123456789012:user/*", ARN_USER, True),
    ("ArnLike", "arn:aws:iam::123456789012:role/*", ARN_USER, False),
    ("ArnLike", "arn:aws:iam::*:*", ARN_USER, True),
    ("ArnLike", "arn:aws:*:123456789012:*", ARN_USER, False),
    ("ArnLike", "arn:aws:iam::*:user/bob", "not an arn", False),
    ("ArnLike", "arn:aws:iam::*", None, False),
    ("ArnNotEquals", ARN_USER, ARN_USER, False),
    ("ArnNotEquals", ARN_USER, "arn:aws:iam::123456789012:user/alice", True),
    ("ArnNotEquals", ARN_USER, None, True),
    ("ArnNotLike", "arn:aws:iam::*:user/*", ARN_USER, False),
    ("ArnNotLike", "arn:aws:iam::*:role/*", ARN_USER, True),
    ("ArnNotLike", "arn:aws:iam::*:role/*", None, True),
]


@pytest.mark.parametrize(("operator", "values", "actual", "expected"), OPERATOR_CASES)
def test_operator(operator: str, values: object, actual: ContextValue | None, expected: bool) -> None:
    assert holds(operator, values, actual) is expected


def test_every_operator_is_covered() -> None:
    covered = {case[0] for case in OPERATOR_CASES} | {"Null"}
    assert covered == set(OPERATORS)


IF_EXISTS_CASES = sorted(OPERATORS - {"Null"})
SAMPLE_VALUE = {
    "Numeric": "1",
    "Date": NOW,
    "Bool": "true",
    "Binary": B64_HELLO,
    "IpAddress": "10.0.0.0/8",
    "NotIpAddress": "10.0.0.0/8",
    "Arn": ARN_USER,
}


def _sample(operator: str) -> str:
    return next((value for prefix, value in SAMPLE_VALUE.items() if operator.startswith(prefix)), "abc")


@pytest.mark.parametrize("operator", IF_EXISTS_CASES)
def test_if_exists_is_true_when_the_key_is_missing(operator: str) -> None:
    assert holds(f"{operator}IfExists", _sample(operator), None) is True


@pytest.mark.parametrize("operator", IF_EXISTS_CASES)
def test_if_exists_behaves_as_the_operator_when_the_key_is_present(operator: str) -> None:
    value = _sample(operator)
    for actual in (value, "0", "2001-01-01T00:00:00Z", "false", "AAAA", "192.0.2.1", "arn:aws:iam::1:user/x", "zzz"):
        assert holds(f"{operator}IfExists", value, actual) is holds(operator, value, actual)


@pytest.mark.parametrize(
    ("operator", "values", "actual", "expected"),
    [
        ("StringEqualsIfExists", "abc", "abd", False),
        ("StringNotEqualsIfExists", "abc", "abc", False),
        ("NumericLessThanIfExists", "5", "7", False),
        ("BoolIfExists", "false", "true", False),
        ("BoolIfExists", "false", None, True),
        ("IpAddressIfExists", "10.0.0.0/8", "11.0.0.1", False),
        ("DateLessThanIfExists", NOW, "2000-01-01", True),
        ("ArnLikeIfExists", "arn:aws:iam::*:user/*", ARN_USER, True),
    ],
)
def test_if_exists_examples(operator: str, values: object, actual: ContextValue | None, expected: bool) -> None:
    assert holds(operator, values, actual) is expected


# --- Null -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "actual", "expected"),
    [
        ("true", None, True),
        ("true", "x", False),
        ("true", "", False),  # an empty string is a value
        ("true", [], True),  # an empty list is no value
        ("false", "x", True),
        ("false", None, False),
        ("false", [], False),
        (True, None, True),
        (False, ["a", "b"], True),
        ("TRUE", None, True),
        (["true", "false"], None, True),
        (["true", "false"], "x", True),
    ],
)
def test_null(value: object, actual: ContextValue | None, expected: bool) -> None:
    assert holds("Null", value, actual) is expected


# --- multi-valued keys and set qualifiers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "actual", "expected"),
    [
        ("ForAnyValue:StringEquals", ["a", "b"], ["b", "z"], True),
        ("ForAnyValue:StringEquals", ["a", "b"], ["y", "z"], False),
        ("ForAnyValue:StringEquals", ["a"], None, False),
        ("ForAnyValue:StringEquals", ["a"], [], False),
        ("ForAnyValue:StringEquals", ["a"], "a", True),
        ("ForAnyValue:StringEqualsIfExists", ["a"], None, True),
        ("ForAnyValue:StringLike", ["a*"], ["xyz", "abc"], True),
        ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "z"], True),  # z is outside the set
        ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"], False),
        ("ForAnyValue:NumericGreaterThan", "10", ["1", "20"], True),
        ("ForAnyValue:NumericGreaterThan", "10", ["1", "2"], False),
        ("ForAnyValue:NumericGreaterThan", "10", ["20", "x"], False),  # a value of the wrong type
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
        ("ForAllValues:StringEquals", ["a", "b"], ["a"], True),
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "z"], False),
        ("ForAllValues:StringEquals", ["a"], None, True),  # vacuously true
        ("ForAllValues:StringEquals", ["a"], [], True),
        ("ForAllValues:StringLike", ["team-*"], ["team-a", "team-b"], True),
        ("ForAllValues:StringLike", ["team-*"], ["team-a", "other"], False),
        ("ForAllValues:StringNotEquals", ["a", "b"], ["y", "z"], True),
        ("ForAllValues:StringNotEquals", ["a", "b"], ["a", "z"], False),
        ("ForAllValues:StringEqualsIgnoreCase", ["A", "B"], ["a", "b"], True),
        ("ForAllValues:IpAddress", "10.0.0.0/8", ["10.1.1.1", "10.2.2.2"], True),
        ("ForAllValues:IpAddress", "10.0.0.0/8", ["10.1.1.1", "11.2.2.2"], False),
        # no qualifier: positive operators match if any value does, negated ones if none does
        ("StringEquals", "a", ["a", "b"], True),
        ("StringEquals", "a", ["x", "b"], False),
        ("StringNotEquals", "a", ["x", "b"], True),
        ("StringNotEquals", "a", ["a", "b"], False),
        ("StringEquals", "a", [], False),
        ("StringNotEquals", "a", [], True),
    ],
)
def test_set_qualifiers(operator: str, values: object, actual: ContextValue | None, expected: bool) -> None:
    assert holds(operator, values, actual) is expected


# --- several keys, several operators, case of keys ------------------------------------------------


def test_keys_and_operators_are_anded_values_ored() -> None:
    block = {
        "StringEquals": {"aws:username": ["bob", "alice"], "aws:PrincipalAccount": "123456789012"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    conditions = parse_conditions(block)
    assert len(conditions) == 3
    base = {"aws:username": "alice", "aws:PrincipalAccount": "123456789012", "aws:SecureTransport": "true"}
    assert conditions_hold(conditions, normalize_context(base), True)
    for key, wrong in [("aws:username", "carol"), ("aws:PrincipalAccount", "1"), ("aws:SecureTransport", "false")]:
        assert not conditions_hold(conditions, normalize_context({**base, key: wrong}), True)
    assert conditions_hold((), normalize_context({}), True)


@pytest.mark.parametrize("key", ["aws:SourceIp", "AWS:SOURCEIP", "aws:sourceip", "Aws:SourceIP"])
def test_condition_keys_are_case_insensitive(key: str) -> None:
    (condition,) = parse_conditions({"IpAddress": {key: "10.0.0.0/8"}})
    assert condition_holds(condition, normalize_context({"aws:SourceIp": "10.9.9.9"}), True)
    assert condition_holds(condition, normalize_context({"AWS:SOURCEIP": "10.9.9.9"}), True)


@pytest.mark.parametrize(
    ("operator", "value", "substitute", "expected"),
    [
        ("StringEquals", "${aws:username}", True, True),
        ("StringEquals", "${aws:username}", False, False),  # 2008-10-17: literal
        ("StringEquals", "${aws:missing}", True, False),
        ("StringEquals", "${aws:missing, 'bob'}", True, True),
        ("StringNotEquals", "${aws:missing}", True, True),  # an unresolved value equals nothing
        ("StringLike", "b${?}b", True, False),
        ("StringLike", "${aws:username}*", True, True),
        ("StringEqualsIgnoreCase", "${aws:username}", True, True),
        ("StringEqualsIgnoreCase", "${aws:missing}", True, False),
        ("ArnLike", "arn:aws:iam::*:user/${aws:username}", True, False),
    ],
)
def test_variables_in_condition_values(operator: str, value: str, substitute: bool, expected: bool) -> None:
    (condition,) = parse_conditions({operator: {"test:name": value}})
    context = normalize_context({"aws:username": "bob", "test:name": "bob"})
    assert condition_holds(condition, context, substitute) is expected


def test_arn_condition_with_variable() -> None:
    (condition,) = parse_conditions({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:user/${aws:username}"}})
    assert condition_holds(condition, normalize_context({"aws:PrincipalArn": ARN_USER, "aws:username": "bob"}), True)
    assert not condition_holds(condition, normalize_context({"aws:PrincipalArn": ARN_USER}), True)


# --- parsing --------------------------------------------------------------------------------------


def test_parse_shape() -> None:
    (condition,) = parse_conditions({"ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["a*", 3, True]}})
    assert condition == Condition(
        operator="ForAllValues:StringLikeIfExists",
        base="StringLike",
        qualifier=SetQualifier.FOR_ALL_VALUES,
        if_exists=True,
        key="aws:TagKeys",
        values=("a*", "3", "true"),
    )


@pytest.mark.parametrize(
    "block",
    [
        [],
        "StringEquals",
        {"StringEquals": "x"},
        {"StringEquals": {}},
        {"StringEquals": []},
        {"StringEquals": {"aws:username": []}},
        {"StringEquals": {"aws:username": None}},
        {"StringEquals": {"aws:username": {"nested": "x"}}},
        {"StringEquals": {"aws:username": [["x"]]}},
        {"StringEquals": {"username": "bob"}},  # no vendor prefix
        {"StringEquals": {":username": "bob"}},
        {"StringEqual": {"aws:username": "bob"}},
        {"stringequals": {"aws:username": "bob"}},
        {"StringEqualsIfExistsIfExists": {"aws:username": "bob"}},
        {"IfExists": {"aws:username": "bob"}},
        {"ForSomeValues:StringEquals": {"aws:username": "bob"}},
        {"ForAnyValue:": {"aws:username": "bob"}},
        {"NullIfExists": {"aws:username": "true"}},
        {"ForAnyValue:Null": {"aws:username": "true"}},
        {"Null": {"aws:username": "maybe"}},
        {"Bool": {"aws:SecureTransport": "yes"}},
        {"NumericEquals": {"s3:max-keys": "ten"}},
        {"NumericEquals": {"s3:max-keys": "NaN"}},
        {"NumericLessThan": {"s3:max-keys": "Infinity"}},
        {"DateLessThan": {"aws:CurrentTime": "tomorrow"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}},
        {"NotIpAddress": {"aws:SourceIp": "not-an-ip"}},
        {"BinaryEquals": {"test:bin": "***"}},
    ],
)
def test_parse_rejects(block: object) -> None:
    with pytest.raises(InvalidCondition):
        parse_conditions(block)


@pytest.mark.parametrize(
    "operator",
    sorted(OPERATORS - {"Null"})
    + [f"{name}IfExists" for name in sorted(OPERATORS - {"Null"})]
    + [f"{q}:{name}" for q in ("ForAnyValue", "ForAllValues") for name in sorted(OPERATORS - {"Null"})],
)
def test_parse_accepts_every_operator_form(operator: str) -> None:
    base = operator.split(":")[-1].removesuffix("IfExists")
    (condition,) = parse_conditions({operator: {"aws:key": _sample(base)}})
    assert condition.base == base


# --- typed values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T12:00:00+00:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T14:00:00+02:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01T12:00:00.250Z", datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)),
        ("20240301T120000Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("1709294400", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("1709294400.5", datetime(2024, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("", None),
        ("soon", None),
        ("2024-13-01", None),
        ("99999999999999999999", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1", True),
        ("-2.5", True),
        ("1e3", True),
        ("0", True),
        ("", False),
        ("x", False),
        ("NaN", False),
        ("inf", False),
    ],
)
def test_parse_number(text: str, valid: bool) -> None:
    assert (parse_number(text) is not None) is valid
