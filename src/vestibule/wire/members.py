"""Input members as botocore's service models declare them: name, type, required, length or value range,
pattern, enum. An operation lists the members it reads; the endpoint validates them all before the handler
runs, and the contract test compares every declaration with the model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

MemberType = Literal["string", "integer", "boolean", "list", "structure-list", "structure"]


@dataclass(frozen=True)
class Member:
    name: str
    type: MemberType = "string"
    min: int | None = None
    max: int | None = None
    pattern: str | None = None  # the model's pattern, verbatim (Java syntax)
    enum: tuple[str, ...] = ()
    is_required: bool = False
    is_sensitive: bool = False  # the model's `sensitive`: never quoted back in a message

    def required(self) -> Member:
        return replace(self, is_required=True)

    def sensitive(self) -> Member:
        return replace(self, is_sensitive=True)

    def named(self, name: str) -> Member:
        return replace(self, name=name)

    @cached_property
    def matcher(self) -> re.Pattern[str] | None:
        """The pattern for Python: Java's `\\w` and `\\d` are ASCII-only, so is this."""
        return re.compile(self.pattern, re.ASCII) if self.pattern is not None else None

    @property
    def wire_name(self) -> str:
        """The member as AWS names it in validation messages (`userName`)."""
        return self.name[0].lower() + self.name[1:]


def shown(value: str, limit: int = 64) -> str:
    """A client's value quoted in an error message, cut short."""
    return value if len(value) <= limit else value[:limit] + "..."


def violation(at: str, rule: str, value: str | None) -> str:
    """One constraint a member failed, as AWS writes it; `value` None leaves the value out."""
    quoted = "" if value is None else f" '{shown(value)}'"
    return f"Value{quoted} at '{at}' failed to satisfy constraint: {rule}"


def missing(at: str) -> str:
    return f"Value null at '{at}' failed to satisfy constraint: Member must not be null"


def detected(violations: Sequence[str]) -> str:
    """The message of a request's validation errors, every one listed: `2 validation errors detected: A; B`."""
    count = len(violations)
    return f"{count} validation error{'' if count == 1 else 's'} detected: " + "; ".join(violations)


def text(name: str, low: int | None = None, high: int | None = None, pattern: str | None = None) -> Member:
    return Member(name, "string", low, high, pattern)


def integer(name: str, low: int | None = None, high: int | None = None) -> Member:
    return Member(name, "integer", low, high)


def boolean(name: str) -> Member:
    return Member(name, "boolean")


def enum(name: str, *values: str) -> Member:
    return Member(name, "string", enum=values)


def string_list(name: str, high: int | None = None) -> Member:
    return Member(name, "list", None, high)


def structure_list(name: str, high: int | None = None) -> Member:
    return Member(name, "structure-list", None, high)


def structure(name: str) -> Member:
    """A structure member (`Name.Field=...`); its fields are read as text, checked by the use case."""
    return Member(name, "structure")
