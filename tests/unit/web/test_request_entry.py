"""The request entry around a bare ASGI app: the client rewritten in place only for a trusted peer, the reported
scheme and host kept aside, headers untouched, one request ID per request (reused by AWS answers, which carry
their own header), and the JSON access line; the JSON formatter on its own."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import pytest

from vestibule.observe import JsonLogFormatter, current_request, current_request_id, note_operation, note_principal
from vestibule.web.request_entry import RequestEntry

Message = MutableMapping[str, Any]


def _scope(client: tuple[str, int] | None, *headers: tuple[bytes, bytes], path: str = "/x",
           query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": list(headers),
            "client": client}


class _App:
    """Records what it saw, then answers (with `x-amzn-requestid` when told to, as the AWS front does)."""

    def __init__(self, aws: bool = False) -> None:
        self.aws = aws
        self.seen: list[tuple[Any, str]] = []

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        self.seen.append((scope.get("client"), current_request_id()))
        headers = [(b"content-type", b"text/plain")]
        if self.aws:
            note_operation("sts", "GetCallerIdentity")
            note_principal("arn:aws:iam::123456789012:root")
            headers.append((b"x-amzn-requestid", current_request_id().encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


async def _call(entry: RequestEntry, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await entry(scope, receive, send)
    return sent


async def test_a_trusted_peer_reports_the_client_and_nothing_else_changes() -> None:
    app = _App()
    entry = RequestEntry(app, trusted_proxies=("10.0.0.0/8",), json_access_log=False)
    headers = ((b"host", b"signin.example.com"), (b"x-forwarded-for", b"6.6.6.6, 198.51.100.8:4711"),
               (b"x-forwarded-proto", b"https"), (b"x-forwarded-host", b"signin.example.com"))
    scope = _scope(("10.0.0.10", 5000), *headers)
    sent = await _call(entry, scope)
    assert scope["client"] == ("198.51.100.8", 4711) and app.seen[0][0] == ("198.51.100.8", 4711)
    assert scope["headers"] == list(headers), "headers are never rewritten (SigV4 signs Host)"
    assert scope["vestibule.forwarded_scheme"] == "https"
    assert scope["vestibule.forwarded_host"] == "signin.example.com"
    assert dict(sent[0]["headers"])[b"x-request-id"] == app.seen[0][1].encode()


@pytest.mark.parametrize("trusted", [(), ("10.0.0.0/8",)])
async def test_an_untrusted_peer_or_no_header_keeps_the_connection_address(trusted: tuple[str, ...]) -> None:
    app = _App()
    entry = RequestEntry(app, trusted_proxies=trusted, json_access_log=False)
    spoofed = _scope(("192.0.2.5", 5000), (b"x-forwarded-for", b"198.51.100.8"), (b"forwarded", b"for=1.2.3.4"))
    await _call(entry, spoofed)
    assert spoofed["client"] == ("192.0.2.5", 5000) and "vestibule.forwarded_scheme" not in spoofed
    bare = _scope(("10.0.0.10", 5000))
    await _call(entry, bare)
    assert bare["client"] == ("10.0.0.10", 5000)


async def test_each_request_its_own_id_and_an_aws_answer_keeps_its_own_header() -> None:
    app = _App(aws=True)
    entry = RequestEntry(app, trusted_proxies=(), json_access_log=False)
    first = await _call(entry, _scope(("127.0.0.1", 1)))
    second = await _call(entry, _scope(("127.0.0.1", 1)))
    ids = [request_id for _, request_id in app.seen]
    assert len(set(ids)) == 2 and all(len(i) == 36 for i in ids)
    for sent, request_id in zip((first, second), ids, strict=True):
        names = [name for name, _ in sent[0]["headers"]]
        assert b"x-request-id" not in names and dict(sent[0]["headers"])[b"x-amzn-requestid"] == request_id.encode()
    assert current_request() is None, "the request context ends with the request"


async def test_lifespan_and_websocket_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        assert current_request() is None

    entry = RequestEntry(app, trusted_proxies=("10.0.0.0/8",), json_access_log=True)
    for kind in ("lifespan", "websocket"):
        await _call(entry, {"type": kind, "client": ("10.0.0.10", 1), "headers": [(b"x-forwarded-for", b"1.2.3.4")]})
    assert seen == ["lifespan", "websocket"]


async def test_the_json_access_line(caplog: pytest.LogCaptureFixture) -> None:
    entry = RequestEntry(_App(aws=True), trusted_proxies=("10.0.0.0/8",), json_access_log=True)
    scope = _scope(("10.0.0.10", 5000), (b"x-forwarded-for", b"198.51.100.8"), path="/",
                   query=b"Action=GetCallerIdentity&X-Amz-Signature=deadbeef&X-Amz-Security-Token=secret")
    with caplog.at_level(logging.INFO, logger="vestibule.access"):
        sent = await _call(entry, scope)
    [record] = [r for r in caplog.records if r.name == "vestibule.access"]
    fields: dict[str, Any] = getattr(record, "fields")  # noqa: B009 (set through `extra`, unknown to the type)
    assert fields["status"] == 200 and fields["method"] == "GET"
    assert fields["path"] == "/?Action=GetCallerIdentity&X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]"
    assert (fields["service"], fields["operation"]) == ("sts", "GetCallerIdentity")
    assert fields["principal_arn"] == "arn:aws:iam::123456789012:root"
    assert fields["client"] == "198.51.100.8" and fields["proxy"] == "10.0.0.10"
    assert fields["latency_ms"] >= 0 and "route" not in fields
    line = json.loads(JsonLogFormatter().format(record))
    assert "deadbeef" not in json.dumps(line) and "secret" not in json.dumps(line)
    assert line["logger"] == "vestibule.access" and line["level"] == "info"
    assert line["request_id"] == dict(sent[0]["headers"])[b"x-amzn-requestid"].decode()


def test_the_json_formatter_outside_a_request_with_an_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("vestibule", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    line = json.loads(JsonLogFormatter().format(record))
    assert line["message"] == "failed here" and line["level"] == "error" and line["logger"] == "vestibule"
    assert line["time"].endswith("Z") and "request_id" not in line
    assert "ValueError: boom" in line["exception"]
    assert "\n" not in JsonLogFormatter().format(record), "one line per record"
