"""Account IDs, aliases, email addresses, IAM user names and ARNs."""

from __future__ import annotations

import string

import pytest

from vestibule.core.identifiers import (
    InvalidIdentifier,
    format_account_id,
    is_account_id,
    mfa_arn,
    new_account_id,
    new_iam_id,
    normalize_email,
    parse_account_reference,
    root_arn,
    user_arn,
    validate_account_name,
    validate_alias,
    validate_iam_user_name,
)

# Python's `$` also matches just before a trailing newline; these document that bug.


# --- account IDs -------------------------------------------------------------


def test_new_account_id_shape() -> None:
    for _ in range(200):
        account_id = new_account_id()
        assert len(account_id) == 12
        assert account_id.isascii() and account_id.isdigit()
        assert account_id[0] != "0"
        assert is_account_id(account_id)


def test_new_account_id_is_random() -> None:
    ids = [new_account_id() for _ in range(200)]
    assert len(set(ids)) >= 195
    # Every allowed leading digit shows up (P(miss) ~ 5e-10).
    assert {i[0] for i in ids} == set("123456789")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("111122223333", True),
        ("000000000000", True),
        ("11112222333", False),
        ("1111222233334", False),
        ("1111-2222-3333", False),
        ("11112222333a", False),
        ("", False),
        (" 111122223333", False),
    ],
)
def test_is_account_id(value: str, expected: bool) -> None:
    assert is_account_id(value) is expected


def test_is_account_id_rejects_non_ascii_digits() -> None:
    assert not is_account_id("١١١١٢٢٢٢٣٣٣٣")  # Arabic-Indic digits


def test_is_account_id_rejects_trailing_newline() -> None:
    assert not is_account_id("111122223333\n")


@pytest.mark.parametrize(
    ("account_id", "shown"),
    [
        ("111122223333", "1111-2222-3333"),
        ("123456789012", "1234-5678-9012"),
        ("900000000001", "9000-0000-0001"),
    ],
)
def test_format_account_id(account_id: str, shown: str) -> None:
    assert format_account_id(account_id) == shown
    assert parse_account_reference(shown) == account_id


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("111122223333", "111122223333"),
        ("1111-2222-3333", "111122223333"),
        ("1111 2222 3333", "111122223333"),
        ("  1111-2222-3333  ", "111122223333"),
        ("1111 - 2222 - 3333", "111122223333"),
        ("11-11-22-22-33-33", "111122223333"),
        # Aliases: stripped and lowercased, otherwise untouched.
        ("my-company", "my-company"),
        ("My-Company", "my-company"),
        ("  ACME  ", "acme"),
        ("acme-2024", "acme-2024"),
        # Not twelve digits once compacted: treated as an alias.
        ("11112222333", "11112222333"),
        ("1111-2222-33334", "1111-2222-33334"),
    ],
)
def test_parse_account_reference(typed: str, expected: str) -> None:
    assert parse_account_reference(typed) == expected


def test_parse_account_reference_does_not_take_non_ascii_digits_as_an_id() -> None:
    assert not is_account_id(parse_account_reference("١١١١٢٢٢٢٣٣٣٣"))


# --- aliases -----------------------------------------------------------------


