"""The portal's pages once signed in: Accounts (with roles) and Applications."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..rendering import redirect, render
from .common import current, instance_of, not_found, session_cookie, set_cookie, start_path


async def home(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    name = request.path_params["portal"]
    signed = await current(request, instance)
    if signed is None:
        response = redirect(start_path(name))
        if request.state.cookies.get(session_cookie(request)):
            set_cookie(request, response, session_cookie(request), "", 0)
        return response
    return render(request, "portal/home.html", portal_name=name, portal_user=signed.user,
                  tab=request.query_params.get("tab", "accounts"), accounts=[])


routes = [Route("/portal/{portal}/", home, methods=["GET"])]
