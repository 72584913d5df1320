"""REST-JSON requests: members in the JSON body, the query string or a header (where the model's `location`
puts them), validated against an operation's declared members in one pass; answers as JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

from ..aws_json import codec as json_codec
from ..aws_json.codec import dump
from ..json_values import JsonValue
from ..members import Member, detected, missing, violation
from .errors import InvalidRequestException

CONTENT_TYPE = b"application/json"

Location = Literal["body", "querystring", "header"]
_DIGITS = re.compile(r"[0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RestMember(Member):
    """A member with the model's `location` and `locationName` (body members keep their own name)."""

    location: Location = "body"
    location_name: str = ""


def _located(member: Member, location: Location, name: str) -> RestMember:
    kept = {f.name: getattr(member, f.name) for f in fields(Member)}
    return RestMember(**kept, location=location, location_name=name)


def in_query(member: Member, name: str) -> RestMember:
    return _located(member, "querystring", name)


def in_header(member: Member, name: str) -> RestMember:
    return _located(member, "header", name.lower())


def parse_body(body: bytes) -> dict[str, JsonValue]:
    return json_codec.parse_body(body, InvalidRequestException)


class RestInput:
    """The declared members of one call: present when required, of the model's type, within its bounds. One
    InvalidRequestException lists every violation; reading an undeclared member is a programming error."""

    def __init__(self, declared: Sequence[Member], body: Mapping[str, JsonValue], query: Mapping[str, str],
                 headers: Mapping[str, str]) -> None:
        self._declared = {m.name: m for m in declared}
        self._values: dict[str, JsonValue] = {}
        violations: list[str] = []
        for member in declared:
            raw = _raw(member, body, query, headers)
            if raw is None:
                if member.is_required:
                    violations.append(missing(member.name))
                continue
            problem, value = _checked(member, raw)
            if problem:
                violations.append(problem)
            else:
                self._values[member.name] = value
        if violations:
            raise InvalidRequestException(detected(violations))

    def _get(self, name: str) -> JsonValue:
        if name not in self._declared:
            raise KeyError(f"input member {name} is read but not declared")
        return self._values.get(name)

    def text(self, name: str) -> str | None:
        value = self._get(name)
        return value if isinstance(value, str) else None

    def required(self, name: str) -> str:
        value = self.text(name)
        assert value is not None, f"{name} is read as required but declared optional"
        return value

    def integer(self, name: str) -> int | None:
        value = self._get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def strings(self, name: str) -> list[str] | None:
        value = self._get(name)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else None


def _raw(member: Member, body: Mapping[str, JsonValue], query: Mapping[str, str],
         headers: Mapping[str, str]) -> JsonValue:
    where = member.location if isinstance(member, RestMember) else "body"
    if where == "body":
        return body.get(member.name)
    assert isinstance(member, RestMember)
    found = (query if where == "querystring" else headers).get(member.location_name)
    return found if found else None  # an empty query value or header is no value


def _checked(member: Member, raw: JsonValue) -> tuple[str, JsonValue]:
    """(the violation or '', the value as the handler reads it)."""
    shown = None if member.is_sensitive else raw if isinstance(raw, str) else None
    if member.type == "string":
        if not isinstance(raw, str):
            return f"Value at '{member.name}' failed to satisfy constraint: Member must be a string", None
        if _CONTROL.search(raw):  # a NUL is no identifier, and PostgreSQL refuses it in text
            return violation(member.name, "Member must not contain control characters", None), None
        if (member.min is not None and len(raw) < member.min) or (member.max is not None and len(raw) > member.max):
            return violation(member.name, f"Member must have length between {member.min or 0} and {member.max}",
                             shown), None
        if member.matcher is not None and not member.matcher.fullmatch(raw):
            return violation(member.name, f"Member must satisfy regular expression pattern: {member.pattern}",
                             shown), None
        if member.enum and raw not in member.enum:
            return violation(member.name, f"Member must satisfy enum value set: [{', '.join(member.enum)}]",
                             shown), None
        return "", raw
    if member.type == "integer":
        number = raw if isinstance(raw, int) and not isinstance(raw, bool) else (
            int(raw) if isinstance(raw, str) and _DIGITS.fullmatch(raw) else None)
        if number is None:
            return violation(member.name, "Member must be an integer", shown), None
        if member.min is not None and number < member.min:
            return violation(member.name, f"Member must have value greater than or equal to {member.min}",
                             str(number)), None
        if member.max is not None and number > member.max:
            return violation(member.name, f"Member must have value less than or equal to {member.max}",
                             str(number)), None
        return "", number
    if member.type == "list":
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            return f"Value at '{member.name}' failed to satisfy constraint: Member must be a list of strings", None
        if any(_CONTROL.search(item) for item in raw):
            return violation(member.name, "Member must not contain control characters", None), None
        if member.max is not None and len(raw) > member.max:
            return violation(member.name, f"Member must have length less than or equal to {member.max}",
                             None), None
        if member.min is not None and len(raw) < member.min:
            return violation(member.name, f"Member must have length greater than or equal to {member.min}",
                             None), None
        return "", raw
    raise AssertionError(f"{member.type} members are not read from REST-JSON requests")


__all__ = ["CONTENT_TYPE", "RestInput", "RestMember", "dump", "in_header", "in_query", "parse_body"]
