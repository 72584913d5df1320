"""Password policy ranges and rules, expiry, and the argon2id hasher."""

from __future__ import annotations

import pytest

from vestibule.core.passwords import (
    DEFAULT_POLICY,
    MAX_PASSWORD_LENGTH,
    PROFILE_POLICY,
    SYMBOLS,
    HashParameters,
    PasswordHasher,
    PasswordPolicy,
    PolicyError,
    is_expired,
    violations,
)

CHEAP = HashParameters(memory_kib=1024, time_cost=1)
DAY = 86400


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(CHEAP)


# --- policy ranges -----------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"minimum_length": 6},
        {"minimum_length": 8},
        {"minimum_length": 128},
        {"reuse_prevention": None},
        {"reuse_prevention": 1},
        {"reuse_prevention": 24},
        {"max_age_days": None},
        {"max_age_days": 1},
        {"max_age_days": 90},
        {"max_age_days": 1095},
    ],
)
def test_policy_accepts_in_range(settings: dict[str, int | None]) -> None:
    policy = PasswordPolicy(**settings)  # type: ignore[arg-type]
    for key, value in settings.items():
        assert getattr(policy, key) == value


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"minimum_length": 5}, "length"),
        ({"minimum_length": 0}, "length"),
        ({"minimum_length": -1}, "length"),
        ({"minimum_length": 129}, "length"),
        ({"reuse_prevention": 0}, "reuse"),
        ({"reuse_prevention": 25}, "reuse"),
        ({"reuse_prevention": -3}, "reuse"),
        ({"max_age_days": 0}, "age"),
        ({"max_age_days": 1096}, "age"),
        ({"max_age_days": -1}, "age"),
    ],
)
def test_policy_rejects_out_of_range(settings: dict[str, int], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PasswordPolicy(**settings)  # type: ignore[arg-type]


def test_policy_error_is_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_default_policy() -> None:
    assert PasswordPolicy() == DEFAULT_POLICY
    assert DEFAULT_POLICY.minimum_length == 8
    assert DEFAULT_POLICY.max_age_days is None
    assert DEFAULT_POLICY.reuse_prevention is None
    assert DEFAULT_POLICY.allow_users_to_change is True


def test_policy_dict_round_trip() -> None:
    policy = PasswordPolicy(
        minimum_length=14,
        require_symbols=True,
        require_numbers=True,
        require_uppercase=True,
        require_lowercase=True,
        allow_users_to_change=False,
        max_age_days=90,
        reuse_prevention=5,
        hard_expiry=True,
    )
    assert PasswordPolicy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize("data", [None, {}])
def test_policy_from_empty_dict_is_default(data: dict[str, object] | None) -> None:
    assert PasswordPolicy.from_dict(data) == DEFAULT_POLICY


def test_policy_from_dict_ignores_unknown_keys() -> None:
    policy = PasswordPolicy.from_dict({"minimum_length": 10, "expire_passwords": True})
    assert policy == PasswordPolicy(minimum_length=10)


def test_policy_from_dict_still_checks_ranges() -> None:
    with pytest.raises(PolicyError):
        PasswordPolicy.from_dict({"minimum_length": 3})


# --- violations --------------------------------------------------------------

ALL = PasswordPolicy(
    minimum_length=8,
    require_symbols=True,
    require_numbers=True,
    require_uppercase=True,
    require_lowercase=True,
)


@pytest.mark.parametrize(
    ("policy", "password", "expected"),
    [
        (DEFAULT_POLICY, "password", []),
        (DEFAULT_POLICY, "passwor", ["password.too_short"]),
        (DEFAULT_POLICY, "", ["password.too_short"]),
        (DEFAULT_POLICY, "x" * 128, []),
        (DEFAULT_POLICY, "x" * 129, ["password.too_long"]),
        (PasswordPolicy(minimum_length=128), "x" * 127, ["password.too_short"]),
        (PasswordPolicy(minimum_length=6), "abcdef", []),
        (PasswordPolicy(require_uppercase=True), "lowercase", ["password.needs_upper"]),
        (PasswordPolicy(require_uppercase=True), "lowercasE", []),
        (PasswordPolicy(require_uppercase=True), "ÉÀÇÑéàçñ", ["password.needs_upper"]),
        (PasswordPolicy(require_lowercase=True), "UPPERCASE", ["password.needs_lower"]),
        (PasswordPolicy(require_lowercase=True), "UPPERCASe", []),
        (PasswordPolicy(require_numbers=True), "no-digits-here", ["password.needs_number"]),
        (PasswordPolicy(require_numbers=True), "one-digit-1", []),
        (PasswordPolicy(require_numbers=True), "arabic-١٢٣", ["password.needs_number"]),
        (PasswordPolicy(require_symbols=True), "NoSymbols123", ["password.needs_symbol"]),
        (PasswordPolicy(require_symbols=True), "tilde~not~a~symbol", ["password.needs_symbol"]),
        (PasswordPolicy(require_symbols=True), "has!symbol", []),
        (ALL, "Aa1!aaaa", []),
        (ALL, "Aa1!", ["password.too_short"]),
        (
            ALL,
            "",
            [
                "password.too_short",
                "password.needs_upper",
                "password.needs_lower",
                "password.needs_number",
                "password.needs_symbol",
            ],
        ),
        (ALL, "aaaaaaaa", ["password.needs_upper", "password.needs_number", "password.needs_symbol"]),
        (ALL, "12345678", ["password.needs_upper", "password.needs_lower", "password.needs_symbol"]),
        (ALL, "!!!!!!!!", ["password.needs_upper", "password.needs_lower", "password.needs_number"]),
        (ALL, "A" * 129,
         ["password.too_long", "password.needs_lower", "password.needs_number", "password.needs_symbol"]),
        # Rules not required are not checked.
        (DEFAULT_POLICY, "aaaaaaaa", []),
    ],
)
def test_violations(policy: PasswordPolicy, password: str, expected: list[str]) -> None:
    assert violations(policy, password) == expected


@pytest.mark.parametrize("symbol", sorted(SYMBOLS))
def test_each_symbol_counts(symbol: str) -> None:
    assert violations(PasswordPolicy(require_symbols=True), f"abcdefg{symbol}") == []


def test_symbol_set_matches_iam() -> None:
    assert set("!@#$%^&*()_+-=[]{}|'") == SYMBOLS


def test_max_password_length() -> None:
    assert MAX_PASSWORD_LENGTH == 128


# --- expiry ------------------------------------------------------------------

T0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("max_age_days", "changed_at", "now", "expired"),
    [
        (None, T0, T0 + 10_000 * DAY, False),
        (90, None, T0, False),
        (90, T0, T0, False),
        (90, T0, T0 + 90 * DAY - 1, False),
        (90, T0, T0 + 90 * DAY, True),
        (90, T0, T0 + 91 * DAY, True),
        (1, T0, T0 + DAY - 0.5, False),
        (1, T0, T0 + DAY, True),
        (1095, T0, T0 + 1095 * DAY - 1, False),
        (1095, T0, T0 + 1095 * DAY, True),
    ],
)
def test_is_expired(max_age_days: int | None, changed_at: float | None, now: float, expired: bool) -> None:
    assert is_expired(PasswordPolicy(max_age_days=max_age_days), changed_at, now) is expired


