"""One base URL for browsers and AWS clients: AWS requests to `/` go to the wire endpoint,
everything else to the web pages."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, MutableMapping
from urllib.parse import parse_qsl

from .aws_query import QueryEndpoint

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_AWS_BODY = 1024 * 1024


def _looks_signed(headers: dict[bytes, bytes], query: bytes) -> bool:
    auth = headers.get(b"authorization", b"")
    return (auth.startswith(b"AWS4-") or b"x-amz-target" in headers or b"x-amz-date" in headers
            or b"X-Amz-Algorithm=" in query)


class AwsFront:
    def __init__(self, web: ASGIApp, query: QueryEndpoint) -> None:
        self.web = web
        self.query = query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/" or scope["method"] not in {"GET", "POST"}:
            await self.web(scope, receive, send)
            return
        headers = dict(scope["headers"])
        query: bytes = scope.get("query_string", b"")
        if scope["method"] == "GET":
            if b"Action=" in query and (_looks_signed(headers, query) or b"csrf_token" not in query):
                await self._aws(scope, b"", headers, send)
            else:
                await self.web(scope, receive, send)
            return
        signed = _looks_signed(headers, query)
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_AWS_BODY:
                await _respond(send, 413, b"<ErrorResponse><Error><Code>RequestEntityTooLarge</Code>"
                               b"<Message>Request body too large.</Message></Error></ErrorResponse>", b"text/xml")
                return
        if not signed:
            fields = {k for k, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True)}
            signed = "Action" in fields and "csrf_token" not in fields
        if signed:
            await self._aws(scope, body, headers, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.web(scope, replay, send)

    async def _aws(self, scope: Scope, body: bytes, headers: dict[bytes, bytes], send: Send) -> None:
        if b"x-amz-target" in headers:
            await _respond(send, 400, b'{"__type":"UnknownOperationException","message":"JSON protocol services '
                           b'are not served yet"}', b"application/x-amz-json-1.1")
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        client = scope.get("client") or ("", 0)
        status, text, request_id = await self.query.handle(
            scope["method"], raw_path.decode("utf-8", "surrogateescape").split("?", 1)[0],
            scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]], body,
            client[0], scope.get("scheme") == "https")
        await _respond(send, status, text.encode("utf-8"), b"text/xml", request_id.encode())


async def _respond(send: Send, status: int, body: bytes, content_type: bytes, request_id: bytes = b"") -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers.append((b"x-amzn-requestid", request_id))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
