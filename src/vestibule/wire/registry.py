"""Operation handlers per service, registered by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from ..services.aws_identity import Caller
from ..services.context import Deps
from .params import QueryParams

Result = Mapping[str, Any] | None


@dataclass
class CallContext:
    deps: Deps
    caller: Caller
    params: QueryParams
    request_id: str
    source_ip: str
    secure_transport: bool
    service: str
    action: str
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[CallContext], Awaitable[Result]]
HANDLERS: dict[str, dict[str, Handler]] = {"sts": {}, "iam": {}}


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[service][name] = fn
        return fn

    return register
