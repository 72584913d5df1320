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
from ...errors import PermissionDenied
from ...services.signin.portal import PortalNotFound
from .. import oauth_pages
from ..oauth_pages import ErrorPages, with_retry_after
from ..rendering import render

_PAGES: ErrorPages = (
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
    return oauth_pages.status_and_message(request, exc, _PAGES, "device.request_invalid")


def error_page(request: Request, exc: Exception) -> Response:
    """The message page for a request that cannot go on (never a redirect to where it asked to go)."""
    status, message = status_and_message(request, exc)
    return with_retry_after(render(request, "device/error.html", status, error=message), exc)
