"""Running one operation row, the same for every protocol: build the `ApiCall` the use case sees from the
row, run the handler, then check that the declared authorization and audit event really happened."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ..services.api_call import ApiCall
from ..services.aws_identity import Caller
from ..services.context import Deps
from ..services.iam import last_accessed
from .operations import Operation

log = logging.getLogger("vestibule.aws")

Request = TypeVar("Request")
Reply = TypeVar("Reply")


class UndeclaredBehaviour(Exception):
    """An operation skipped the authorization or audit event its row declares (a bug, answered as a 500)."""


def api_call(deps: Deps, caller: Caller, service: str, operation: Operation[Request, Reply], *, source_ip: str,
             secure: bool, user_agent: str = "", region: str = "",
             request_tags: Sequence[tuple[str, str]] | None = None,
             tag_keys: Sequence[str] | None = None) -> ApiCall:
    """`request_tags` and `tag_keys`: the request's Tags and TagKeys, for aws:RequestTag and aws:TagKeys."""
    return ApiCall(deps, caller, service, operation.action, operation.audit, source_ip=source_ip, secure=secure,
                   user_agent=user_agent, region=region, request_tags=request_tags, tag_keys=tag_keys)


def user_agent_of(grouped_headers: dict[str, list[str]]) -> str:
    """The request's User-Agent (the first, if repeated), as audit events keep it."""
    values = grouped_headers.get("user-agent")
    return values[0] if values else ""


async def run(operation: Operation[Request, Reply], call: ApiCall, request: Request) -> Reply:
    reply: Reply = await operation.handler(request)
    if operation.action is not None and not call.authorized:
        log.error("%s declares %s but never authorized it", operation.name, operation.action)
        raise UndeclaredBehaviour(operation.name)
    if operation.audit is not None and not call.recorded:
        log.error("%s declares the audit event %s but did not record it", operation.name, operation.audit)
        raise UndeclaredBehaviour(operation.name)
    if call.authorized:
        last_accessed.noted(call)  # service last accessed data: batched, written off the request path
    return reply


Handler = Callable[[Request], Awaitable[Reply]]
