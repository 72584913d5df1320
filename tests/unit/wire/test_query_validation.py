"""Query-protocol input validation: one ValidationError listing every violation, worded as AWS words it."""

from __future__ import annotations

import pytest

from vestibule.wire.aws_query.errors import ValidationError
from vestibule.wire.aws_query.iam import IAM
from vestibule.wire.aws_query.params import Input, QueryParams

_CONSTRAINT = "failed to satisfy constraint: Member must"


def _refused(operation: str, **params: str) -> str:
    with pytest.raises(ValidationError) as refused:
        Input(QueryParams(list(params.items())), IAM.rows[operation].inputs)
    return refused.value.message


def test_two_members_wrong_are_two_errors_in_one_message() -> None:
    assert _refused("AttachUserPolicy", UserName="x" * 65) == (
        f"2 validation errors detected: Value '{'x' * 64}...' at 'userName' {_CONSTRAINT} have length less than "
        f"or equal to 64; Value null at 'policyArn' {_CONSTRAINT} not be null")


def test_one_member_failing_two_rules_is_two_errors() -> None:
    assert _refused("CreateUser", UserName="a b" * 22) == (
        f"2 validation errors detected: Value '{('a b' * 22)[:64]}...' at 'userName' {_CONSTRAINT} have length "
        f"less than or equal to 64; Value '{('a b' * 22)[:64]}...' at 'userName' {_CONSTRAINT} satisfy regular "
        r"expression pattern: [\w+=,.@-]+")


def test_a_single_error_quotes_the_value_and_names_the_bound_it_passed() -> None:
    assert _refused("CreateUser", UserName="") == (
        f"2 validation errors detected: Value '' at 'userName' {_CONSTRAINT} have length greater than or equal to "
        rf"1; Value '' at 'userName' {_CONSTRAINT} satisfy regular expression pattern: [\w+=,.@-]+")
    assert _refused("CreateUser", UserName="alice", Path="/" + "p" * 511 + "/") == (
        f"1 validation error detected: Value '/{'p' * 63}...' at 'path' {_CONSTRAINT} have length less than or "
        "equal to 512")
    assert _refused("ListUsers", MaxItems="0") == (
        f"1 validation error detected: Value '0' at 'maxItems' {_CONSTRAINT} have value greater than or equal to 1")
    assert _refused("ListUsers", MaxItems="1001", PathPrefix="nope") == (
        f"2 validation errors detected: Value 'nope' at 'pathPrefix' {_CONSTRAINT} satisfy regular expression "
        rf"pattern: \u002F[\u0021-\u007F]*; Value '1001' at 'maxItems' {_CONSTRAINT} have value less than or "
        "equal to 1000")
    assert _refused("ListUsers", MaxItems="ten") == (
        f"1 validation error detected: Value 'ten' at 'maxItems' {_CONSTRAINT} be a whole number of at most 19 "
        "digits")


def test_an_enum_lists_its_values() -> None:
    message = _refused("UpdateAccessKey", AccessKeyId="AKIAIOSFODNN7EXAMPLE", Status="On")
    assert message == (f"1 validation error detected: Value 'On' at 'status' {_CONSTRAINT} satisfy enum value "
                       "set: [Active, Inactive, Expired]")


def test_a_password_or_a_private_key_is_never_quoted_back() -> None:
    message = _refused("CreateLoginProfile", UserName="alice", Password="\u2603" * 129)
    assert message == (f"2 validation errors detected: Value at 'password' {_CONSTRAINT} have length less than "
                       "or equal to 128; Value at 'password' "
                       rf"{_CONSTRAINT} satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+")
    assert "\u2603" not in _refused("UploadServerCertificate", ServerCertificateName="c", CertificateBody="b",
                                    PrivateKey="\u2603")


def test_a_control_character_is_named_and_not_quoted() -> None:
    message = _refused("CreateUser", UserName="a\x01b")
    assert message == (f"2 validation errors detected: Value at 'userName' {_CONSTRAINT} not contain control "
                       rf"characters; Value at 'userName' {_CONSTRAINT} satisfy regular expression pattern: "
                       r"[\w+=,.@-]+")


def test_lists_quote_their_items_and_a_bad_index_is_one_of_the_errors() -> None:
    keys = {f"TagKeys.member.{i}": f"k{i}" for i in range(1, 52)}
    message = _refused("UntagUser", UserName="a" * 129, **keys)
    listed = ", ".join(f"k{i}" for i in range(1, 52))
    assert message == (
        f"2 validation errors detected: Value '{'a' * 64}...' at 'userName' {_CONSTRAINT} have length less than "
        f"or equal to 128; Value '[{listed[:63]}...' at 'tagKeys' {_CONSTRAINT} have length less than or equal "
        "to 50")
    message = _refused("UntagUser", **{"TagKeys.member.0": "k"})
    assert message == (f"2 validation errors detected: Value null at 'userName' {_CONSTRAINT} not be null; "
                       "Value at 'tagKeys' failed to satisfy constraint: Member index '0' must be a whole number "
                       "from 1 to 999999999")


def test_a_malformed_boolean_is_one_of_the_validation_errors() -> None:
    assert _refused("CreateLoginProfile", UserName="a b", Password="pw", PasswordResetRequired="maybe") == (
        f"2 validation errors detected: Value 'a b' at 'userName' {_CONSTRAINT} satisfy regular expression "
        rf"pattern: [\w+=,.@-]+; Value 'maybe' at 'passwordResetRequired' {_CONSTRAINT} be true or false")
    parsed = Input(QueryParams([("UserName", "a"), ("Password", "pw"), ("PasswordResetRequired", "TRUE")]),
                   IAM.rows["CreateLoginProfile"].inputs)
    assert parsed.boolean("PasswordResetRequired") is True


def test_valid_input_reads_back() -> None:
    parsed = Input(QueryParams([("UserName", "alice"), ("TagKeys.member.2", "b"), ("TagKeys.member.1", "a")]),
                   IAM.rows["UntagUser"].inputs)
    assert (parsed.required("UserName"), parsed.strings("TagKeys")) == ("alice", ["a", "b"])
