"""The simulator's reasons: statement positions in the policy text, matched statements, missing context
values and the context keys a policy refers to."""

from __future__ import annotations

import json

from vestibule.core.policy import AuthzRequest, Outcome, parse_policy
from vestibule.core.policy_explain import Position, Span, context_keys, explain, statement_spans

BOB = "arn:aws:iam::123456789012:user/bob"


def text_of(document: str, span: Span) -> str:
    lines = document.split("\n")
    (start_line, start_column), (end_line, end_column) = span
    if start_line == end_line:
        return lines[start_line - 1][start_column - 1:end_column - 1]
    middle = lines[start_line:end_line - 1]
    return "\n".join([lines[start_line - 1][start_column - 1:], *middle, lines[end_line - 1][:end_column - 1]])


def test_spans_of_a_one_line_policy_as_aws_reports_them() -> None:
    # AWS's sample: a one-line policy whose statement starts at column 38 and ends at 84 (past its brace)
    document = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    assert statement_spans(document) == (Span(Position(1, 38), Position(1, 84)),)


def test_spans_of_a_pretty_printed_policy_cover_each_statement() -> None:
    statements = [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                  {"Sid": "B", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*",
                   "Condition": {"StringLike": {"s3:prefix": ["{not}", "a]b"]}}}]
    document = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=4)
    spans = statement_spans(document)
    assert [json.loads(text_of(document, span)) for span in spans] == statements
    assert spans[0].start.line == 4 and spans[0].start.column == 9


def test_spans_of_a_single_statement_object_escaped_keys_and_crlf() -> None:
    document = ('{\r\n "Version": "2012-10-17",\r\n "\\u0053tatement" : '
                '{"Effect":"Allow","Action":"*","Resource":"*"}\r\n}')
    parse_policy(document)
    (span,) = statement_spans(document)
    assert span.start == Position(3, 21)
    assert json.loads(text_of(document.replace("\r\n", "\n"), span))["Effect"] == "Allow"


def test_spans_of_text_that_is_not_a_policy_are_empty() -> None:
    assert statement_spans("[1, 2]") == ()
    assert statement_spans('{"Version": "2012-10-17"}') == ()


def test_explain_lists_every_deciding_statement() -> None:
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": BOB},
        {"Effect": "Deny", "Action": "iam:GetUser", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
    ]}))
    allowed = explain([policy], AuthzRequest(BOB, "iam:GetUser", BOB))
    assert allowed.outcome is Outcome.ALLOW
    assert [m.statement.index for m in allowed.statements] == [0, 1]
    assert allowed.missing_keys == ("aws:MultiFactorAuthPresent",)
    denied = explain([policy], AuthzRequest(BOB, "iam:GetUser", BOB, {"aws:MultiFactorAuthPresent": "false"}))
    assert denied.outcome is Outcome.EXPLICIT_DENY and [m.statement.index for m in denied.statements] == [2]
    assert denied.missing_keys == ()
    other = explain([policy], AuthzRequest(BOB, "iam:CreateUser", BOB))
    assert other == type(other)(Outcome.IMPLICIT_DENY, (), ())  # keys of statements not in scope are not asked


def test_missing_policy_variables_and_null_conditions() -> None:
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*",
         "Condition": {"Null": {"aws:TokenIssueTime": "true"},
                       "StringEquals": {"s3:prefix": "${aws:userid}", "aws:RequestTag/team": "${x:y, 'dflt'}"}}},
    ]}))
    found = explain([policy], AuthzRequest("", "s3:GetObject", "arn:aws:s3:::home/bob/a"))
    assert found.missing_keys == ("aws:username",)  # the resource does not match without it
    found = explain([policy], AuthzRequest(BOB, "s3:GetObject", "arn:aws:s3:::home/bob/a"))
    assert found.missing_keys == ("s3:prefix", "aws:userid", "aws:RequestTag/team")


def test_context_keys_once_each_in_order() -> None:
    first = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringLike": {"s3:prefix": "${aws:userid}/*"}}},
    ]}))
    second = parse_policy(json.dumps({"Statement": [  # 2008-10-17: no policy variables
        {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::${aws:other}",
         "Condition": {"Bool": {"AWS:SOURCEIP": "true", "aws:SecureTransport": "false"}}},
    ]}))
    assert context_keys([first, second]) == ("aws:username", "aws:SourceIp", "s3:prefix", "aws:userid",
                                             "aws:SecureTransport")
