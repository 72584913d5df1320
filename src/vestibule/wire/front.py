"""One base URL for browsers and every AWS client: the outermost ASGI layer routes each request by protocol.

- AWS JSON 1.1: `POST /` with an `X-Amz-Target` header;
- AWS query: `/` with `Action` (signed, or without a CSRF field: a browser form is never an AWS call);
- AWS REST-JSON: a path some REST-JSON service of the services table answers (a browser form with a
  CSRF field still goes to the pages);
- everything else: the web pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

from ..services.aws_identity import KeyDirectory
from ..services.context import Deps
from .aws_json.codec import CONTENT_TYPE as JSON_CONTENT_TYPE
from .aws_json.endpoint import JsonEndpoint
from .aws_query.endpoint import QueryEndpoint
from .rest_json.codec import CONTENT_TYPE as REST_CONTENT_TYPE
from .rest_json.endpoint import RestJsonEndpoint
from .services import rest_json_service
from .sigv4_auth import SigV4Authenticator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_AWS_BODY = 1024 * 1024


class Route(Enum):
    WEB = "web"
    QUERY = "aws query"
    JSON = "aws json 1.1"
    REST_JSON = "aws rest-json"
    NEEDS_BODY = "decided by the body"


def _looks_signed(headers: dict[bytes, bytes], query: bytes) -> bool:
    auth = headers.get(b"authorization", b"")
    return (auth.startswith(b"AWS4-") or b"x-amz-target" in headers or b"x-amz-date" in headers
            or b"X-Amz-Algorithm=" in query)


def route(method: str, path: str, headers: dict[bytes, bytes], query: bytes) -> Route:
    """Where a request goes, from its head alone; NEEDS_BODY when only the body can tell."""
    if path == "/" and method == "POST" and b"x-amz-target" in headers:
        return Route.JSON
    if path == "/" and method == "GET":
        signed_or_api = _looks_signed(headers, query) or b"csrf_token" not in query
        return Route.QUERY if b"Action=" in query and signed_or_api else Route.WEB
    if path == "/" and method == "POST":
        return Route.QUERY if _looks_signed(headers, query) else Route.NEEDS_BODY
    if rest_json_service(path) is not None:
        if method == "POST" and headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
            return Route.NEEDS_BODY
        return Route.REST_JSON
    return Route.WEB


def route_by_body(path: str, body: bytes) -> Route:
    """For a request `route` could not place: a form with a CSRF field is a browser's."""
    fields = {k for k, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True)}
    if "csrf_token" in fields:
        return Route.WEB
    if path == "/":
        return Route.QUERY if "Action" in fields else Route.WEB
    return Route.REST_JSON


class AwsFront:
    def __init__(self, web: ASGIApp, *, deps: Deps, keys: KeyDirectory) -> None:
        self.web = web
        auth = SigV4Authenticator(keys, lambda: deps.clock())  # read at each call: tests move the clock
        self.query = QueryEndpoint(deps, auth)
        self.json = JsonEndpoint(deps, auth)
        self.rest_json = RestJsonEndpoint(deps, auth)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "POST"}:
            await self.web(scope, receive, send)
            return
        headers = dict(scope["headers"])
        where = route(scope["method"], scope["path"], headers, scope.get("query_string", b""))
        if where is Route.WEB:
            await self.web(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            declared = headers.get(b"content-length", b"")
            if len(declared) > 7 or (declared.isdigit() and int(declared) > MAX_AWS_BODY):
                await _too_large(send)  # said up front: refused before any of it is read
                return
            read = await _read_body(receive, send)
            if read is None:
                return
            body = read
        if where is Route.NEEDS_BODY:
            where = route_by_body(scope["path"], body)
        if where is Route.WEB:
            await self.web(scope, _replay(body, receive), send)
        else:
            await self._aws(where, scope, body, send)

    async def _aws(self, where: Route, scope: Scope, body: bytes, send: Send) -> None:
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("utf-8", "surrogateescape")
        raw_path = raw_path.split("?", 1)[0]
        query = scope.get("query_string", b"").decode("utf-8", "surrogateescape")
        client_ip = (scope.get("client") or ("", 0))[0]
        secure = scope.get("scheme") == "https"
        if where is Route.QUERY:
            status, text, request_id = await self.query.handle(scope["method"], raw_path, query, scope["headers"],
                                                               body, client_ip, secure)
            await _respond(send, status, text.encode("utf-8"), b"text/xml", request_id.encode())
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        if where is Route.JSON:
            target = dict(scope["headers"]).get(b"x-amz-target", b"").decode("latin-1")
            status, payload, request_id = await self.json.handle(target, raw_path, query, headers, body, client_ip,
                                                                 secure)
            await _respond(send, status, payload, JSON_CONTENT_TYPE, request_id.encode())
        elif where is Route.REST_JSON:
            status, payload, request_id, error_type = await self.rest_json.handle(
                scope["method"], scope["path"], raw_path, query, headers, body, client_ip, secure)
            # tokens and role credentials are secrets: never stored by a cache (RFC 6749 5.1)
            extra = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
            if error_type:
                extra.append((b"x-amzn-errortype", error_type.encode()))
            await _respond(send, status, payload, REST_CONTENT_TYPE, request_id.encode(), extra)


async def _read_body(receive: Receive, send: Send) -> bytes | None:
    """The whole body, or None when the client left or the body is over the limit (answered 413)."""
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_AWS_BODY:
            await _too_large(send)
            return None
    return body


async def _too_large(send: Send) -> None:
    # `connection: close`: the server stops reading the rest instead of discarding it
    await _respond(send, 413, b"<ErrorResponse><Error><Code>RequestEntityTooLarge</Code>"
                   b"<Message>Request body too large.</Message></Error></ErrorResponse>", b"text/xml",
                   extra=[(b"connection", b"close")])


def _replay(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _respond(send: Send, status: int, body: bytes, content_type: bytes, request_id: bytes = b"",
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers.append((b"x-amzn-requestid", request_id))
    headers.extend(extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
