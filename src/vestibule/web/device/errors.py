"""What the approval pages show for each error of the grant services: a message and an HTTP status."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...core.oauth import (
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    InvalidRedirectUri,
    InvalidScope,
    OAuthError,
)
from ...errors import PermissionDenied, TooManyAttempts
from ...services.signin.portal import PortalNotFound
from ..messages import message_for
from ..rendering import render, translator

# (error, status, message key): the first that matches wins
_PAGES: tuple[tuple[type[Exception], int, str], ...] = (
    (ExpiredToken, 410, "device.expired"),
    (InvalidGrant, 404, "device.not_pending"),
    (InvalidClient, 400, "device.client_invalid"),
    (InvalidRedirectUri, 400, "device.redirect_invalid"),
    (InvalidScope, 400, "device.scope_invalid"),
    (OAuthError, 400, "device.request_invalid"),
    (PermissionDenied, 403, "device.wrong_portal"),
    (PortalNotFound, 404, "portal.not_found"),
)


def status_and_message(request: Request, exc: Exception) -> tuple[int, str]:
    t = translator(request)
    if isinstance(exc, TooManyAttempts):
        return 429, message_for(exc, t)
    for kind, status, key in _PAGES:
        if isinstance(exc, kind):
            return status, t(key)
    return 400, t("device.request_invalid")


def error_page(request: Request, exc: Exception) -> Response:
    """The message page for a request that cannot go on (never a redirect to where it asked to go)."""
    status, message = status_and_message(request, exc)
    response = render(request, "device/error.html", status, error=message)
    if isinstance(exc, TooManyAttempts):
        response.headers["retry-after"] = str(exc.retry_after)
    return response
