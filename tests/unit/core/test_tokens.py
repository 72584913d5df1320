"""Random tokens and codes, their SHA-256 storage form, and keyed digests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import pytest

from vestibule.core.tokens import (
    hash_token,
    keyed_digest,
    new_numeric_code,
    new_token,
    same,
    token_matches,
)

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_new_token_is_urlsafe_256_bits() -> None:
    for _ in range(100):
        token = new_token()
        assert len(token) >= 43
        assert URLSAFE.match(token)
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == 32


def test_new_token_is_random() -> None:
    assert len({new_token() for _ in range(200)}) == 200


def test_new_numeric_code_default_shape() -> None:
    codes = [new_numeric_code() for _ in range(300)]
    for code in codes:
        assert len(code) == 6
        assert code.isascii() and code.isdigit()
    assert len(set(codes)) > 250


@pytest.mark.parametrize(
    ("digits", "drawn", "expected"),
    [
        (6, 0, "000000"),
        (6, 42, "000042"),
        (6, 999_999, "999999"),
        (4, 7, "0007"),
        (8, 12345, "00012345"),
    ],
)
def test_new_numeric_code_zero_pads(
    monkeypatch: pytest.MonkeyPatch, digits: int, drawn: int, expected: str
) -> None:
    seen: list[int] = []

    def fake_randbelow(bound: int) -> int:
        seen.append(bound)
        return drawn

    monkeypatch.setattr(secrets, "randbelow", fake_randbelow)
    assert new_numeric_code(digits) == expected
    assert seen == [10**digits]


@pytest.mark.parametrize("digits", [4, 8, 10])
def test_new_numeric_code_lengths(digits: int) -> None:
    code = new_numeric_code(digits)
    assert len(code) == digits and code.isdigit()


@pytest.mark.parametrize(
    ("token", "digest"),
    [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("ü", hashlib.sha256("ü".encode()).hexdigest()),
    ],
)
def test_hash_token_is_sha256_hex(token: str, digest: str) -> None:
    assert hash_token(token) == digest


def test_hash_token_shape() -> None:
    token = new_token()
    assert HEX64.match(hash_token(token))
    assert hash_token(token) == hash_token(token)
    assert hash_token(token) != hash_token(new_token())


@pytest.mark.parametrize(
    ("token", "stored_for", "matches"),
    [
        ("tok-123", "tok-123", True),
        ("tok-123", "tok-124", False),
        ("tok-123", "TOK-123", False),
        ("", "", True),
        ("tok-123", "", False),
    ],
)
def test_token_matches(token: str, stored_for: str, matches: bool) -> None:
    assert token_matches(token, hash_token(stored_for)) is matches


@pytest.mark.parametrize("stored", ["", "deadbeef", "tok-123"])
def test_token_matches_rejects_non_hash(stored: str) -> None:
    assert token_matches("tok-123", stored) is False


def test_keyed_digest_is_hmac_sha256() -> None:
    key = b"k" * 32
    expected = hmac.new(key, b"csrf\x00browser-1", hashlib.sha256).hexdigest()
    assert keyed_digest(key, "csrf", "browser-1") == expected
    assert HEX64.match(expected)


@pytest.mark.parametrize(
    ("key", "purpose", "value"),
    [
        (b"k" * 32, "csrf", "browser-1"),
        (b"K" * 32, "csrf", "browser-1"),
        (b"k" * 32, "flow", "browser-1"),
        (b"k" * 32, "csrf", "browser-2"),
        (b"k" * 16, "csrf", "browser-1"),
        (b"k" * 32, "csrfb", "rowser-1"),
    ],
)
def test_keyed_digest_differs_per_key_purpose_value(key: bytes, purpose: str, value: str) -> None:
    base = keyed_digest(b"k" * 32, "csrf", "browser-1")
    digest = keyed_digest(key, purpose, value)
    same_inputs = (key, purpose, value) == (b"k" * 32, "csrf", "browser-1")
    assert (digest == base) is same_inputs
    assert keyed_digest(key, purpose, value) == digest


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [("abc", "abc", True), ("abc", "abd", False), ("abc", "abcd", False), ("", "", True), ("ü", "ü", True),
     ("ü", "u", False)],
)
def test_same(a: str, b: str, equal: bool) -> None:
    assert same(a, b) is equal
