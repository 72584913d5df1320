"""The guard of the personal profile's pages: the route receives a typed `ProfileSignedIn`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from ...observe import note_principal
from ...services.profiles import accounts
from ...services.profiles.accounts import ProfileView
from ...services.sessions import SessionView
from ..rendering import redirect, web_of
from .cookies import clear_session, session_token

SIGNIN_PATH = "/profile"


@dataclass(frozen=True)
class ProfileSignedIn:
    session: SessionView
    profile: ProfileView


ProfileRoute = Callable[[Request, ProfileSignedIn], Awaitable[Response]]
Route = Callable[[Request], Awaitable[Response]]


async def signed_in(request: Request) -> ProfileSignedIn | None:
    """The profile behind this browser's profile cookie, or None (a console session never counts)."""
    found = await accounts.signed_in(web_of(request).deps.session_ports, session_token(request))
    if found is None:
        return None
    note_principal(found.principal.arn)
    return ProfileSignedIn(found.session, found.profile)


def requires_profile(route: ProfileRoute) -> Route:
    """Without a live profile session: to the profile sign-in (and drop a stale cookie)."""

    @wraps(route)
    async def endpoint(request: Request) -> Response:
        who = await signed_in(request)
        if who is None:
            response = redirect(SIGNIN_PATH)
            if session_token(request):
                clear_session(request, response)
            return response
        return await route(request, who)

    return endpoint
