"""`GET /federation`: the federation endpoint custom identity brokers call (`Action=getSigninToken`, answered in
JSON) and send their users' browsers to (`Action=login`, a console session and a redirect to a same-origin
Destination). Both are GETs, as AWS's are: a sign-in token is the one-use proof, never a cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...errors import TooManyAttempts
from ...services.federation import endpoint as federation
from ..rendering import client_of, previous_session, redirect, render, set_session_cookie, translator, web_of
from .failure import failure_response

_NO_STORE = {"cache-control": "no-store"}
_STATUS = {"malformed": 400, "duration": 400, "invalid": 403, "unsupported": 403}


def _json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"Error": {"Code": code, "Message": message}}, status_code=status,
                        headers={**_NO_STORE, **(headers or {})})


async def _get_signin_token(request: Request) -> Response:
    web = web_of(request)
    params = request.query_params
    try:
        session = federation.parse_session(params.get("Session", ""))
        duration = federation.parse_session_duration(params.get("SessionDuration"))
        token = await federation.signin_token(web.deps, web.keys, client_of(request), session, duration)
    except federation.SigninTokenRefused as refused:
        return _json_error(_STATUS.get(refused.reason, 400), refused.reason, refused.detail)
    except TooManyAttempts as wait:
        return _json_error(429, "throttled", f"Too many refused requests from this address; retry after "
                                             f"{wait.retry_after} seconds.", {"retry-after": str(wait.retry_after)})
    return JSONResponse({"SigninToken": token}, headers=_NO_STORE)


async def _login(request: Request) -> Response:
    web = web_of(request)
    params = request.query_params
    t = translator(request)
    try:
        destination = federation.destination_path(params.get("Destination", ""), web.deps.settings.public_origin)
    except federation.DestinationRefused:
        return render(request, "flow_error.html", 400, error=t("federation_endpoint.destination"))
    client = client_of(request)
    try:
        opened = await federation.login(web.deps, web.keys, client, params.get("SigninToken", ""),
                                        previous_session=previous_session(request), issuer=params.get("Issuer", ""))
    except TooManyAttempts as wait:
        return render(request, "flow_error.html", 429, error=t("throttle.wait", seconds=wait.retry_after))
    except federation.LoginFailed as failed:
        return failure_response(request, failed.failure, failed.reference)
    response = redirect(destination)
    response.headers["cache-control"] = "no-store"  # it sets the session cookie: no cache may keep it
    set_session_cookie(request, response, opened.session.token,
                       max(1, int(opened.session.expires_at - web.deps.clock())))
    return response


async def federation_endpoint(request: Request) -> Response:
    action = request.query_params.get("Action", "")
    if action == "getSigninToken":
        return await _get_signin_token(request)
    if action == "login":
        return await _login(request)
    return _json_error(400, "malformed", "Action must be getSigninToken or login.")


routes = [Route("/federation", federation_endpoint, methods=["GET"])]
