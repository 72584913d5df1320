"""Who a credential, session or event belongs to: one reference type for every kind of principal."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    """The kinds of principal; the value is the prefix of the stored key (`root:<account id>`)."""

    ROOT = "root"
    IAM_USER = "user"
    ROLE = "role"  # the role behind a role session
    DIRECTORY_USER = "directory-user"
    PROFILE = "profile"
    FEDERATED = "federated"


class InvalidPrincipalKey(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PrincipalRef:
    kind: PrincipalKind
    id: str

    @property
    def key(self) -> str:
        """The stored form, `<kind>:<id>` (as in `principal_key` columns)."""
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> PrincipalRef:
        kind, sep, ident = key.partition(":")
        try:
            parsed = PrincipalKind(kind)
        except ValueError:
            raise InvalidPrincipalKey(f"unknown principal kind in {key!r}") from None
        if not sep or not ident:
            raise InvalidPrincipalKey(f"principal key {key!r} has no id")
        return cls(parsed, ident)

    @classmethod
    def root(cls, account_id: str) -> PrincipalRef:
        return cls(PrincipalKind.ROOT, account_id)

    @classmethod
    def iam_user(cls, user_id: str) -> PrincipalRef:
        return cls(PrincipalKind.IAM_USER, user_id)

    @classmethod
    def role(cls, role_id: str) -> PrincipalRef:
        return cls(PrincipalKind.ROLE, role_id)

    @classmethod
    def profile(cls, profile_id: str) -> PrincipalRef:
        """A personal profile (`profile:p...`): no account behind it."""
        return cls(PrincipalKind.PROFILE, profile_id)

    def __str__(self) -> str:
        return self.key
