"""Query-protocol parameters (flattened `Name.member.N.Field` form), validated against the members an
operation declares before its handler runs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..members import Member
from .errors import InvalidInput, ValidationError

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A list index as the SDKs write it (from 1, ASCII digits); nine digits are far beyond any list a model allows.
_INDEX = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)
# An integer as the SDKs write it; longer than 19 digits it is out of every model's range (no unbounded int()).
_INTEGER = re.compile(r"[-+]?0*([0-9]{1,19})", re.ASCII)
_ONE = "1 validation error detected: "


def _wire(name: str) -> str:
    return name[0].lower() + name[1:] if name else name


def _index(name: str, index: str) -> int:
    if _INDEX.fullmatch(index) is None:
        raise ValidationError(f"{_ONE}Value at '{_wire(name)}' failed to satisfy constraint: Member index "
                              f"'{shown(index)}' must be a whole number from 1 to 999999999")
    return int(index)


def shown(value: str, limit: int = 64) -> str:
    """A client's value quoted in an error message, cut short."""
    return value if len(value) <= limit else value[:limit] + "..."


class QueryParams:
    """The raw name/value pairs of one request (the last value of a repeated name wins)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, str] = dict(pairs)

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def members(self, name: str) -> list[str]:
        """`Name.member.N` values in index order; an index that is not 1-999999999 is a ValidationError."""
        prefix = f"{name}.member."
        found = [(_index(name, key[len(prefix):]), value) for key, value in self._values.items()
                 if key.startswith(prefix)]
        return [value for _, value in sorted(found)]

    def structs(self, name: str) -> list[dict[str, str]]:
        """`Name.member.N.Field` values grouped by N, in index order."""
        found: dict[int, dict[str, str]] = {}
        prefix = f"{name}.member."
        for key, value in self._values.items():
            if key.startswith(prefix):
                index, _, field = key[len(prefix):].partition(".")
                if field:
                    found.setdefault(_index(name, index), {})[field] = value
        return [found[i] for i in sorted(found)]

    def present(self, member: Member) -> bool:
        if member.type == "list":
            return bool(self.members(member.name))
        if member.type == "structure-list":
            return bool(self.structs(member.name))
        return member.name in self._values


def _length_rule(member: Member) -> str:
    if member.max is None:
        return f"Member must have length greater than or equal to {member.min}"
    if member.min is None and member.type in ("list", "structure-list"):
        return f"Member must have length less than or equal to {member.max}"
    return f"Member must have length between {member.min or 0} and {member.max}"


def _check_text(member: Member, value: str) -> None:
    at = member.wire_name
    if member.enum and value not in member.enum:
        raise ValidationError(f"{_ONE}Value '{shown(value)}' at '{at}' failed to satisfy constraint: Member must "
                              f"satisfy enum value set: [{', '.join(member.enum)}]")
    if (member.min is not None and len(value) < member.min) or (member.max is not None and len(value) > member.max):
        raise ValidationError(f"{_ONE}Value at '{at}' failed to satisfy constraint: {_length_rule(member)}")
    if _XML_ILLEGAL.search(value):
        # XML cannot carry it: stored, it would make every later answer that includes it unparseable
        raise ValidationError(f"{_ONE}Value at '{at}' failed to satisfy constraint: Member must not contain "
                              "control characters")
    if member.matcher is not None and not member.matcher.fullmatch(value):
        raise ValidationError(f"{_ONE}Value '{shown(value)}' at '{at}' failed to satisfy constraint: Member must "
                              f"satisfy regular expression pattern: {member.pattern}")


def _check_integer(member: Member, raw: str) -> int:
    at = member.wire_name
    digits = _INTEGER.fullmatch(raw)
    if digits is None:
        raise ValidationError(f"{_ONE}Value '{shown(raw)}' at '{at}' failed to satisfy constraint: Member must be "
                              "a whole number of at most 19 digits")
    value = -int(digits[1]) if raw.startswith("-") else int(digits[1])
    if (member.min is not None and value < member.min) or (member.max is not None and value > member.max):
        rule = (f"between {member.min} and {member.max}" if member.min is not None and member.max is not None
                else f"greater than or equal to {member.min}" if member.min is not None
                else f"less than or equal to {member.max}")
        raise ValidationError(f"{_ONE}Value '{value}' at '{at}' failed to satisfy constraint: Member must have "
                              f"value {rule}")
    return value


def _check_boolean(member: Member, raw: str) -> bool:
    if raw.lower() in {"true", "1"}:
        return True
    if raw.lower() in {"false", "0"}:
        return False
    raise InvalidInput(f"Invalid boolean value for {member.name}: {shown(raw)}")


class Input:
    """The declared members of one call, validated; reading an undeclared member is a programming error."""

    def __init__(self, params: QueryParams, declared: Sequence[Member]) -> None:
        self._declared = {m.name: m for m in declared}
        self._texts: dict[str, str] = {}
        self._integers: dict[str, int] = {}
        self._booleans: dict[str, bool] = {}
        self._lists: dict[str, list[str]] = {}
        self._structs: dict[str, list[dict[str, str]]] = {}
        for member in declared:
            self._read(params, member)

    def _read(self, params: QueryParams, member: Member) -> None:
        if not params.present(member):
            if member.is_required:
                raise ValidationError(f"{_ONE}Value null at '{member.wire_name}' failed to satisfy constraint: "
                                      "Member must not be null")
            return
        if member.type in ("list", "structure-list"):
            items: list[str] | list[dict[str, str]]
            items = params.members(member.name) if member.type == "list" else params.structs(member.name)
            if member.max is not None and len(items) > member.max:
                raise ValidationError(f"{_ONE}Value at '{member.wire_name}' failed to satisfy constraint: "
                                      f"{_length_rule(member)}")
            if member.type == "list":
                self._lists[member.name] = params.members(member.name)
            else:
                self._structs[member.name] = params.structs(member.name)
            return
        raw = params.get(member.name)
        assert raw is not None
        if member.type == "integer":
            self._integers[member.name] = _check_integer(member, raw)
        elif member.type == "boolean":
            self._booleans[member.name] = _check_boolean(member, raw)
        else:
            _check_text(member, raw)
            self._texts[member.name] = raw

    def _member(self, name: str) -> Member:
        member = self._declared.get(name)
        if member is None:
            raise KeyError(f"input member {name} is read but not declared")
        return member

    def text(self, name: str) -> str | None:
        self._member(name)
        return self._texts.get(name)

    def required(self, name: str) -> str:
        """A member declared required (validation has already refused its absence)."""
        assert self._member(name).is_required, f"{name} is not declared required"
        return self._texts[name]

    def integer(self, name: str) -> int | None:
        self._member(name)
        return self._integers.get(name)

    def boolean(self, name: str) -> bool | None:
        self._member(name)
        return self._booleans.get(name)

    def strings(self, name: str) -> list[str]:
        self._member(name)
        return self._lists.get(name, [])

    def structs(self, name: str) -> list[dict[str, str]]:
        self._member(name)
        return self._structs.get(name, [])
