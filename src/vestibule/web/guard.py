"""The one guard for pages that need a signed-in session: the route receives a typed `SignedIn`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from ..observe import note_principal
from ..services import sessions
from ..services.principals import Principal
from ..services.sessions import SessionView
from .rendering import clear_session_cookie, redirect, web_of


@dataclass(frozen=True)
class SignedIn:
    session: SessionView
    principal: Principal  # with the display data of the top bar: names, account ID, alias, ARN


SignedInRoute = Callable[[Request, SignedIn], Awaitable[Response]]
Route = Callable[[Request], Awaitable[Response]]


async def signed_in(request: Request) -> SignedIn | None:
    web = web_of(request)
    found = await sessions.signed_in(web.deps.session_ports, request.state.cookies.get(web.names.session))
    if found is None:
        return None
    note_principal(found.principal.arn)
    return SignedIn(found.session, found.principal)


def requires_session(route: SignedInRoute) -> Route:
    """Without a live session: back to the sign-in page (and drop a stale cookie)."""

    @wraps(route)
    async def endpoint(request: Request) -> Response:
        who = await signed_in(request)
        if who is None:
            response = redirect("/")
            if request.state.cookies.get(web_of(request).names.session):
                clear_session_cookie(response, web_of(request))
            return response
        return await route(request, who)

    return endpoint
