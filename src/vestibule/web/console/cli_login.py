"""The browser step of `vestibule login` (console credentials for the command line): `GET /v1/authorize` (PKCE),
the console's own sign-in when needed (root or IAM user, every rule of that flow), then back to the confirmation
page `/v1/authorize/confirm?request=<id>`, where Allow or Deny is posted; same device: on to the loopback
listener; cross device: the code to paste into the terminal. A request the service refuses gets a message page,
never a redirect to the address it named. `/v1/authorize/code` is the cross-device client's registered redirect
URI: opened by hand it explains itself (it never shows what its query says)."""

from __future__ import annotations

import math
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.oauth import (
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    InvalidRedirectUri,
    OAuthError,
)
from ...core.principals import PrincipalKind
from ...errors import PermissionDenied, VestibuleError
from ...services import cli_login
from ...services.cli_login import LoginRequest
from ...services.sessions import SignedInSession
from ..guard import SignedIn, signed_in
from ..oauth_pages import ErrorPages, authorize_query, status_and_message, to_listener, with_retry_after
from ..rendering import client_of, field, form_of, redirect, render, same_origin_path, translator, web_of
from ..security import cookie_header

RETURN_MAX_AGE = cli_login.REQUEST_LIFETIME  # the request waiting behind the sign-in is gone after it
_RETURN_PAGE = "/v1/authorize"  # the only page (and its sub-pages) a console sign-in returns to
_ID_LIMIT = 256

_ERRORS: ErrorPages = (
    (ExpiredToken, 410, "cli_login.expired"),
    (InvalidGrant, 404, "cli_login.not_pending"),
    (InvalidClient, 400, "cli_login.client_invalid"),
    (InvalidRedirectUri, 400, "cli_login.redirect_invalid"),
    (OAuthError, 400, "cli_login.request_invalid"),
)


def confirm_path(request_id: str) -> str:
    return f"{_RETURN_PAGE}/confirm?request={quote(request_id, safe='')}"


# ---- the return after the console sign-in --------------------------------------------------------

def return_cookie(request: Request) -> str:
    """Where the browser goes after the console sign-in, when the CLI's request sent it there (short-lived)."""
    return web_of(request).names.session.replace("vestibule_session", "vestibule_console_return")


def safe_return(path: str) -> str | None:
    """`path` when a console sign-in may return to it: a path on this site under `/v1/authorize`."""
    if not path or same_origin_path(path) != path:
        return None
    if path.startswith(_RETURN_PAGE) and path[len(_RETURN_PAGE):len(_RETURN_PAGE) + 1] in ("", "/", "?"):
        return path
    return None


def remember_return(request: Request, response: Response, path: str) -> None:
    if safe_return(path) is not None:
        _set_return(request, response, quote(path, safe=""), RETURN_MAX_AGE)


def return_path(request: Request) -> str | None:
    """The validated page to return to after the console sign-in, if one waits."""
    return safe_return(unquote(request.state.cookies.get(return_cookie(request), "")))


def forget_return(request: Request, response: Response) -> None:
    if request.state.cookies.get(return_cookie(request)):
        _set_return(request, response, "", 0)


def _set_return(request: Request, response: Response, value: str, max_age: int) -> None:
    names = web_of(request).names
    response.headers.append("set-cookie", cookie_header(return_cookie(request), value, max_age=max_age,
                                                        secure=names.secure))


def _to_sign_in(request: Request, request_id: str) -> Response:
    response = redirect("/")
    remember_return(request, response, confirm_path(request_id))
    return response


# ---- message pages -------------------------------------------------------------------------------

