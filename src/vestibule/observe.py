"""What the logs and answers say about one request: its ID, who made it and which AWS operation it called (a
context variable set where every HTTP request enters, web/request_entry.py), and the JSON log line format.

Standard library only: the wire, the pages and the services may all note what they learn."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from contextvars import ContextVar, Token
from dataclasses import dataclass

# Request IDs name a request in answers and logs; they guard nothing, so a per-process PRNG seeded from the
# OS is enough (no system call per request). Reseeded in a forked child so workers do not repeat each other.
_ids = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))

_VERSION_BITS = ~(0xF << 76) & ~(0x3 << 62)
_V4 = (0x4 << 76) | (0x2 << 62)


def new_request_id() -> str:
    """A random version-4 UUID (RFC 4122 variant), formatted without the uuid module's overhead."""
    h = "%032x" % ((_ids.getrandbits(128) & _VERSION_BITS) | _V4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class RequestContext:
    """One request's facts, filled in as the request is served (one object: tasks it spawns see the same)."""

    request_id: str
    principal_arn: str | None = None
    service: str | None = None
    operation: str | None = None
    error_code: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("vestibule_request", default=None)


def begin_request() -> tuple[RequestContext, Token[RequestContext | None]]:
    context = RequestContext(new_request_id())
    return context, _current.set(context)


def end_request(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def current_request() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    """This request's ID; a fresh one outside a request (a test calling an endpoint directly)."""
    context = _current.get()
    return context.request_id if context is not None else new_request_id()


def shown_request_id() -> str:
    """This request's ID for a page, or '' outside a request."""
    context = _current.get()
    return context.request_id if context is not None else ""


def note_principal(arn: str) -> None:
    """Who made this request, once SigV4 or a web session said so."""
    context = _current.get()
    if context is not None:
        context.principal_arn = arn


def note_operation(service: str, operation: str | None) -> None:
    """The AWS service and operation this request called, as soon as the endpoint knows them."""
    context = _current.get()
    if context is not None:
        context.service = service
        context.operation = operation or None


def note_error(code: str) -> None:
    """The AWS error code this request was answered with ('' for a success)."""
    context = _current.get()
    if context is not None and code:
        context.error_code = code


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, message, the request ID of the request being
    served, the record's `fields` (the access line's) and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        moment = time.gmtime(record.created)
        out: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _current.get()
        if context is not None:
            out["request_id"] = context.request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str)
