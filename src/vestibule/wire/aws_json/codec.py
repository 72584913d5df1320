"""JSON 1.1 bodies: the request object, validated against an operation's declared members, and answers."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

from ..errors import AwsError
from ..json_values import JsonObject, JsonValue
from ..members import Member
from .errors import SerializationException, ValidationException

CONTENT_TYPE = b"application/x-amz-json-1.1"


def parse_body(body: bytes, invalid: type[AwsError] = SerializationException) -> dict[str, JsonValue]:
    """A JSON object (empty for no body); `invalid` is the protocol's error for anything else."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8 or JSON, too deep, or an integer over 4,300 digits
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise invalid("The request body must be a JSON object.")
    if (b"\\u" in body or b"\xed" in body) and _has_lone_surrogate(value):  # only JSON escapes or CESU bytes make one
        raise invalid("The request body holds a lone UTF-16 surrogate, which is not a character.")
    return value


def _has_lone_surrogate(value: JsonValue) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def dump(value: JsonObject) -> bytes:
    # backslashreplace: a safety net, so an answer quoting something odd is still sent rather than a 500
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def _unicode_class_matches(pattern: str, value: str) -> bool | None:
    """A model pattern that is one class of Unicode categories and characters repeated (`[\\p{L}\\p{N}\\t ]+`),
    which Python's `re` cannot read; None for any other pattern."""
    if not (pattern.startswith("[") and pattern[-2:] in ("]+", "]*")) or "\\p{" not in pattern:
        return None
    body, categories, chars, i = pattern[1:-2], set(), set(), 0
    escapes = {"t": "\t", "n": "\n", "r": "\r"}
    while i < len(body):
        if body.startswith("\\p{", i):
            end = body.index("}", i)
            categories.add(body[i + 3:end])
            i = end + 1
        elif body[i] == "\\" and i + 1 < len(body):
            chars.add(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            chars.add(body[i])
            i += 1
    if pattern.endswith("+") and not value:
        return False
    return all(c in chars or unicodedata.category(c) in categories or unicodedata.category(c)[0] in categories
               for c in value)


def _invalid(member: Member, rule: str) -> ValidationException:
    return ValidationException(f"1 validation error detected: Value at '{member.wire_name}' failed to satisfy "
                               f"constraint: {rule}")


class JsonInput:
    """The declared members of one call, checked for presence, type, length and pattern."""

    def __init__(self, body: dict[str, JsonValue], declared: Sequence[Member]) -> None:
        self._declared = {m.name: m for m in declared}
        self._body = body
        for member in declared:
            self._check(member, body.get(member.name))

    def _check(self, member: Member, value: JsonValue) -> None:
        if value is None:
            if member.is_required:
                raise _invalid(member, "Member must not be null")
            return
        if member.type == "string":
            if not isinstance(value, str):
                raise SerializationException(f"{member.name} must be a string.")
            if (member.min is not None and len(value) < member.min) or (
                    member.max is not None and len(value) > member.max):
                raise _invalid(member, f"Member must have length between {member.min or 0} and {member.max}")
            unicode_match = None if member.pattern is None else _unicode_class_matches(member.pattern, value)
            if unicode_match is False or (unicode_match is None and member.matcher is not None
                                          and not member.matcher.fullmatch(value)):
                raise _invalid(member, f"Member must satisfy regular expression pattern: {member.pattern}")
            if member.enum and value not in member.enum:
                raise _invalid(member, f"Member must satisfy enum value set: [{', '.join(member.enum)}]")
        elif member.type == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            raise SerializationException(f"{member.name} must be an integer.")
        elif member.type == "integer" and isinstance(value, int) and (
                (member.min is not None and value < member.min) or (member.max is not None and value > member.max)):
            bound = (f"greater than or equal to {member.min}" if member.min is not None and value < member.min
                     else f"less than or equal to {member.max}")
            raise _invalid(member, f"Member must have value {bound}")
        elif member.type == "boolean" and not isinstance(value, bool):
            raise SerializationException(f"{member.name} must be a boolean.")
        elif member.type in ("list", "structure-list"):
            if not isinstance(value, list):
                raise SerializationException(f"{member.name} must be a list.")
            if (member.min is not None and len(value) < member.min) or (
                    member.max is not None and len(value) > member.max):
                raise _invalid(member, f"Member must have length between {member.min or 0} and {member.max}")
            if member.type == "structure-list" and not all(isinstance(item, dict) for item in value):
                raise SerializationException(f"{member.name} must be a list of objects.")
        elif member.type == "structure" and not isinstance(value, dict):
            raise SerializationException(f"{member.name} must be an object.")

    def text(self, name: str) -> str | None:
        if name not in self._declared:
            raise KeyError(f"input member {name} is read but not declared")
        value = self._body.get(name)
        return value if isinstance(value, str) else None

    def value(self, name: str) -> JsonValue:
        """A declared member as the client sent it (a structure, a list), None when absent."""
        if name not in self._declared:
            raise KeyError(f"input member {name} is read but not declared")
        return self._body.get(name)

    def integer(self, name: str) -> int | None:
        value = self.value(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