def error_page(request: Request, exc: Exception, deny_action: str | None = None) -> Response:
    """The message page for a request that cannot go on (never a redirect to where it asked to go);
    `deny_action`: the request still waits (Allow refused by policy), and a Deny button tells the terminal."""
    detail = ""
    if isinstance(exc, PermissionDenied):
        status, message = 403, translator(request)("cli_login.denied_by_policy", action=cli_login.AUTHORIZE_ACTION)
    else:
        status, message = status_and_message(request, exc, _ERRORS, "cli_login.request_invalid")
        if isinstance(exc, OAuthError) and exc.description != exc.error:
            detail = exc.description  # what exactly is wrong, as the service says it
    return with_retry_after(render(request, "console/cli_login_error.html", status, error=message, detail=detail,
                                   deny_action=deny_action), exc)


def _is_role_session(who: SignedIn) -> bool:
    return who.principal.ref.kind == PrincipalKind.ROLE


def _minutes_left(request: Request, pending: LoginRequest) -> int:
    return max(1, math.ceil((pending.expires_at - web_of(request).deps.clock()) / 60))


# ---- the pages ----------------------------------------------------------------------------------

async def authorize(request: Request) -> Response:
    try:
        pending = await cli_login.begin(web_of(request).deps, client_of(request), **authorize_query(request))
    except (OAuthError, VestibuleError) as exc:
        return error_page(request, exc)
    if await signed_in(request) is None:
        return _to_sign_in(request, pending.id)
    return redirect(confirm_path(pending.id))


async def _load(request: Request) -> tuple[LoginRequest, SignedIn] | Response:
    """The pending request and the console session deciding it; otherwise the page to show instead."""
    try:
        pending = await cli_login.pending(web_of(request).deps, request.query_params.get("request", "")[:_ID_LIMIT])
    except (OAuthError, VestibuleError) as exc:
        return error_page(request, exc)
    who = await signed_in(request)
    if who is None:
        return _to_sign_in(request, pending.id)
    if _is_role_session(who):
        return render(request, "console/cli_login_role.html", 403, who=who, pending=pending)
    return pending, who


async def confirm_page(request: Request) -> Response:
    loaded = await _load(request)
    if isinstance(loaded, Response):
        return loaded
    pending, who = loaded
    return render(request, "console/cli_login_confirm.html", who=who, pending=pending,
                  action=confirm_path(pending.id), minutes=_minutes_left(request, pending))


async def decide(request: Request) -> Response:
    form = await form_of(request)
    choice = field(form, "decision", 8)
    if choice not in ("allow", "deny"):
        return error_page(request, OAuthError())
    loaded = await _load(request)
    if isinstance(loaded, Response):
        return loaded
    pending, who = loaded
    try:
        decision = await cli_login.decide(web_of(request).deps, client_of(request),
                                          SignedInSession(who.session, who.principal), pending.id, choice == "allow")
    except PermissionDenied as exc:
        return error_page(request, exc, deny_action=confirm_path(pending.id))
    except (OAuthError, VestibuleError) as exc:
        return error_page(request, exc)
    if pending.cross_device:
        return render(request, "console/cli_login_code.html", who=who, allowed=decision.allowed,
                      code=decision.code if decision.allowed else None)
    going_on = None if decision.redirect_to is None else to_listener(
        request, "console/cli_login_redirect.html", decision.redirect_to, who=who, allowed=decision.allowed)
    return going_on if going_on is not None else error_page(request, InvalidRedirectUri())


async def code_page(request: Request) -> Response:
    """The cross-device redirect URI opened by hand: what it is for (the code is shown after Allow, never read
    from this page's query)."""
    who = await signed_in(request)
    if who is None:  # the top bar only for a signed-in browser
        return render(request, "console/cli_login_code.html", allowed=None, code=None)
    return render(request, "console/cli_login_code.html", allowed=None, code=None, who=who)


routes = [
    Route(_RETURN_PAGE, authorize, methods=["GET"]),
    Route(_RETURN_PAGE + "/confirm", confirm_page, methods=["GET"]),
    Route(_RETURN_PAGE + "/confirm", decide, methods=["POST"]),
    Route(cli_login.CROSS_DEVICE_REDIRECT_PATH, code_page, methods=["GET"]),
]
