"""An account's contact details: the fields, their rules, and what is wrong with a set of values.

Every field is optional; a value given must fit its rule. Problems are (field, message key) pairs, so a page
shows each under its field and the command line prints them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

from .identifiers import InvalidIdentifier, normalize_email

# A phone number as people write it: an optional +, digits with spaces, hyphens, dots or brackets between,
# 6 to 15 digits in all (E.164's longest), and an optional extension.
_PHONE = re.compile(r"\+?[0-9(][0-9 ().-]*[0-9](?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?", re.IGNORECASE)
_COUNTRY = re.compile(r"[A-Z]{2}")
_POSTAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*")

LIMITS = {"full_name": 100, "company": 100, "address_line1": 120, "address_line2": 120, "city": 60,
          "region": 60, "postal_code": 20, "security_name": 100}


@dataclass(frozen=True)
class ContactDetails:
    full_name: str = ""
    phone: str = ""
    company: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    security_name: str = ""
    security_email: str = ""
    security_phone: str = ""

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FIELDS = tuple(f.name for f in fields(ContactDetails))

# The English text of each problem (the pages translate the keys; the command line prints these).
MESSAGES = {
    "contact.error.full_name": "A full name is at most 100 printable characters.",
    "contact.error.company": "A company name is at most 100 printable characters.",
    "contact.error.address_line1": "An address line is at most 120 printable characters.",
    "contact.error.address_line2": "An address line is at most 120 printable characters.",
    "contact.error.city": "A city is at most 60 printable characters.",
    "contact.error.region": "A state or region is at most 60 printable characters.",
    "contact.error.postal_code": "A postal code is at most 20 letters, digits, spaces and hyphens.",
    "contact.error.country": "A country is its two-letter ISO code, such as TW or US.",
    "contact.error.phone": "A phone number is 6 to 15 digits, optionally starting with + (spaces, hyphens, dots and "
                           "brackets allowed), with an optional extension (x123).",
    "contact.error.security_name": "A name is at most 100 printable characters.",
    "contact.error.security_email": "Enter a valid email address.",
    "contact.error.security_name_needed": "The security contact needs a name.",
    "contact.error.security_reach": "The security contact needs an email address or a phone number.",
}


class ContactProblems(ValueError):
    """The values break rules: `problems` lists (field, message key), in field order."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(" ".join(f"{name}: {MESSAGES.get(key, key)}" for name, key in problems))
        self.problems = problems


def _text(value: str) -> str:
    """Trimmed, inner runs of white space as one space, NFC."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def _printable(value: str) -> bool:
    return all(unicodedata.category(ch)[0] != "C" for ch in value)


def phone_ok(value: str) -> bool:
    if len(value) > 32 or not _PHONE.fullmatch(value):
        return False
    main: str = re.split(r"(?i)x|ext", value)[0]
    digits = sum(1 for ch in main if ch.isdigit())
    return 6 <= digits <= 15


def checked(raw: ContactDetails) -> ContactDetails:
    """The values cleaned (trimmed, country upper-cased, email lower-cased) or ContactProblems."""
    values = {name: _text(getattr(raw, name)) for name in FIELDS}
    values["country"] = values["country"].upper()
    problems: list[tuple[str, str]] = []
    for name in FIELDS:
        value = values[name]
        if not value:
            continue
        if name in LIMITS and (len(value) > LIMITS[name] or not _printable(value)):
            problems.append((name, f"contact.error.{name}"))
        elif name in ("phone", "security_phone") and not phone_ok(value):
            problems.append((name, "contact.error.phone"))
        elif name == "country" and not _COUNTRY.fullmatch(value):
            problems.append((name, "contact.error.country"))
        elif name == "postal_code" and not _POSTAL.fullmatch(value):
            problems.append((name, "contact.error.postal_code"))
        elif name == "security_email":
            try:
                values[name] = normalize_email(value)
            except InvalidIdentifier:
                problems.append((name, "contact.error.security_email"))
    if (values["security_email"] or values["security_phone"]) and not values["security_name"]:
        problems.append(("security_name", "contact.error.security_name_needed"))
    if values["security_name"] and not (values["security_email"] or values["security_phone"]):
        problems.append(("security_email", "contact.error.security_reach"))
    if problems:
        raise ContactProblems(problems)
    return ContactDetails(**values)
