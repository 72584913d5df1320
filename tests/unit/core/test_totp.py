"""RFC 6238 TOTP: test vectors, the +-1 step window, replay protection, enrolment."""

from __future__ import annotations

import base64
import random
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from vestibule.core.totp import (
    DIGITS,
    STEP_SECONDS,
    WINDOW,
    TotpCheck,
    code_at,
    new_secret,
    provisioning_uri,
    step_of,
    verify,
    verify_consecutive,
)

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
NOW = 1_700_000_015.0  # mid-step, so +-WINDOW never straddles a boundary by accident
CURRENT = step_of(NOW)


def test_constants() -> None:
    assert (STEP_SECONDS, DIGITS, WINDOW) == (30, 6, 1)


def test_rfc_secret() -> None:
    assert RFC_SECRET == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


# RFC 6238 appendix B, SHA-1 column, last six digits.
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]


@pytest.mark.parametrize(("unix_time", "code"), RFC_VECTORS)
def test_rfc6238_vectors(unix_time: int, code: str) -> None:
    assert code_at(RFC_SECRET, step_of(unix_time)) == code


@pytest.mark.parametrize(("unix_time", "code"), RFC_VECTORS)
def test_rfc6238_vectors_verify(unix_time: int, code: str) -> None:
    assert verify(RFC_SECRET, code, unix_time, None) == TotpCheck(True, step_of(unix_time))


@pytest.mark.parametrize(
    "secret",
    [RFC_SECRET.lower(), RFC_SECRET.rstrip("="), base64.b32encode(b"1234567890").decode().rstrip("=")],
)
def test_secret_case_and_padding_do_not_matter(secret: str) -> None:
    canonical = base64.b32encode(base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))).decode()
    assert code_at(secret, 1234) == code_at(canonical, 1234)


@pytest.mark.parametrize(
    ("unix_time", "step"),
    [(0, 0), (29, 0), (29.999, 0), (30, 1), (59, 1), (60, 2), (1111111109, 37037036), (20000000000, 666666666)],
)
def test_step_of(unix_time: float, step: int) -> None:
    assert step_of(unix_time) == step


def test_new_secret() -> None:
    secrets_ = {new_secret() for _ in range(100)}
    assert len(secrets_) == 100
    for secret in secrets_:
        assert len(secret) == 32
        assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        assert len(base64.b32decode(secret)) == 20


# --- verify: window ----------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_verify_accepts_within_window(offset: int) -> None:
    code = code_at(RFC_SECRET, CURRENT + offset)
    assert verify(RFC_SECRET, code, NOW, None) == TotpCheck(True, CURRENT + offset)


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_verify_rejects_outside_window(offset: int) -> None:
    code = code_at(RFC_SECRET, CURRENT + offset)
    window = {code_at(RFC_SECRET, CURRENT + d) for d in (-1, 0, 1)}
    assert code not in window  # holds for this secret and time
    assert verify(RFC_SECRET, code, NOW, None) == TotpCheck(False)


@pytest.mark.parametrize("within_step", [0.0, 0.001, 15.0, 29.999])
def test_verify_window_follows_step_boundaries(within_step: float) -> None:
    now = CURRENT * STEP_SECONDS + within_step
    assert verify(RFC_SECRET, code_at(RFC_SECRET, CURRENT + 1), now, None).accepted
    assert verify(RFC_SECRET, code_at(RFC_SECRET, CURRENT - 1), now, None).accepted
    assert not verify(RFC_SECRET, code_at(RFC_SECRET, CURRENT + 2), now, None).accepted


def test_verify_rejects_wrong_code() -> None:
    window = {code_at(RFC_SECRET, CURRENT + d) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "123456", "999999", "111111") if c not in window)
    assert verify(RFC_SECRET, wrong, NOW, None) == TotpCheck(False)


def test_verify_rejects_code_for_other_secret() -> None:
    other = base64.b32encode(b"abcdefghijabcdefghij").decode()
    code = code_at(other, CURRENT)
    assert code not in {code_at(RFC_SECRET, CURRENT + d) for d in (-1, 0, 1)}
    assert not verify(RFC_SECRET, code, NOW, None).accepted


# --- verify: replay ----------------------------------------------------------


def test_same_step_replay_is_rejected() -> None:
    code = code_at(RFC_SECRET, CURRENT)
    first = verify(RFC_SECRET, code, NOW, None)
    assert first == TotpCheck(True, CURRENT)
    again = verify(RFC_SECRET, code, NOW, last_used_step=first.step)
    assert again == TotpCheck(False, CURRENT, replayed=True)


@pytest.mark.parametrize(
    ("offset", "last_used_offset", "accepted"),
    [
        (0, None, True),
        (0, -1, True),
        (0, -5, True),
        (0, 0, False),
        (0, 1, False),
        (-1, -1, False),
        (-1, -2, True),
        (-1, 0, False),
        (1, 0, True),
        (1, 1, False),
    ],
)
def test_replay_table(offset: int, last_used_offset: int | None, accepted: bool) -> None:
    last = None if last_used_offset is None else CURRENT + last_used_offset
    check = verify(RFC_SECRET, code_at(RFC_SECRET, CURRENT + offset), NOW, last)
    assert check.accepted is accepted
    assert check.step == CURRENT + offset
    assert check.replayed is (not accepted)


