"""Wire errors: classes whose attributes are their AWS error code and HTTP status. Each protocol defines its
own codes (`aws_query.errors`, `aws_json.errors`, `rest_json.errors`) and maps domain errors to them once."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import VestibuleError


class AwsError(Exception):
    code = "InternalFailure"
    status = 500
    sender_fault = True

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


DomainMapping = Mapping[type[VestibuleError], Callable[[VestibuleError], AwsError]]


def translate(exc: VestibuleError, table: DomainMapping) -> AwsError | None:
    """The wire error for a domain error: the entry of its nearest class in `table`."""
    for cls in type(exc).__mro__:
        if issubclass(cls, VestibuleError) and cls in table:
            return table[cls](exc)
    return None
