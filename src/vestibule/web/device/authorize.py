"""`GET /authorize`: the browser step of the authorization code grant with PKCE that the AWS CLI v2 opens
(unmodelled in the service model: `response_type=code`, `client_id`, `redirect_uri` on a loopback address,
`state`, `code_challenge`, `code_challenge_method=S256`, `scopes`). A request the service refuses gets a
message page, never a redirect: its redirect URI is not trusted until the service has checked it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.oauth import OAuthError
from ...services.identity_center import sso_oidc
from ..oauth_pages import authorize_query
from ..rendering import client_of, redirect, web_of
from .approval import approval_path
from .errors import error_page

_LIMIT = 2048


def _scopes(request: Request) -> list[str]:
    """`scopes` as the CLI sends it (one parameter, separated by spaces or commas; scope names hold neither),
    repeated, or as OAuth's `scope`."""
    values = request.query_params.getlist("scopes") or request.query_params.getlist("scope")
    return [scope for value in values for scope in value[:_LIMIT].replace(",", " ").split()][:25]


async def authorize(request: Request) -> Response:
    try:
        pending = await sso_oidc.begin_authorization(web_of(request).deps, client_of(request),
                                                     **authorize_query(request), scopes=_scopes(request))
    except OAuthError as exc:
        return error_page(request, exc)
    return redirect(approval_path(pending.id))


routes = [Route("/authorize", authorize, methods=["GET"])]
