"""Query-protocol parameters (flattened `Name.member.N.Field` form), validated against the members an
operation declares before its handler runs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..members import Member, detected, missing, shown, violation
from .errors import ValidationError

__all__ = ["Input", "QueryParams", "shown"]

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A list index as the SDKs write it (from 1, ASCII digits); nine digits are far beyond any list a model allows.
_INDEX = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)
# An integer as the SDKs write it; longer than 19 digits it is out of every model's range (no unbounded int()).
_INTEGER = re.compile(r"[-+]?0*([0-9]{1,19})", re.ASCII)


class _BadIndex(Exception):
    """A `Name.member.N` key whose N is not 1-999999999."""

    def __init__(self, name: str, index: str) -> None:
        super().__init__(name)
        quoted = "" if _XML_ILLEGAL.search(index) else f" '{shown(index)}'"
        self.violation = violation(_wire(name), f"Member index{quoted} must be a whole number from 1 to 999999999",
                                   None)


def _wire(name: str) -> str:
    return name[0].lower() + name[1:] if name else name


def _index(name: str, index: str) -> int:
    if _INDEX.fullmatch(index) is None:
        raise _BadIndex(name, index)
    return int(index)


class QueryParams:
    """The raw name/value pairs of one request (the last value of a repeated name wins)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, str] = dict(pairs)

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def members(self, name: str) -> list[str]:
        """`Name.member.N` values in index order; an index that is not 1-999999999 raises `_BadIndex`."""
        prefix = f"{name}.member."
        found = [(_index(name, key[len(prefix):]), value) for key, value in self._values.items()
                 if key.startswith(prefix)]
        return [value for _, value in sorted(found)]

    def struct(self, name: str) -> dict[str, str]:
        """`Name.Field` values of a structure member, by field."""
        prefix = f"{name}."
        return {key[len(prefix):]: value for key, value in self._values.items() if key.startswith(prefix)}

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


def _bounds(member: Member, size: int, measure: str) -> list[str]:
    """`Member must have length|value ...` for each bound `size` is outside of."""
    rules = []
    if member.min is not None and size < member.min:
        rules.append(f"Member must have {measure} greater than or equal to {member.min}")
    if member.max is not None and size > member.max:
        rules.append(f"Member must have {measure} less than or equal to {member.max}")
    return rules


def _text_violations(member: Member, value: str) -> list[str]:
    # XML cannot carry a control character: stored, it would make every later answer that includes it
    # unparseable; quoted back, this one
    illegal = _XML_ILLEGAL.search(value) is not None
    quoted = None if member.is_sensitive or illegal else value
    rules = []
    if member.enum and value not in member.enum:
        rules.append(f"Member must satisfy enum value set: [{', '.join(member.enum)}]")
    rules += _bounds(member, len(value), "length")
    if illegal:
        rules.append("Member must not contain control characters")
    if member.matcher is not None and not member.matcher.fullmatch(value):
        rules.append(f"Member must satisfy regular expression pattern: {member.pattern}")
    return [violation(member.wire_name, rule, quoted) for rule in rules]


def _integer(member: Member, raw: str) -> tuple[int | None, list[str]]:
    digits = _INTEGER.fullmatch(raw)
    if digits is None:
        quoted = None if _XML_ILLEGAL.search(raw) else raw
        return None, [violation(member.wire_name, "Member must be a whole number of at most 19 digits", quoted)]
    value = -int(digits[1]) if raw.startswith("-") else int(digits[1])
    return value, [violation(member.wire_name, rule, str(value)) for rule in _bounds(member, value, "value")]


def _boolean(member: Member, raw: str) -> tuple[bool | None, list[str]]:
    """`true`/`false` as the SDKs write them (any case; also `1`/`0`). Anything else is a violation of its own
    (InvalidInput, which earlier releases answered, is not an error most operations' models declare)."""
    if raw.lower() in {"true", "1"}:
        return True, []
    if raw.lower() in {"false", "0"}:
        return False, []
    quoted = None if _XML_ILLEGAL.search(raw) else raw
    return None, [violation(member.wire_name, "Member must be true or false", quoted)]


def _list_shown(items: list[str]) -> str | None:
    """A string list as AWS quotes it (Java's `[a, b]`); None when an item cannot be quoted in XML."""
    return None if any(_XML_ILLEGAL.search(item) for item in items) else f"[{', '.join(items)}]"


class Input:
    """The declared members of one call, validated in one pass: a ValidationError lists every member's every
    violation (`2 validation errors detected: ...; ...`); reading an undeclared member is a programming error."""

    def __init__(self, params: QueryParams, declared: Sequence[Member]) -> None:
        self._declared = {m.name: m for m in declared}
        self._texts: dict[str, str] = {}
        self._integers: dict[str, int] = {}
        self._booleans: dict[str, bool] = {}
        self._lists: dict[str, list[str]] = {}
        self._structs: dict[str, list[dict[str, str]]] = {}
        violations: list[str] = []
        for member in declared:
            violations += self._read(params, member)
        if violations:
            raise ValidationError(detected(violations))

    def _read(self, params: QueryParams, member: Member) -> list[str]:
        """Keeps the member's value and answers its violations."""
        if member.type in ("list", "structure-list"):
            return self._read_list(params, member)
        if member.type == "structure":
            fields = params.struct(member.name)
            if fields:
                self._structs[member.name] = [fields]
            return [missing(member.wire_name)] if member.is_required and not fields else []
        raw = params.get(member.name)
        if raw is None:
            return [missing(member.wire_name)] if member.is_required else []
        if member.type == "integer":
            value, violations = _integer(member, raw)
            if value is not None and not violations:
                self._integers[member.name] = value
            return violations
        if member.type == "boolean":
            flag, violations = _boolean(member, raw)
            if flag is not None:
                self._booleans[member.name] = flag
            return violations
        violations = _text_violations(member, raw)
        self._texts[member.name] = raw
        return violations

    def _read_list(self, params: QueryParams, member: Member) -> list[str]:
        quoted: str | None = None  # a list of structures has no quoted form AWS's messages agree on
        try:
            if member.type == "list":
                strings = params.members(member.name)
                size = len(strings)
                quoted = None if member.is_sensitive else _list_shown(strings)
                if strings:
                    self._lists[member.name] = strings
            else:
                structs = params.structs(member.name)
                size = len(structs)
                if structs:
                    self._structs[member.name] = structs
        except _BadIndex as bad:
            return [bad.violation]
        if not size:
            return [missing(member.wire_name)] if member.is_required else []
        return [violation(member.wire_name, rule, quoted) for rule in _bounds(member, size, "length")]

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

    def struct(self, name: str) -> dict[str, str]:
        """The fields of a structure member (none when it was not given)."""
        self._member(name)
        return next(iter(self._structs.get(name, [])), {})
