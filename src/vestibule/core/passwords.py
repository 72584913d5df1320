"""Password policy (the IAM account password policy fields, and Vestibule's maximum length and breached-password
option) and argon2id hashing."""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass
from typing import Any

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MAX_PASSWORD_LENGTH = 128
SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")


class PolicyError(ValueError):
    """A password-policy setting is out of range."""


@dataclass(frozen=True)
class PasswordPolicy:
    minimum_length: int = 8
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = True
    max_age_days: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool = False
    # not IAM policy fields: never in api_shape
    maximum_length: int = MAX_PASSWORD_LENGTH
    refuse_breached: bool = False  # refuse passwords known from data breaches (core/breached_passwords.py)
    any_symbol: bool = False  # a symbol is any character not a letter or digit (IAM keeps AWS's `SYMBOLS`)

    def __post_init__(self) -> None:
        if not 6 <= self.minimum_length <= MAX_PASSWORD_LENGTH:
            raise PolicyError("Minimum password length must be between 6 and 128.")
        if not self.minimum_length <= self.maximum_length <= MAX_PASSWORD_LENGTH:
            raise PolicyError("Maximum password length must be between the minimum length and 128.")
        if self.max_age_days is not None and not 1 <= self.max_age_days <= 1095:
            raise PolicyError("Maximum password age must be between 1 and 1095 days.")
        if self.reuse_prevention is not None and not 1 <= self.reuse_prevention <= 24:
            raise PolicyError("Password reuse prevention must be between 1 and 24.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def api_shape(self) -> dict[str, Any]:
        """The policy under the IAM API's field names (GetAccountPasswordPolicy, and the CLI's JSON)."""
        shape: dict[str, Any] = {
            "MinimumPasswordLength": self.minimum_length,
            "RequireSymbols": self.require_symbols,
            "RequireNumbers": self.require_numbers,
            "RequireUppercaseCharacters": self.require_uppercase,
            "RequireLowercaseCharacters": self.require_lowercase,
            "AllowUsersToChangePassword": self.allow_users_to_change,
            "ExpirePasswords": self.max_age_days is not None,
        }
        if self.max_age_days is not None:
            shape["MaxPasswordAge"] = self.max_age_days
        if self.reuse_prevention is not None:
            shape["PasswordReusePrevention"] = self.reuse_prevention
        shape["HardExpiry"] = self.hard_expiry
        return shape

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PasswordPolicy:
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


DEFAULT_POLICY = PasswordPolicy()
# Root users: 8 or more characters, never a password known from breaches (sign-up, reset, change, the CLI).
ROOT_POLICY = PasswordPolicy(refuse_breached=True)
# Personal profiles: 8 to 64 characters, each of lower case, upper case, digit and symbol (any character not a
# letter or digit: `.`, `~`, a space), none of the last 3,
# none known from breaches.
PROFILE_POLICY = PasswordPolicy(minimum_length=8, require_symbols=True, require_numbers=True,
                                require_uppercase=True, require_lowercase=True, reuse_prevention=3,
                                maximum_length=64, refuse_breached=True, any_symbol=True)


def violations(policy: PasswordPolicy, password: str) -> list[str]:
    """Every rule the password breaks, as message keys (translated by the web layer; `password.too_long` takes
    `maximum`). The breached-password check is not here: it may read the operator's file (services/passwords.py)."""
    problems: list[str] = []
    if len(password) < policy.minimum_length:
        problems.append("password.too_short")
    if len(password) > policy.maximum_length:
        problems.append("password.too_long")
    if policy.require_uppercase and not any(c in string.ascii_uppercase for c in password):
        problems.append("password.needs_upper")
    if policy.require_lowercase and not any(c in string.ascii_lowercase for c in password):
        problems.append("password.needs_lower")
    if policy.require_numbers and not any(c in string.digits for c in password):
        problems.append("password.needs_number")
    if policy.require_symbols and not any(_is_symbol(policy, c) for c in password):
        problems.append("password.needs_any_symbol" if policy.any_symbol else "password.needs_symbol")
    return problems


def _is_symbol(policy: PasswordPolicy, char: str) -> bool:
    return not char.isalnum() if policy.any_symbol else char in SYMBOLS


def is_expired(policy: PasswordPolicy, changed_at: float | None, now: float) -> bool:
    if policy.max_age_days is None or changed_at is None:
        return False
    return now - changed_at >= policy.max_age_days * 86400


@dataclass(frozen=True)
class HashParameters:
    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1


class PasswordHasher:
    """argon2id with OWASP defaults; a fixed dummy hash keeps unknown-user timing equal."""

    def __init__(self, params: HashParameters = HashParameters()) -> None:
        self._argon = _Argon2(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._dummy = self._argon.hash("vestibule dummy password, never matches anything")
        self.verifications = 0

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Always runs one argon2id verification, against the dummy hash when `stored` is None."""
        self.verifications += 1
        target = stored if stored else self._dummy
        try:
            ok = self._argon.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._argon.check_needs_rehash(stored)
        except InvalidHashError:
            return True
