"""What the portal's pages share: its cookies, the portal named by the path, the wrong-portal page."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from ...observe import note_principal
from ...services import credentials as device_credentials
from ...services import webauthn
from ...services.identity_center import portal_saml
from ...services.identity_center.instances import Instance
from ...services.signin import portal
from ...services.signin.portal import PortalNotFound, PortalSession
from ..rendering import render, same_origin_path, translator, web_of
from ..security import cookie_header

REMEMBER_MAX_AGE = 400 * 86400
RETURN_MAX_AGE = 600  # a device code's lifetime: the approval waiting behind the sign-in is gone after it
_RETURN_PAGES = ("/device", "/authorize")  # the only pages a sign-in returns to (the CLI sign-in's approval)


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
    signed = await portal.signed_in(web_of(request).deps, session_token(request), instance)
    if signed is not None:
        note_principal(signed.principal.arn)
    return signed


def return_cookie(request: Request) -> str:
    """Where the browser goes after the portal sign-in, when a page sent it there (short-lived)."""
    return session_cookie(request).replace("vestibule_portal", "vestibule_portal_return")


def safe_return(path: str) -> str | None:
    """`path` when it is a page a sign-in may return to: a path on this site under `/device` or `/authorize`."""
    if not path or same_origin_path(path) != path:
        return None
    for page in _RETURN_PAGES:
        if path.startswith(page) and path[len(page):len(page) + 1] in ("", "/", "?"):
            return path
    return None


def remember_return(request: Request, response: Response, path: str) -> None:
    """Come back to `path` (one of the pages `safe_return` accepts) after signing in."""
    if safe_return(path) is not None:
        set_cookie(request, response, return_cookie(request), quote(path, safe=""), RETURN_MAX_AGE)


def return_path(request: Request) -> str | None:
    """The validated page to return to after signing in, if one waits."""
    return safe_return(unquote(request.state.cookies.get(return_cookie(request), "")))


def forget_return(request: Request, response: Response) -> None:
    if request.state.cookies.get(return_cookie(request)):
        set_cookie(request, response, return_cookie(request), "", 0)


async def device_registration_required(request: Request, signed: PortalSession) -> bool:
    """The instance requires an MFA device and this user has none: registering comes before anything else
    (the rule the portal's home pages apply). Not for users an external SAML IdP signs in: it asks their MFA."""
    settings = signed.instance.settings
    return (settings.mfa_prompt != "NEVER" and settings.no_mfa_device == "REQUIRE_REGISTRATION"
            and not await device_credentials.list_devices(web_of(request).deps, signed.principal)
            and not await webauthn.credentials_of(web_of(request).deps, signed.principal.key)
            and not await portal_saml.mfa_at_identity_provider(web_of(request).deps, signed.instance))
