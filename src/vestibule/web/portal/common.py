"""What the portal's pages share: its cookies, the portal named by the path, the wrong-portal page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...services.identity_center.instances import Instance
from ...services.signin import portal
from ...services.signin.portal import PortalNotFound, PortalSession
from ..rendering import render, translator, web_of
from ..security import cookie_header

REMEMBER_MAX_AGE = 400 * 86400


def session_cookie(request: Request) -> str:
    """The portal's own session cookie (the console's sessions and the portal's never stand in for each other)."""
    return web_of(request).names.session.replace("vestibule_session", "vestibule_portal")


def user_cookie(request: Request) -> str:
    return "vestibule_portal_user"


def session_token(request: Request) -> str:
    token: str = request.state.cookies.get(session_cookie(request), "")
    return token


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.headers.append("set-cookie", cookie_header(name, value, max_age=max_age,
                                                        secure=web_of(request).names.secure))


def start_path(instance: Instance | str) -> str:
    name = instance if isinstance(instance, str) else (instance.settings.portal_subdomain
                                                       or instance.identity_store_id)
    return f"/portal/{name}/start"


async def instance_of(request: Request) -> Instance | None:
    try:
        return await portal.portal(web_of(request).deps, request.path_params["portal"])
    except PortalNotFound:
        return None


def not_found(request: Request) -> Response:
    """The same page for every name that is no portal: it names none that is."""
    return render(request, "portal/not_found.html", 404, error=translator(request)("portal.not_found"))


async def current(request: Request, instance: Instance) -> PortalSession | None:
    return await portal.signed_in(web_of(request).deps, session_token(request), instance)