def test_later_step_after_use_is_accepted_and_old_code_stays_dead() -> None:
    first_code = code_at(RFC_SECRET, CURRENT)
    used = verify(RFC_SECRET, first_code, NOW, None).step
    later = NOW + STEP_SECONDS
    second = verify(RFC_SECRET, code_at(RFC_SECRET, CURRENT + 1), later, used)
    assert second == TotpCheck(True, CURRENT + 1)
    # The first code is still inside the window at `later`, but older than the last use.
    assert verify(RFC_SECRET, first_code, later, second.step) == TotpCheck(False, CURRENT, replayed=True)


def test_wrong_code_is_not_reported_as_replay() -> None:
    window = {code_at(RFC_SECRET, CURRENT + d) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "123456", "999999") if c not in window)
    assert verify(RFC_SECRET, wrong, NOW, CURRENT + 5) == TotpCheck(False, None, replayed=False)


# --- verify: input format ----------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["", " ", "28708", "2870822", "0287082", "abcdef", "28708a", "-28708", "+28708", "287.08"],
)
def test_verify_rejects_malformed_codes(code: str) -> None:
    assert verify(RFC_SECRET, code, 59, None) == TotpCheck(False)


@pytest.mark.parametrize("code", ["287082", " 287082 ", "287 082", "28 70 82", "287082\n", "\t287082"])
def test_verify_tolerates_whitespace(code: str) -> None:
    assert verify(RFC_SECRET, code, 59, None) == TotpCheck(True, 1)


@pytest.mark.parametrize("code", ["٢٨٧٠٨٢", "²⁸⁷⁰⁸²", "２８７０８２"])
def test_verify_rejects_non_ascii_digits(code: str) -> None:
    assert verify(RFC_SECRET, code, 59, None) == TotpCheck(False)


# --- enrolment ---------------------------------------------------------------


@pytest.mark.parametrize("first_offset", [-2, -1, 0])
def test_verify_consecutive_accepts(first_offset: int) -> None:
    """The second code within one step of now, the first from the step before it."""
    step = CURRENT + first_offset
    first, second = code_at(RFC_SECRET, step), code_at(RFC_SECRET, step + 1)
    assert verify_consecutive(RFC_SECRET, first, second, NOW) == step + 1


@pytest.mark.parametrize("first_offset", [-12, -11, -10, -5, -4, -3, 1, 2, 3])
def test_verify_consecutive_rejects_outside_window(first_offset: int) -> None:
    """A pair read off the device more than a step ago (or ahead of the clock) is refused; the old window took
    pairs up to ten steps (five minutes) old."""
    step = CURRENT + first_offset
    first, second = code_at(RFC_SECRET, step), code_at(RFC_SECRET, step + 1)
    assert verify_consecutive(RFC_SECRET, first, second, NOW) is None


def test_verify_consecutive_tolerates_surrounding_whitespace() -> None:
    first, second = code_at(RFC_SECRET, CURRENT), code_at(RFC_SECRET, CURRENT + 1)
    assert verify_consecutive(RFC_SECRET, f" {first}\n", f"\t{second} ", NOW) == CURRENT + 1


@pytest.mark.parametrize(
    ("first_offset", "second_offset"),
    [(1, 0), (0, 2), (0, 0), (-1, 1), (0, -1)],
)
def test_verify_consecutive_rejects_non_consecutive(first_offset: int, second_offset: int) -> None:
    first = code_at(RFC_SECRET, CURRENT + first_offset)
    second = code_at(RFC_SECRET, CURRENT + second_offset)
    assert verify_consecutive(RFC_SECRET, first, second, NOW) is None


@pytest.mark.parametrize(("first", "second"), [("", ""), ("000000", "000000"), ("abcdef", "ghijkl")])
def test_verify_consecutive_rejects_garbage(first: str, second: str) -> None:
    assert verify_consecutive(RFC_SECRET, first, second, NOW) is None


def test_verify_consecutive_rejects_non_ascii() -> None:
    assert verify_consecutive(RFC_SECRET, "é", "ü", NOW) is None


# --- interoperability with pyotp --------------------------------------------


def _random_cases(count: int) -> list[tuple[str, float]]:
    rng = random.Random(6238)
    return [
        (base64.b32encode(rng.randbytes(20)).decode().rstrip("="), rng.uniform(0, 4_000_000_000))
        for _ in range(count)
    ]


@pytest.mark.parametrize(("secret", "unix_time"), _random_cases(40))
def test_matches_pyotp(secret: str, unix_time: float) -> None:
    reference = pyotp.TOTP(secret)
    step = step_of(unix_time)
    assert code_at(secret, step) == reference.at(unix_time)
    for offset in (-1, 0, 1):
        code = reference.at(unix_time + offset * STEP_SECONDS)
        assert verify(secret, code, unix_time, None) == TotpCheck(True, step + offset)
    ours = code_at(secret, step)
    assert reference.verify(ours, for_time=unix_time)


def test_new_secret_works_with_pyotp() -> None:
    secret = new_secret()
    assert code_at(secret, step_of(NOW)) == pyotp.TOTP(secret).at(NOW)


def test_provisioning_uri() -> None:
    secret = new_secret()
    uri = provisioning_uri(secret, "alice@example.com", "Vestibule Co")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Vestibule%20Co:alice@example.com"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "secret": secret,
        "issuer": "Vestibule Co",
        "algorithm": "SHA1",
        "digits": "6",
        "period": "30",
    }
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    # pyotp splits the label only on a literal ":"; the %3A form is allowed by the Key URI format.
    assert (parsed.secret, parsed.issuer) == (secret, "Vestibule Co")
    assert parsed.name.endswith("alice@example.com")
    assert parsed.at(NOW) == code_at(secret, step_of(NOW))
