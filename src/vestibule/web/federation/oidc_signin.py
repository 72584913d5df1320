"""Console sign-in with an OIDC provider: `GET /oidc/start` (a "Sign in with ..." button of an IAM sign-in page)
sends the browser to the provider, `GET /oidc/callback` takes it back (one role: the console; several: the
chooser at `/oidc/choose`). Failures show the failure page with its reference (web/federation/failure.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...core.oidc_code_flow import CALLBACK_PATH
from ...errors import TooManyAttempts
from ...services.federation import oidc_signin
from ...services.federation.oidc_signin import Choice, Refused, Unavailable
from ...services.signin.completion import SignedIn
from ..console import cli_login
from ..rendering import (
    client_of,
    field,
    form_of,
    iam_signin_path,
    previous_session,
    redirect,
    render,
    set_session_cookie,
    translator,
    web_of,
)
from .failure import failure_response

_PARAMS = ("state", "code", "error", "error_description", "iss")


def _secure(request: Request) -> bool:
    """`aws:SecureTransport`: this node's own connection was TLS (never a forwarded header)."""
    return request.scope.get("scheme") == "https"


def _refused(request: Request, exc: Refused) -> Response:
    start_over = iam_signin_path(exc.account_id) if exc.account_id else "/"
    return failure_response(request, exc.failure, exc.reference, start_over=start_over)


def _signed_in(request: Request, done: SignedIn) -> Response:
    response = redirect(cli_login.return_path(request) or "/console")  # back to the CLI's request, if one waits
    response.headers["cache-control"] = "no-store"  # it sets the session cookie: no cache may keep it
    cli_login.forget_return(request, response)
    set_session_cookie(request, response, done.session.token, web_of(request).deps.settings.session_absolute_seconds)
    return response


def _chooser(request: Request, chosen: Choice, error: str = "", status: int = 200) -> Response:
    return render(request, "federation/oidc_choose.html", status, flow_id=chosen.flow_id,
                  account_id=chosen.account_id, provider=chosen.provider_label, session_name=chosen.session_name,
                  roles=chosen.roles, error=error)


async def start(request: Request) -> Response:
    params = request.query_params
    try:
        url = await oidc_signin.start(web_of(request).deps, client_of(request), params.get("account", "")[:12],
                                      params.get("provider", "")[:513])
    except Unavailable:
        return render(request, "flow_error.html", 404, error=translator(request)("oidc_signin.unavailable"))
    except Refused as exc:
        return _refused(request, exc)
    except TooManyAttempts as wait:
        page = render(request, "flow_error.html", 429, error=translator(request)("throttle.wait",
                                                                                 seconds=wait.retry_after))
        page.headers["retry-after"] = str(wait.retry_after)
        return page
    return RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})


async def callback(request: Request) -> Response:
    params = {name: request.query_params[name][:4096] for name in _PARAMS if name in request.query_params}
    try:
        outcome = await oidc_signin.callback(web_of(request).deps, client_of(request), params,
                                             previous_session=previous_session(request), secure=_secure(request))
    except Refused as exc:
        return _refused(request, exc)
    if isinstance(outcome, Choice):
        return redirect(f"/oidc/choose?flow={outcome.flow_id}")
    return _signed_in(request, outcome)


async def choose_page(request: Request) -> Response:
    try:
        chosen = await oidc_signin.choice(web_of(request).deps, client_of(request),
                                          request.query_params.get("flow", "")[:64])
    except Refused as exc:
        return _refused(request, exc)
    return _chooser(request, chosen)


async def choose_submit(request: Request) -> Response:
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")[:64]
    role = field(form, "role", 2048)
    web, client = web_of(request), client_of(request)
    try:
        if not role:
            chosen = await oidc_signin.choice(web.deps, client, flow_id)
            return _chooser(request, chosen, translator(request)("oidc_signin.choose_required"), 400)
        done = await oidc_signin.choose(web.deps, client, flow_id, role, previous_session=previous_session(request),
                                        secure=_secure(request))
    except Refused as exc:
        return _refused(request, exc)
    return _signed_in(request, done)


routes = [
    Route("/oidc/start", start, methods=["GET"]),
    Route(CALLBACK_PATH, callback, methods=["GET"]),
    Route("/oidc/choose", choose_page, methods=["GET"]),
    Route("/oidc/choose", choose_submit, methods=["POST"]),
]
