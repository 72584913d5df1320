"""Browser cookie, CSRF tokens, Origin checks, security headers and request limits (pure ASGI)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import Morsel, SimpleCookie
from typing import Any

from ..core.tokens import keyed_digest, new_token, same
from ..settings import Settings
from . import i18n

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 64 * 1024
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")

CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


# A Cookie header of plain `name=value` pairs (token names and values, "; " between them): what the browsers of
# this service send. It is split directly; anything else (quotes, attributes, other characters) goes through
# SimpleCookie, whose answer for such a header is the same.
_PLAIN_COOKIES = re.compile(r"[A-Za-z0-9_-]+=[A-Za-z0-9_.-]*(?:; [A-Za-z0-9_-]+=[A-Za-z0-9_.-]*)*")
# the attribute names SimpleCookie refuses as cookie names (private, untyped; kept in step with the stdlib)
_RESERVED_COOKIE_NAMES = frozenset(k.lower() for k in Morsel._reserved)  # type: ignore[attr-defined]


def parse_cookies(header: str) -> dict[str, str]:
    """The cookies of a Cookie header, as SimpleCookie reads them; a malformed header is no cookies."""
    if _PLAIN_COOKIES.fullmatch(header):
        cookies = dict(pair.split("=", 1) for pair in header.split("; "))
        if not any(name.lower() in _RESERVED_COOKIE_NAMES for name in cookies):
            return cookies
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is treated as no cookies
        return {}
    return {k: m.value for k, m in jar.items()}


class CookieNames:
    def __init__(self, settings: Settings) -> None:
        prefix = "__Host-" if settings.public_is_https else ""
        self.browser = f"{prefix}vestibule_browser"
        self.session = f"{prefix}vestibule_session"
        self.lang = "vestibule_lang"
        self.account = "vestibule_account"
        self.secure = settings.public_is_https


def cookie_header(name: str, value: str, *, max_age: int | None, secure: bool, http_only: bool = True) -> str:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def browser_hash(browser_id: str) -> str:
    return hashlib.sha256(("browser:" + browser_id).encode()).hexdigest()


def csrf_token(csrf_key: bytes, browser_id: str) -> str:
    return keyed_digest(csrf_key, "csrf", browser_id)


def csrf_ok(csrf_key: bytes, browser_id: str, submitted: str) -> bool:
    return bool(submitted) and same(csrf_token(csrf_key, browser_id), submitted)


class BrowserMiddleware:
    """Gives every browser a random ID cookie, picks the language, adds security headers,
    and refuses oversized bodies and cross-origin POSTs."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.names = CookieNames(settings)
        self.public_origin = settings.public_origin
        self.https = settings.public_is_https
        # the headers every page answer carries, built once
        static: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"content-security-policy", CSP.encode()),
        ]
        if self.https:
            static.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self._static_headers = tuple(static)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = parse_cookies(headers["cookie"]) if "cookie" in headers else {}
        browser_id = cookies.get(self.names.browser, "")
        new_browser = not _TOKEN.match(browser_id)
        if new_browser:
            browser_id = new_token()
        query = scope.get("query_string", b"").decode("latin-1")
        lang_param = None
        for pair in query.split("&"):
            if pair.startswith("lang="):
                lang_param = i18n.normalize(pair[5:])
        lang = lang_param or i18n.normalize(cookies.get(self.names.lang)) or i18n.from_accept_language(
            headers.get("accept-language", ""))
        state = scope.setdefault("state", {})
        state.update(browser_id=browser_id, lang=lang, cookies=cookies)

        if scope["method"] == "POST":
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                await _plain(send, 413, "Request body too large.")
                return
            origin = headers.get("origin")
            if origin and origin != "null" and origin != self.public_origin and origin != _own_origin(scope, headers):
                await _plain(send, 403, "Cross-origin request refused.")
                return
            if origin == "null":
                await _plain(send, 403, "Cross-origin request refused.")
                return

        extra: list[tuple[bytes, bytes]] = list(self._static_headers)
        if new_browser:
            extra.append((b"set-cookie", cookie_header(self.names.browser, browser_id, max_age=400 * 86400,
                                                       secure=self.names.secure).encode()))
        if lang_param:
            extra.append((b"set-cookie", cookie_header(self.names.lang, lang_param, max_age=400 * 86400,
                                                       secure=self.names.secure, http_only=False).encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, _limited(receive), send_with_headers)


def _own_origin(scope: Scope, headers: dict[str, str]) -> str:
    return f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"


def _limited(receive: Receive) -> Receive:
    total = 0

    async def wrapped() -> Message:
        nonlocal total
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > MAX_BODY:
                raise BodyTooLarge()
        return message

    return wrapped


class BodyTooLarge(Exception):
    pass


async def _plain(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})
