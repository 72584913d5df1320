"""Rules for account IDs, aliases, email addresses and IAM user names (ARNs live in `arns`, re-exported here)."""

from __future__ import annotations

import re
import secrets

from .arns import mfa_arn as mfa_arn
from .arns import root_arn as root_arn
from .arns import user_arn as user_arn

_ALIAS = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_IAM_USER_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
# Local part: the dot-atom of RFC 5322 without quoted strings; domain: LDH labels with a dot.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class InvalidIdentifier(ValueError):
    """An identifier broke a rule; `field` names what, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def new_account_id() -> str:
    """Twelve random digits; the first is never 0 so the ID never looks shorter."""
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(11))


def is_account_id(value: str) -> bool:
    return bool(_ACCOUNT_ID.fullmatch(value))


def format_account_id(account_id: str) -> str:
    """`111122223333` -> `1111-2222-3333`, as the console shows it."""
    return f"{account_id[0:4]}-{account_id[4:8]}-{account_id[8:12]}"


def parse_account_reference(value: str) -> str:
    """Accepts an ID with or without hyphens/spaces, or an alias; returns it normalised."""
    compact = value.strip().replace("-", "").replace(" ", "")
    if _ACCOUNT_ID.fullmatch(compact):
        return compact
    return value.strip().lower()


def validate_alias(alias: str) -> str:
    if not 3 <= len(alias) <= 63:
        raise InvalidIdentifier("alias", "An alias must be 3 to 63 characters long.")
    if not _ALIAS.fullmatch(alias):
        raise InvalidIdentifier(
            "alias",
            "An alias may contain only lowercase letters, digits and hyphens, "
            "and must not start or end with a hyphen.",
        )
    if alias.isdigit() or _ACCOUNT_ID.fullmatch(alias.replace("-", "")):
        raise InvalidIdentifier("alias", "An alias cannot be all digits or look like an account ID.")
    return alias


def normalize_email(raw: str) -> str:
    """Validate and return the comparison form: the whole address lowercased.

    `name+tag@domain` stays a different address from `name@domain`.
    """
    value = raw.strip()
    if len(value) > 254 or value.count("@") != 1:
        raise InvalidIdentifier("email", "Enter a valid email address.")
    local, domain = value.split("@")
    if not local or len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        raise InvalidIdentifier("email", "Enter a valid email address.")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise InvalidIdentifier("email", "Enter a valid email address.")
    if labels[-1].isdigit():
        raise InvalidIdentifier("email", "Enter a valid email address.")
    return value.lower()


def validate_iam_user_name(name: str) -> str:
    if not _IAM_USER_NAME.fullmatch(name):
        raise InvalidIdentifier(
            "username",
            "A user name is 1 to 64 characters of letters, digits and + = , . @ _ -",
        )
    return name


def validate_account_name(name: str) -> str:
    value = name.strip()
    if not 1 <= len(value) <= 50 or any(ord(c) < 32 for c in value):
        raise InvalidIdentifier("account_name", "An account name is 1 to 50 printable characters.")
    return value


def new_iam_id(prefix: str) -> str:
    """IAM unique IDs: a 4-letter prefix (AIDA users, AROA roles, ...) and 17 base32 letters."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(17))
