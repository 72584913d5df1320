"""Where every HTTP request enters, before the AWS front, SCIM and the pages: the real client address behind
trusted proxies, the request ID, and (JSON logs) the request's access line.

The client address from a trusted proxy's `Forwarded` / `X-Forwarded-For` replaces `scope["client"]` in place, so
throttling, audit events, session lists, SigV4's `aws:SourceIp` and uvicorn's own access line all see it. Headers
are never rewritten (SigV4 signs the Host header). The scheme and host the proxy reported are kept in the scope
(`vestibule.forwarded_scheme`, `vestibule.forwarded_host`) for building redirects only; today every redirect is a
same-origin path and every mail link is built from the public URL, so nothing reads them."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from ..core import forwarded
from ..observe import begin_request, current_request, end_request
from .access_log import redact_query

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access = logging.getLogger("vestibule.access")

_FORWARDING = {b"forwarded": "forwarded", b"x-forwarded-for": "x_forwarded_for",
               b"x-forwarded-proto": "x_forwarded_proto", b"x-forwarded-host": "x_forwarded_host"}


def client_behind_proxies(scope: Scope, trusted_networks: Sequence[forwarded.Network]) -> forwarded.Client | None:
    """The client a trusted peer reports for this request, or None (peer not trusted, nothing reported)."""
    peer = scope.get("client")
    if not peer or not trusted_networks:
        return None
    address = forwarded.parse_address(str(peer[0]))
    if address is None or not forwarded.trusted(address, trusted_networks):
        return None
    lines: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        key = _FORWARDING.get(name)
        if key is not None:
            lines.setdefault(key, []).append(value.decode("latin-1"))
    if not lines:
        return None
    client = forwarded.reported(str(peer[0]), int(peer[1] or 0), trusted_networks, **lines)
    return client if client.forwarded else None


class RequestEntry:
    """The outermost layer of every HTTP request (lifespan and websockets pass through)."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[str], json_access_log: bool) -> None:
        self.app = app
        self.trusted = forwarded.networks(trusted_proxies)
        self.json_access_log = json_access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        client = client_behind_proxies(scope, self.trusted) if self.trusted else None
        if client is not None:
            scope["client"] = (client.address, client.port)
            if client.scheme:
                scope["vestibule.forwarded_scheme"] = client.scheme
            if client.host:
                scope["vestibule.forwarded_host"] = client.host
        context, token = begin_request()
        started = time.perf_counter()
        status = 0
        request_id = context.request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.setdefault("headers", [])
                if not any(name.lower() == b"x-amzn-requestid" for name, _ in headers):
                    message["headers"] = [*headers, (b"x-request-id", request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.json_access_log:
                _access_line(scope, peer, status, (time.perf_counter() - started) * 1000.0)
            end_request(token)


def _access_line(scope: Scope, peer: Any, status: int, latency_ms: float) -> None:
    context = current_request()
    query = scope.get("query_string", b"").decode("latin-1")
    target = redact_query(f"{scope['path']}?{query}" if query else scope["path"])
    client = scope.get("client")
    fields: dict[str, object] = {
        "type": "access",
        "request_id": context.request_id if context is not None else None,  # also when formatted later
        "method": scope["method"],
        "path": target,
        "status": status,
        "latency_ms": round(latency_ms, 2),
        "client": client[0] if client else None,
    }
    if peer and client and tuple(peer) != tuple(client):
        fields["proxy"] = peer[0]
    if context is not None and context.service is not None:
        fields["service"], fields["operation"] = context.service, context.operation
        if context.error_code is not None:
            fields["error_code"] = context.error_code
    else:
        route = scope.get("route")
        fields["route"] = getattr(route, "path", None)
    if context is not None and context.principal_arn is not None:
        fields["principal_arn"] = context.principal_arn
    access.info("%s %s %d", scope["method"], target, status, extra={"fields": fields})