@pytest.mark.parametrize(
    "alias",
    [
        "abc",
        "a1b",
        "a-b",
        "9-9",
        "0ab",
        "123abc",
        "abc123",
        "my-company",
        "my-company-prod-2024",
        "x" * 63,
        "a" + "-" * 61 + "b",
    ],
)
def test_validate_alias_accepts(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize(
    ("alias", "why"),
    [
        ("", "length"),
        ("a", "length"),
        ("ab", "length"),
        ("x" * 64, "length"),
        ("x" * 100, "length"),
        ("-abc", "charset"),
        ("abc-", "charset"),
        ("-", "length"),
        ("---", "charset"),
        ("ABC", "charset"),
        ("Abc", "charset"),
        ("abC", "charset"),
        ("my_alias", "charset"),
        ("my.alias", "charset"),
        ("my alias", "charset"),
        (" abc", "charset"),
        ("abc ", "charset"),
        ("ab!", "charset"),
        ("äbc", "charset"),
        ("abc\t", "charset"),
        ("123", "digits"),
        ("000000", "digits"),
        ("123456789012", "digits"),
        ("9" * 63, "digits"),
    ],
)
def test_validate_alias_rejects(alias: str, why: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_alias(alias)
    assert caught.value.field == "alias"
    message = str(caught.value)
    expected = {"length": "3 to 63", "charset": "lowercase letters", "digits": "all digits"}[why]
    assert expected in message


def test_invalid_identifier_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_alias("")


def test_validate_alias_rejects_trailing_newline() -> None:
    with pytest.raises(InvalidIdentifier):
        validate_alias("abc\n")


def test_validate_alias_rejects_alias_that_parses_as_account_id() -> None:
    with pytest.raises(InvalidIdentifier):
        validate_alias("1111-2222-3333")


# --- email -------------------------------------------------------------------

LOCAL_64 = "l" * 64
DOMAIN_189 = "a" * 63 + "." + "b" * 63 + "." + "c" * 61
EMAIL_254 = f"{LOCAL_64}@{DOMAIN_189}"
EMAIL_255 = f"{LOCAL_64}@{DOMAIN_189}c"


def test_length_fixtures() -> None:
    assert len(EMAIL_254) == 254
    assert len(EMAIL_255) == 255


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice@Example.COM", "alice@example.com"),
        ("ALICE@EXAMPLE.COM", "alice@example.com"),
        ("  bob@example.org  ", "bob@example.org"),
        ("\tbob@example.org\n", "bob@example.org"),
        ("alice+tag@example.com", "alice+tag@example.com"),
        ("Alice+Tag@example.com", "alice+tag@example.com"),
        ("first.last@sub.example.co.uk", "first.last@sub.example.co.uk"),
        ("o'neil@example.ie", "o'neil@example.ie"),
        ("user_name-1@my-domain.io", "user_name-1@my-domain.io"),
        ("a@b.co", "a@b.co"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("a!#$%&'*+/=?^_`{|}~-b@example.com", "a!#$%&'*+/=?^_`{|}~-b@example.com"),
        ("u@123.example.com", "u@123.example.com"),
        ("u@example.c0m", "u@example.c0m"),
        (f"{LOCAL_64}@example.com", f"{LOCAL_64}@example.com"),
        (f"u@{'d' * 63}.com", f"u@{'d' * 63}.com"),
        (EMAIL_254, EMAIL_254),
    ],
)
def test_normalize_email_accepts(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "alice",
        "alice.example.com",
        "@",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "alice@bob@example.com",
        "alice@example",
        "alice@localhost",
        "alice@.com",
        "alice@example.",
        "alice@example..com",
        "alice@-example.com",
        "alice@example-.com",
        "alice@exa_mple.com",
        "alice@exa mple.com",
        "al ice@example.com",
        "alice @example.com",
        "alice@ example.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        '"alice"@example.com',
        "alice(comment)@example.com",
        "alice@192.168.0.1",
        "alice@[127.0.0.1]",
        "alice@example.123",
        "älice@example.com",
        "alice@exämple.com",
        "alice,bob@example.com",
        "alice;@example.com",
        "<alice@example.com>",
        "Alice <alice@example.com>",
        f"{'l' * 65}@example.com",
        f"u@{'d' * 64}.com",
        EMAIL_255,
        "a" * 300 + "@example.com",
    ],
)
def test_normalize_email_rejects(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_email(raw)
    assert caught.value.field == "email"


def test_normalize_email_comparison_form() -> None:
    assert normalize_email("Alice@Example.com") == normalize_email("aLiCe@EXAMPLE.COM")
    assert normalize_email("alice+tag@example.com") != normalize_email("alice@example.com")
    assert normalize_email("alice+a@example.com") != normalize_email("alice+b@example.com")
    assert normalize_email("a.lice@example.com") != normalize_email("alice@example.com")


@pytest.mark.parametrize("raw", ["alice\n@example.com", "alice@example\n.com"])
def test_normalize_email_rejects_embedded_newline(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_email(raw)


# --- IAM user names ----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "Z",
        "0",
        "Bob",
        "bob.smith",
        "bob+ci",
        "bob@example.com",
        "a=b,c.d@e_f-g",
        "+=,.@_-",
        "x" * 64,
        string.ascii_letters[:52],
    ],
)
def test_validate_iam_user_name_accepts(name: str) -> None:
    assert validate_iam_user_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 65,
        "bob smith",
        " bob",
        "bob/smith",
        "bob:smith",
        "bob#1",
        "bob*",
        "bob!",
        "bøb",
        "bob\t",
        "bob;drop",
    ],
)
def test_validate_iam_user_name_rejects(name: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_iam_user_name(name)
    assert caught.value.field == "username"


def test_validate_iam_user_name_rejects_trailing_newline() -> None:
    with pytest.raises(InvalidIdentifier):
        validate_iam_user_name("bob\n")


# --- account names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme", "Acme"),
        ("  Acme Prod  ", "Acme Prod"),
        ("x", "x"),
        ("n" * 50, "n" * 50),
        ("Ünïcödé Ltd.", "Ünïcödé Ltd."),
    ],
)
def test_validate_account_name_accepts(raw: str, expected: str) -> None:
    assert validate_account_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "n" * 51, "Acme\x00", "Ac\x07me", "Acme\tProd"])
def test_validate_account_name_rejects(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_account_name(raw)
    assert caught.value.field == "account_name"


# --- ARNs and IAM IDs --------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (root_arn("111122223333"), "arn:aws:iam::111122223333:root"),
        (user_arn("111122223333", "alice"), "arn:aws:iam::111122223333:user/alice"),
        (user_arn("111122223333", "alice", "/team/"), "arn:aws:iam::111122223333:user/team/alice"),
        (mfa_arn("111122223333", "alice"), "arn:aws:iam::111122223333:mfa/alice"),
        (mfa_arn("111122223333", "phone", "/ops/"), "arn:aws:iam::111122223333:mfa/ops/phone"),
    ],
)
def test_arns(arn: str, expected: str) -> None:
    assert arn == expected


@pytest.mark.parametrize("prefix", ["AIDA", "AROA", "ASIA"])
def test_new_iam_id(prefix: str) -> None:
    ids = {new_iam_id(prefix) for _ in range(50)}
    assert len(ids) == 50
    for iam_id in ids:
        assert len(iam_id) == 21
        assert iam_id.startswith(prefix)
        assert set(iam_id[4:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
