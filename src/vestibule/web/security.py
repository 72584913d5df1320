"""Browser cookie, CSRF tokens, Origin checks, security headers and request limits (pure ASGI)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import Morsel, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..core.tokens import keyed_digest, new_token, same
from ..settings import Settings
from . import i18n

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 64 * 1024
_BROWSER_COOKIE = re.compile(r"([A-Za-z0-9_-]{43})\.([0-9a-f]{32})")
# query parameters that carry a secret (a reset token, a flow ID): such pages send no Referer at all
_SECRET_PARAMETERS = re.compile(rb"(?:^|&)(?:token|flow|SigninToken|Session)=")
_SECRET_NAMES = frozenset({"token", "flow", "SigninToken", "Session"})  # the last two: /federation


def carries_secret(raw_query: bytes) -> bool:
    """Whether the query names a token or a flow, also when the name is percent-encoded (`to%6Ben`), as the
    routes, which decode it, would read it."""
    if _SECRET_PARAMETERS.search(raw_query):
        return True
    if b"%" not in raw_query and b"+" not in raw_query:
        return False
    return any(name in _SECRET_NAMES for name, _ in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True))
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

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


def browser_cookie_value(key: bytes, browser_id: str) -> str:
    """The browser cookie the server issues: a random ID and its MAC, so a client cannot choose its own ID."""
    return f"{browser_id}.{keyed_digest(key, 'browser-id', browser_id)[:32]}"


def browser_cookie(names: CookieNames, key: bytes, browser_id: str) -> str:
    """The Set-Cookie value giving a browser the ID `browser_id`."""
    return cookie_header(names.browser, browser_cookie_value(key, browser_id), max_age=400 * 86400,
                         secure=names.secure)


def issued_browser_id(key: bytes, cookie: str) -> str | None:
    """The browser ID inside a cookie this server issued, or None for anything else."""
    match = _BROWSER_COOKIE.fullmatch(cookie)
    if match is None or not same(keyed_digest(key, "browser-id", match.group(1))[:32], match.group(2)):
        return None
    return match.group(1)


def trusted_origins(public_url: str) -> frozenset[str]:
    """The origins a POST may come from: the public URL's, and when that is a loopback http URL, the same
    port on the other loopback names (a developer may open localhost for 127.0.0.1). Never the Host header."""
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    host, port = parts.hostname or "", parts.port
    shown = f"[{host}]" if ":" in host else host
    if parts.scheme != "http" or shown not in _LOOPBACK_HOSTS:
        return frozenset({origin})
    suffix = f":{port}" if port is not None else ""
    return frozenset({origin} | {f"http://{name}{suffix}" for name in _LOOPBACK_HOSTS})


def browser_hash(browser_id: str) -> str:
    return hashlib.sha256(("browser:" + browser_id).encode()).hexdigest()


def csrf_token(csrf_key: bytes, browser_id: str) -> str:
    return keyed_digest(csrf_key, "csrf", browser_id)


def csrf_ok(csrf_key: bytes, browser_id: str, submitted: str) -> bool:
    return bool(submitted) and same(csrf_token(csrf_key, browser_id), submitted)


# Polled by load balancers and scrapers, never by a browser: no browser ID cookie is set on them (a new one on each
# poll would only fill the balancer's logs and tell a scraper nothing).
COOKIELESS_PATHS = frozenset({"/healthz", "/readyz", "/_health", "/metrics"})
# SAML identity providers POST here from their own site (HTTP-POST binding): no Origin check (the signed assertion is
# what is trusted; nothing of this browser changes there) and no browser cookie issued (a cross-site POST carries
# none of ours, a new one would replace the browser's): the route hands over to a same-site GET, which has them.
CROSS_SITE_POST_PATHS = frozenset({"/saml"})
_PORTAL_ASSERTION_CONSUMER = re.compile(r"/portal/[^/]+/saml")  # an access portal's own IdP


def cross_site_post(path: str) -> bool:
    return path in CROSS_SITE_POST_PATHS or _PORTAL_ASSERTION_CONSUMER.fullmatch(path) is not None


class BrowserMiddleware:
    """Gives every browser a server-issued ID cookie, picks the language, adds security headers,
    and refuses oversized bodies and cross-origin POSTs."""

    def __init__(self, app: ASGIApp, settings: Settings, key: bytes) -> None:
        self.app = app
        self.names = CookieNames(settings)
        self.key = key
        self.origins = trusted_origins(settings.public_url)
        self.https = settings.public_is_https
        # the headers every page answer carries, built once
        common: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", CSP.encode()),
        ]
        if self.https:
            common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self._static_headers = ((b"referrer-policy", b"same-origin"), *common)
        # a page whose URL carries a token or a flow ID: its assets and links must not repeat it in Referer
        self._secret_url_headers = ((b"referrer-policy", b"no-referrer"), *common)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = parse_cookies(headers["cookie"]) if "cookie" in headers else {}
        issued = issued_browser_id(self.key, cookies.get(self.names.browser, ""))
        new_browser = issued is None
        browser_id = new_token() if issued is None else issued
        raw_query: bytes = scope.get("query_string", b"")
        query = raw_query.decode("latin-1")
        lang_param = None
        for pair in query.split("&"):
            if pair.startswith("lang="):
                lang_param = i18n.normalize(pair[5:])
        lang = lang_param or i18n.normalize(cookies.get(self.names.lang)) or i18n.from_accept_language(
            headers.get("accept-language", ""))
        state = scope.setdefault("state", {})
        state.update(browser_id=browser_id, lang=lang, cookies=cookies)

        if "\x00" in scope.get("path", "") or b"%00" in raw_query or b"\x00" in raw_query:
            await _plain(send, 400, "Bad request: a NUL character in the address.")  # no text column holds one
            return
        if scope["method"] == "POST":
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                await _plain(send, 413, "Request body too large.")
                return
            if not _origin_allowed(headers, self.origins) and not cross_site_post(scope.get("path", "")):
                await _plain(send, 403, "Cross-origin request refused.")
                return

        extra: list[tuple[bytes, bytes]] = list(
            self._secret_url_headers if carries_secret(raw_query) else self._static_headers)
        cookieless = scope.get("path", "") in COOKIELESS_PATHS or cross_site_post(scope.get("path", ""))
        if new_browser and not cookieless:
            extra.append((b"set-cookie", browser_cookie(self.names, self.key, browser_id).encode()))
        if lang_param and not cookieless:
            extra.append((b"set-cookie", cookie_header(self.names.lang, lang_param, max_age=400 * 86400,
                                                       secure=self.names.secure, http_only=False).encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers", []))
                added = extra
                if new_browser and any(_sets_cookie(h, self.names.browser) for h in own):
                    added = [h for h in extra if not _sets_cookie(h, self.names.browser)]  # a rotation wins
                message["headers"] = own + added
            await send(message)

        await self.app(scope, _limited(receive), send_with_headers)


def _sets_cookie(header: tuple[bytes, bytes], name: str) -> bool:
    return header[0].lower() == b"set-cookie" and header[1].startswith(name.encode() + b"=")


def _origin_allowed(headers: dict[str, str], trusted: frozenset[str]) -> bool:
    """No Origin (an older browser, a non-browser client): the CSRF token decides. `null`: only from a page of
    ours that sends no Referer (`Referrer-Policy: no-referrer` makes browsers send `null`), which the browser
    itself marks `Sec-Fetch-Site: same-origin`. Anything else must be one of the trusted origins."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return headers.get("sec-fetch-site") == "same-origin"
    return origin.lower() in trusted


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
