"""The access log never carries secrets: query values are kept only for parameters known to be harmless.

Reset links (`token`), flow IDs (`flow`), presigned AWS URLs (`X-Amz-Signature`, `X-Amz-Credential`,
`X-Amz-Security-Token`) and anything a client puts in a query string are logged as `[redacted]`."""

from __future__ import annotations

import copy
import logging
from typing import Any

# parameters whose values say nothing secret (page options, AWS query routing, SigV4 metadata)
SAFE_PARAMETERS = frozenset({
    "lang", "type", "root", "notice", "user_type", "signed_out", "welcome",
    "Action", "Version", "X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
})
REDACTED = "[redacted]"


def redact_query(target: str) -> str:
    """`path?query` with the value of every parameter outside SAFE_PARAMETERS replaced."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    parts = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        if not eq:
            parts.append(name if name in SAFE_PARAMETERS else REDACTED)
        else:
            parts.append(f"{name}={value if name in SAFE_PARAMETERS else REDACTED}")
    return f"{path}?{'&'.join(parts)}"


class RedactQuerySecrets(logging.Filter):
    """For uvicorn's access logger, whose arguments are (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def uvicorn_log_config(log_format: str = "text", log_level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging configuration with the redacting filter on the access log (every worker).

    `json`: every log line, the application's and uvicorn's, is one JSON object on stderr
    (observe.JsonLogFormatter); the access lines are then the request entry's own (web/request_entry.py, with
    the request ID, route or AWS operation, latency and principal), uvicorn's being turned off by `serve`."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_query": {"()": f"{__name__}.RedactQuerySecrets"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_query"]
    # aiosqlite's DEBUG lines repeat every statement with its bound values (emails, code hashes): never shown, even
    # at log_level debug (SQLAlchemy's own errors hide them: store/database.py, hide_parameters)
    config["loggers"]["aiosqlite"] = {"level": "INFO"}
    if log_format == "json":
        level = _STDLIB_LEVELS.get(log_level.lower(), "INFO")
        config["formatters"] = {"json": {"()": "vestibule.observe.JsonLogFormatter"}}
        config["handlers"] = {name: {"formatter": "json", "class": "logging.StreamHandler",
                                     "stream": "ext://sys.stderr"} for name in ("default", "access")}
        config["root"] = {"handlers": ["default"], "level": level}
    return config


_STDLIB_LEVELS = {"trace": "DEBUG", "debug": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "ERROR",
                  "critical": "CRITICAL"}
