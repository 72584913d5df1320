"""A directory user's profile (every Identity Store attribute but the user name and external IDs) as frozen
values, read from and written to plain JSON, and changed by attribute operations (`name.givenName`, `emails`)
as Identity Store's UpdateUser and UpdateGroup take them. Field names map to the API's by case: `profile_url`
is `ProfileUrl` on the wire and `profileUrl` in an attribute path."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ...errors import InvalidValue

TEXT_MAX = 1024
_TEXT_EXTRA = set("\t\n\r \u00a0\u3000")
T = TypeVar("T")


@dataclass(frozen=True)
class Name:
    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    honorific_prefix: str | None = None
    honorific_suffix: str | None = None


@dataclass(frozen=True)
class Email:
    value: str | None = None
    type: str | None = None
    primary: bool | None = None


@dataclass(frozen=True)
class Address:
    street_address: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    formatted: str | None = None
    type: str | None = None
    primary: bool | None = None


@dataclass(frozen=True)
class PhoneNumber:
    value: str | None = None
    type: str | None = None
    primary: bool | None = None


@dataclass(frozen=True)
class Photo:
    value: str | None = None  # required
    type: str | None = None
    display: str | None = None
    primary: bool | None = None


@dataclass(frozen=True)
class Role:
    value: str | None = None
    type: str | None = None
    primary: bool | None = None


@dataclass(frozen=True)
class UserProfile:
    name: Name | None = None
    display_name: str | None = None
    nick_name: str | None = None
    profile_url: str | None = None
    emails: tuple[Email, ...] = ()
    addresses: tuple[Address, ...] = ()
    phone_numbers: tuple[PhoneNumber, ...] = ()
    user_type: str | None = None
    title: str | None = None
    preferred_language: str | None = None
    locale: str | None = None
    timezone: str | None = None
    photos: tuple[Photo, ...] = ()
    website: str | None = None
    birthdate: str | None = None
    roles: tuple[Role, ...] = ()

    @property
    def primary_email(self) -> str | None:
        """The primary email's address, else the first one's."""
        chosen = next((e for e in self.emails if e.primary), self.emails[0] if self.emails else None)
        return chosen.value if chosen is not None else None


_LISTS: dict[str, tuple[type[Any], int]] = {"emails": (Email, 1), "addresses": (Address, 1),
                                            "phone_numbers": (PhoneNumber, 1), "photos": (Photo, 3),
                                            "roles": (Role, 1)}


def wire_name(field: str) -> str:
    """`profile_url` -> `ProfileUrl`."""
    return "".join(part.capitalize() for part in field.split("_"))


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def text_ok(value: str) -> bool:
    """The model's `[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r  　]+`."""
    return bool(value) and all(unicodedata.category(c)[0] in "LMSNP" or c in _TEXT_EXTRA for c in value)


def text(value: object, at: str, high: int = TEXT_MAX) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{at} must be a string.")
    if not 1 <= len(value) <= high:
        raise InvalidValue(f"{at} must have length between 1 and {high}.")
    if not text_ok(value):
        raise InvalidValue(f"{at} must contain only letters, marks, symbols, numbers, punctuation and spaces.")
    return value


def _record(cls: type[T], data: object, at: str) -> T:
    if not isinstance(data, Mapping):
        raise InvalidValue(f"{at} must be an object.")
    fields = {_key(f.name): f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, object] = {}
    for key, value in data.items():
        field = fields.get(_key(str(key)))
        if field is None:
            raise InvalidValue(f"{at}.{key} is not an attribute of {at}.")
        if value is None:
            continue
        if field == "primary":
            if not isinstance(value, bool):
                raise InvalidValue(f"{at}.{key} must be a boolean.")
            values[field] = value
        else:
            values[field] = text(value, f"{at}.{key}")
    if cls is Photo and "value" not in values:
        raise InvalidValue(f"{at}.value is required.")
    return cls(**values)


def _records(field: str, data: object, at: str) -> tuple[Any, ...]:
    cls, high = _LISTS[field]
    if not isinstance(data, Sequence) or isinstance(data, str):
        raise InvalidValue(f"{at} must be a list.")
    if not 1 <= len(data) <= high:
        raise InvalidValue(f"{at} must have between 1 and {high} items.")
    return tuple(_record(cls, item, at) for item in data)


def _value(field: str, data: object, at: str) -> object:
    if field == "name":
        return _record(Name, data, at)
    if field in _LISTS:
        return _records(field, data, at)
    return text(data, at)


def profile_of(data: Mapping[str, object], *, at: str = "") -> UserProfile:
    """A profile from JSON keyed by field or wire name (`display_name` or `DisplayName`); None or absent: unset."""
    fields = {_key(f.name): f.name for f in dataclasses.fields(UserProfile)}
    values: dict[str, object] = {}
    for key, value in data.items():
        field = fields.get(_key(key))
        if field is None:
            raise InvalidValue(f"{at}{key} is not a user attribute.")
        if value is not None:
            values[field] = _value(field, value, f"{at}{key}")
    return UserProfile(**values)  # type: ignore[arg-type]


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def stored(profile: UserProfile) -> dict[str, Any]:
    """The profile as JSON, unset fields left out."""
    plain = _plain(profile)
    assert isinstance(plain, dict)
    return {key: value for key, value in plain.items() if value not in ((), [])}


def wire(value: object) -> object:
    """A profile or one of its parts as the Identity Store API shows it (`ProfileUrl`, `Emails`: [...])."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {wire_name(f.name): wire(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) not in (None, ())}
    if isinstance(value, tuple):
        return [wire(item) for item in value]
    return value


@dataclass(frozen=True)
class AttributeOperation:
    """Set the attribute at `path` (`displayName`, `name.givenName`, `emails`) to `value`, or unset it (None)."""

    path: str
    value: object = None


USER_NAME_PATH = "username"


def apply(profile: UserProfile, operations: Sequence[AttributeOperation]) -> tuple[UserProfile, str | None]:
    """The profile after `operations`, and the new user name if one sets `userName` (never unset)."""
    fields = {_key(f.name): f.name for f in dataclasses.fields(UserProfile)}
    name_parts = {_key(f.name): f.name for f in dataclasses.fields(Name)}
    user_name: str | None = None
    for operation in operations:
        head, _, part = operation.path.partition(".")
        at = operation.path
        if _key(head) == USER_NAME_PATH and not part:
            if operation.value is None:
                raise InvalidValue("userName cannot be removed.")
            user_name = text(operation.value, at, 128)
            continue
        field = fields.get(_key(head))
        if field is None or (part and field != "name") or "." in part:
            raise InvalidValue(f"{at} is not an attribute path this operation can change.")
        if part:
            sub = name_parts.get(_key(part))
            if sub is None:
                raise InvalidValue(f"{at} is not an attribute path this operation can change.")
            value = None if operation.value is None else text(operation.value, at)
            profile = replace(profile, name=replace(profile.name or Name(), **{sub: value}))
            continue
        change: dict[str, Any] = {field: (() if field in _LISTS else None) if operation.value is None
                                  else _value(field, operation.value, at)}
        profile = replace(profile, **change)
    return profile, user_name