# --- hashing -----------------------------------------------------------------


def test_default_hash_is_owasp_argon2id() -> None:
    stored = PasswordHasher().hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hash_uses_configured_parameters(hasher: PasswordHasher) -> None:
    assert hasher.hash("secret").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    other = PasswordHasher(HashParameters(memory_kib=2048, time_cost=1, parallelism=2))
    assert other.hash("secret").startswith("$argon2id$v=19$m=2048,t=1,p=2$")


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "p", "Pässwörd-ünïcode-密码", "x" * 128, " leading and trailing "],
)
def test_hash_verify_round_trip(hasher: PasswordHasher, password: str) -> None:
    stored = hasher.hash(password)
    assert len(password) < 8 or password not in stored
    assert hasher.verify(stored, password) is True


@pytest.mark.parametrize(
    ("password", "attempt"),
    [
        ("correct horse", "correct horsE"),
        ("correct horse", "correct horse "),
        ("correct horse", ""),
        ("correct horse", "Correct horse"),
        ("", "x"),
    ],
)
def test_wrong_password_is_rejected(hasher: PasswordHasher, password: str, attempt: str) -> None:
    assert hasher.verify(hasher.hash(password), attempt) is False


def test_hashes_are_salted(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("same"), hasher.hash("same")
    assert first != second
    assert hasher.verify(first, "same") and hasher.verify(second, "same")


def test_verify_counts_every_call(hasher: PasswordHasher) -> None:
    stored = hasher.hash("right")
    assert hasher.verifications == 0
    hasher.verify(stored, "right")
    assert hasher.verifications == 1
    hasher.verify(stored, "wrong")
    assert hasher.verifications == 2


@pytest.mark.parametrize(
    "password",
    ["anything", "", "vestibule dummy password, never matches anything"],
)
def test_unknown_user_never_verifies_but_still_costs_a_verification(
    hasher: PasswordHasher, password: str
) -> None:
    before = hasher.verifications
    assert hasher.verify(None, password) is False
    assert hasher.verifications == before + 1


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=1024,t=1,p=1$garbage",
        "$2b$12$abcdefghijklmnopqrstuuN1hKkq7BzEGHxLzjVPoKlEnBvDJ6Zm",
        "plaintext-password",
    ],
)
def test_unusable_stored_value_is_rejected_and_counted(hasher: PasswordHasher, stored: str) -> None:
    before = hasher.verifications
    assert hasher.verify(stored, "plaintext-password") is False
    assert hasher.verifications == before + 1


