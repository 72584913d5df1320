"""The personal profile's cookies: its own session cookie (never the console's or the portal's) and the trusted
browser's token."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from ...core.profile_trust import TRUST_LIFETIME
from ..rendering import rotate_browser_id, same_origin_path, web_of
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


# ---- where a sign-in returns to ----------------------------------------------------------------------------
RETURN_MAX_AGE = 900  # a page that sent the browser to sign in waits this long
_RETURN_PAGES = ("/profile/privacy/export",)  # the only pages a profile sign-in returns to (the mailed export link)


def return_cookie(request: Request) -> str:
    return web_of(request).names.session.replace("vestibule_session", "vestibule_profile_return")


def safe_return(path: str) -> str | None:
    """`path` when a sign-in may return to it: a path on this site, one of `_RETURN_PAGES` (with its query)."""
    if not path or same_origin_path(path) != path:
        return None
    for page in _RETURN_PAGES:
        if path.startswith(page) and path[len(page):len(page) + 1] in ("", "?"):
            return path
    return None


def remember_return(request: Request, response: Response, path: str) -> None:
    if safe_return(path) is not None:
        _set(request, response, return_cookie(request), quote(path, safe=""), RETURN_MAX_AGE)


def return_path(request: Request) -> str | None:
    """The validated page to land on after signing in, if one waits."""
    return safe_return(unquote(request.state.cookies.get(return_cookie(request), "")))


def forget_return(request: Request, response: Response) -> None:
    if request.state.cookies.get(return_cookie(request)):
        _set(request, response, return_cookie(request), "", 0)
