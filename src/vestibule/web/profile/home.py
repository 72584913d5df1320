"""The profile's home (My details: its page is in details.py), the green banner's text, and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...services.profiles import accounts
from ..rendering import client_of, form_of, redirect, translator, web_of
from .cookies import clear_session, session_token

HOME = "/profile/details"  # My details (web/profile/details.py)


def notice_of(request: Request, notices: dict[str, str]) -> str:
    """The green banner's text for `?notice=<name>` when `notices` knows the name (never the raw parameter)."""
    key = notices.get(request.query_params.get("notice", ""))
    return translator(request)(key) if key else ""


async def sign_out(request: Request) -> Response:
    await form_of(request)
    await accounts.sign_out(web_of(request).deps, client_of(request), session_token(request))
    response = redirect("/profile?signed_out=1")
    clear_session(request, response)
    return response


routes = [
    Route("/profile/signout", sign_out, methods=["POST"]),
]