def test_hash_from_other_parameters_still_verifies(hasher: PasswordHasher) -> None:
    older = PasswordHasher(HashParameters(memory_kib=2048, time_cost=2))
    stored = older.hash("migrate me")
    assert hasher.verify(stored, "migrate me") is True
    assert hasher.needs_rehash(stored) is True


def test_needs_rehash_false_for_current_parameters(hasher: PasswordHasher) -> None:
    assert hasher.needs_rehash(hasher.hash("pw")) is False


@pytest.mark.parametrize(
    "newer",
    [
        HashParameters(memory_kib=2048, time_cost=1),
        HashParameters(memory_kib=1024, time_cost=2),
        HashParameters(memory_kib=1024, time_cost=1, parallelism=2),
    ],
)
def test_needs_rehash_when_parameters_change(hasher: PasswordHasher, newer: HashParameters) -> None:
    stored = hasher.hash("pw")
    assert PasswordHasher(newer).needs_rehash(stored) is True


@pytest.mark.parametrize("stored", ["", "not a hash", "$2b$12$abcdefghijklmnopqrstuv"])
def test_needs_rehash_for_unparseable_hash(hasher: PasswordHasher, stored: str) -> None:
    assert hasher.needs_rehash(stored) is True


@pytest.mark.parametrize("password", ["Quiet.Harbor.42", "Quiet~Harbor~42", "Quiet Harbor 42?", "Quiet€Harbor42",
                                      "Quiet-Harbor-42"])
def test_a_profile_password_may_use_any_character_not_a_letter_or_digit_as_its_symbol(password: str) -> None:
    assert violations(PROFILE_POLICY, password) == []
    assert PROFILE_POLICY.api_shape() == PasswordPolicy(**{**PROFILE_POLICY.to_dict(), "any_symbol": False}).api_shape()


def test_profile_symbols_are_still_required_and_iam_keeps_its_set() -> None:
    assert violations(PROFILE_POLICY, "QuietHarbor42") == ["password.needs_any_symbol"]
    assert violations(PROFILE_POLICY, "QuietHarborée42") == ["password.needs_any_symbol"]  # letters are letters
    assert violations(PasswordPolicy(require_symbols=True), "Quiet.Harbor.42") == ["password.needs_symbol"]
    assert not PasswordPolicy.from_dict({"require_symbols": True}).any_symbol  # stored IAM policies
