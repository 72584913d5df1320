"""SCIM's HTTP side: JSON in and out as application/scim+json, errors in SCIM's shape (RFC 7644 3.12), the bearer
token checked on every request."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from scim2_models import Error, SCIMException
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ...errors import (
    AlreadyExists,
    InvalidBearerToken,
    InvalidInput,
    InvalidValue,
    NotFound,
    StaleRevision,
    TooManyAttempts,
)
from ...services.context import Client, Deps
from ...services.identity_center import scim_tokens
from ...services.identity_center.scim_tokens import ScimCaller

log = logging.getLogger("vestibule.scim")
CONTENT_TYPE = "application/scim+json"
MAX_BODY = 1024 * 1024
_JSON_TYPES = ("application/scim+json", "application/json")

Handler = Callable[[Request, ScimCaller], Awaitable[Response]]


def scim_json(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status, media_type=CONTENT_TYPE,
                    headers=headers)


def error_response(status: int, detail: str, scim_type: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    error = Error(status=status, scim_type=scim_type, detail=detail)
    return scim_json(error.model_dump(), status, headers)


def _unauthorized(detail: str) -> Response:
    return error_response(401, detail, headers={"WWW-Authenticate": 'Bearer realm="scim"'})


def from_exception(exc: Exception) -> Response:
    """The SCIM answer to an error a route raised; an unexpected one is logged and answered 500 without detail."""
    if isinstance(exc, SCIMException):
        if exc.status == 401:
            return _unauthorized(exc.detail)
        return scim_json(exc.to_error().model_dump(), exc.status)
    if isinstance(exc, ValidationError):
        return scim_json(Error.from_validation_error(exc.errors()[0]).model_dump(), 400)
    if isinstance(exc, InvalidBearerToken):
        return _unauthorized("A valid bearer token is required.")
    if isinstance(exc, TooManyAttempts):
        return error_response(429, "Too many requests with unknown tokens; retry later.",
                              headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, NotFound):
        return error_response(404, exc.detail or "Resource not found.")
    if isinstance(exc, AlreadyExists):
        return error_response(409, exc.detail or "The resource exists already.", "uniqueness")
    if isinstance(exc, InvalidInput):
        return error_response(400, exc.message, "invalidValue")
    if isinstance(exc, InvalidValue):
        return error_response(400, exc.detail or "Invalid value.", "invalidValue")
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, exc.detail or "Request refused.")
    if isinstance(exc, StaleRevision):
        return error_response(409, exc.detail or "The resource changed; try again.")
    if isinstance(exc, ClientDisconnect):
        return error_response(400, "Client disconnected.")
    log.exception("unhandled SCIM error")
    return error_response(500, "Internal error.")


def client_of(request: Request) -> Client:
    ip = request.client.host if request.client else ""
    return Client(ip=ip, user_agent=request.headers.get("user-agent", "")[:512])


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (400 invalidSyntax otherwise, 413 past 1 MiB)."""
    kind = request.headers.get("content-type", "application/scim+json").split(";")[0].strip().lower()
    if kind not in _JSON_TYPES:
        raise _Refused(error_response(415, f"Content type {kind} is not supported; send {CONTENT_TYPE}."))
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise _Refused(error_response(413, "Request body too large."))
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _Refused(error_response(413, "Request body too large."))
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise _Refused(error_response(400, "The body is not valid JSON.", "invalidSyntax")) from None
    if not isinstance(value, dict):
        raise _Refused(error_response(400, "The body must be a JSON object.", "invalidSyntax"))
    return value


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


def endpoint(deps: Deps, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A route: the bearer token checked first, every error answered in SCIM's shape."""

    async def run(request: Request) -> Response:
        try:
            caller = await scim_tokens.authenticate(deps, request.headers.get("authorization"), client_of(request))
            return await handler(request, caller)
        except _Refused as refused:
            return refused.response
        except Exception as exc:  # every error is answered in SCIM's shape, never a page or a trace
            return from_exception(exc)

    return run


def base_url(deps: Deps) -> str:
    return deps.settings.public_url.rstrip("/") + "/scim/v2"
