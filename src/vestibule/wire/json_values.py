"""JSON values as the JSON protocols read and write them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | Mapping[str, JsonValue] | Sequence[JsonValue] | None"
JsonObject: TypeAlias = Mapping[str, JsonValue]
