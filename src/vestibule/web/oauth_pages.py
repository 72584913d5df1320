"""What the browser steps of the two command-line sign-ins share (`vestibule login`'s in console/cli_login.py, the
SSO CLI's in device/): the PKCE query of `GET /authorize`, a refused request's status and message, and the page
that sends the browser on to the CLI's loopback listener once the user decided."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ..errors import TooManyAttempts
from .messages import message_for
from .rendering import render, translator

# (error, status, message key): the first that matches wins
ErrorPages = tuple[tuple[type[Exception], int, str], ...]

_LIMIT = 2048
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def authorize_query(request: Request) -> dict[str, str]:
    """The authorization request of RFC 6749 4.1.1 with PKCE (RFC 7636 4.3), each value cut to its limit, for the
    service's begin."""
    q = request.query_params
    return {"response_type": q.get("response_type", "")[:64], "client_id": q.get("client_id", "")[:_LIMIT],
            "redirect_uri": q.get("redirect_uri", "")[:_LIMIT], "state": q.get("state", "")[:_LIMIT],
            "code_challenge": q.get("code_challenge", "")[:128],
            "code_challenge_method": q.get("code_challenge_method", "")[:16]}


def status_and_message(request: Request, exc: Exception, pages: ErrorPages, otherwise: str) -> tuple[int, str]:
    """429 and the wait for a throttled request; else the first row of `pages` that `exc` is; else 400 and the
    message `otherwise`."""
    t = translator(request)
    if isinstance(exc, TooManyAttempts):
        return 429, message_for(exc, t)
    for kind, status, key in pages:
        if isinstance(exc, kind):
            return status, t(key)
    return 400, t(otherwise)


def with_retry_after(response: Response, exc: Exception) -> Response:
    """`Retry-After` on the answer to a throttled request."""
    if isinstance(exc, TooManyAttempts):
        response.headers["retry-after"] = str(exc.retry_after)
    return response


def _loopback(url: str) -> bool:
    """Defence in depth: the services only hand back the loopback redirect URIs they accepted."""
    if not url.isascii() or not url.isprintable() or " " in url:
        return False
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS and not parts.username


def to_listener(request: Request, template: str, redirect_to: str, **context: Any) -> Response | None:
    """The decision's answer, which goes on by itself to the loopback listener at `redirect_to` (`Refresh`, and a
    link on the page); None when `redirect_to` is not a loopback address (the caller shows its error page).
    Not a 303: the page's CSP `form-action 'self'` also covers the redirects of a form's answer, so browsers
    refuse a 303 from this POST to the loopback listener."""
    if not _loopback(redirect_to):
        return None
    response = render(request, template, redirect_to=redirect_to, **context)
    response.headers["refresh"] = f"0; url={redirect_to}"
    return response
