"""The personal profile's cookies: its own session cookie (never the console's or the portal's) and the trusted
browser's token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...core.profile_trust import TRUST_LIFETIME
from ..rendering import rotate_browser_id, web_of
from ..security import cookie_header

TRUST_MAX_AGE = TRUST_LIFETIME  # a trusted browser's cookie: as long as its row (no cookie outlives its row)


def session_cookie(request: Request) -> str:
    """`vestibule_profile` (`__Host-vestibule_profile` behind https)."""
    return web_of(request).names.session.replace("vestibule_session", "vestibule_profile")


def trust_cookie(request: Request) -> str:
    """`vestibule_profile_trust` (`__Host-...` behind https): the trusted browser's random token."""
    return web_of(request).names.session.replace("vestibule_session", "vestibule_profile_trust")


def session_token(request: Request) -> str:
    token: str = request.state.cookies.get(session_cookie(request), "")
    return token


def trust_token(request: Request) -> str:
    token: str = request.state.cookies.get(trust_cookie(request), "")
    return token


def _set(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.headers.append("set-cookie", cookie_header(name, value, max_age=max_age,
                                                        secure=web_of(request).names.secure))


def set_session(request: Request, response: Response, token: str, expires_at: float) -> None:
    """The new profile session's cookie and the browser's new ID (rotated at every sign-in, as the console's)."""
    max_age = max(1, int(expires_at - web_of(request).deps.clock()))
    _set(request, response, session_cookie(request), token, max_age)
    rotate_browser_id(request, response)


def clear_session(request: Request, response: Response) -> None:
    _set(request, response, session_cookie(request), "", 0)


def set_trust(request: Request, response: Response, token: str) -> None:
    _set(request, response, trust_cookie(request), token, TRUST_MAX_AGE)


def clear_trust(request: Request, response: Response) -> None:
    _set(request, response, trust_cookie(request), "", 0)
