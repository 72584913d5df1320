"""Reading AWS query-protocol parameters (flattened `Name.member.N.Field` form)."""

from __future__ import annotations

import re
from typing import Sequence

from .errors import InvalidInput, ValidationError


def _snake(name: str) -> str:
    return name[0].lower() + name[1:]


class QueryParams:
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        for key, value in pairs:
            self._values[key] = value

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name, default)

    def required(self, name: str) -> str:
        value = self._values.get(name)
        if value is None:
            raise ValidationError(
                f"1 validation error detected: Value null at '{_snake(name)}' failed to satisfy constraint: "
                "Member must not be null")
        return value

    def text(self, name: str, *, pattern: str | None = None, low: int = 0, high: int = 10**6,
             required: bool = False, default: str | None = None) -> str | None:
        value = self.required(name) if required else self._values.get(name, default)
        if value is None:
            return None
        if not low <= len(value) <= high:
            raise ValidationError(
                f"1 validation error detected: Value at '{_snake(name)}' failed to satisfy constraint: "
                f"Member must have length between {low} and {high}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{_snake(name)}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}")
        return value

    def integer(self, name: str, default: int | None = None, low: int | None = None,
                high: int | None = None) -> int | None:
        raw = self._values.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError(f"Value '{raw}' at '{_snake(name)}' is not a valid integer") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{_snake(name)}' failed to satisfy constraint: "
                f"Member must have value {'between ' + str(low) + ' and ' + str(high) if low is not None and high is not None else 'in range'}")
        return value

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        raw = self._values.get(name)
        if raw is None:
            return default
        if raw.lower() in {"true", "1"}:
            return True
        if raw.lower() in {"false", "0"}:
            return False
        raise InvalidInput(f"Invalid boolean value for {name}: {raw}")

    def members(self, name: str) -> list[str]:
        out: list[tuple[int, str]] = []
        prefix = f"{name}.member."
        for key, value in self._values.items():
            if key.startswith(prefix) and key[len(prefix):].isdigit():
                out.append((int(key[len(prefix):]), value))
        return [v for _, v in sorted(out)]

    def structs(self, name: str) -> list[dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        prefix = f"{name}.member."
        for key, value in self._values.items():
            if key.startswith(prefix):
                index, _, field = key[len(prefix):].partition(".")
                if index.isdigit() and field:
                    found.setdefault(int(index), {})[field] = value
        return [found[i] for i in sorted(found)]
