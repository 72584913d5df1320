"""Console home and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...services import sessions
from ..guard import SignedIn, requires_session
from ..rendering import clear_session_cookie, client_of, form_of, redirect, render, web_of


@requires_session
async def home(request: Request, who: SignedIn) -> Response:
    return render(request, "console/home.html", who=who, ends_at=who.session.ends_at,
                  welcome=request.query_params.get("welcome") == "1",
                  idle_minutes=who.session.idle_seconds // 60)


async def sign_out(request: Request) -> Response:
    await form_of(request)
    web = web_of(request)
    await sessions.sign_out(web.deps, client_of(request), request.state.cookies.get(web.names.session, ""))
    response = redirect("/?signed_out=1")
    clear_session_cookie(response, web)
    return response


routes = [
    Route("/console", home, methods=["GET"]),
    Route("/signout", sign_out, methods=["POST"]),
]
