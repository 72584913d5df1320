"""Sign-up of a new account (root user), with the mailed verification code."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.flows.email_codes import RESEND_WAIT
from ...errors import TooManyAttempts, VestibuleError
from ...services import signup
from ..messages import message_for, status_for
from ..rendering import (
    client_of,
    field,
    form_of,
    previous_session,
    redirect,
    render,
    set_session_cookie,
    translator,
    web_of,
)


async def _signup_form(request: Request, error: str = "", status: int = 200, **values: str) -> Response:
    web = web_of(request)
    if not web.deps.settings.signup_enabled:
        return render(request, "console/signup_closed.html", 404)
    await web.captcha.issue(client_of(request).browser_hash)
    return render(request, "console/signup.html", status, error=error, captcha=True, **values)


async def signup_page(request: Request) -> Response:
    return await _signup_form(request)


async def signup_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    if not web.deps.settings.signup_enabled:
        return render(request, "console/signup_closed.html", 404)
    email, name = field(form, "email", 300), field(form, "account_name", 100)
    try:
        flow = await signup.start(web.deps, client_of(request), web.captcha, email=email, account_name=name,
                                  password=field(form, "password"), confirm=field(form, "confirm_password"),
                                  captcha_answer=field(form, "captcha", 32))
    except VestibuleError as exc:
        return await _signup_form(request, message_for(exc, translator(request)), status_for(exc, 400),
                                  email=email, account_name=name)
    return redirect(f"/signup/verify?flow={flow.id}")


async def verify_page(request: Request, error: str = "", status: int = 200, notice: str = "") -> Response:
    try:
        flow = await signup.load(web_of(request).deps, client_of(request), request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, translator(request)))
    return render(request, "console/signup_verify.html", status, flow=flow, email=flow.payload.email, error=error,
                  notice=notice, resend_wait=RESEND_WAIT)


async def resend_submit(request: Request) -> Response:
    """A new code after a short wait (at most a few per sign-up), the verify page again."""
    web = web_of(request)
    await form_of(request)
    t = translator(request)
    try:
        await signup.resend(web.deps, client_of(request), request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except TooManyAttempts as exc:
        return await verify_page(request, message_for(exc, t), 429)
    return await verify_page(request, notice=t("signin.code_resent"))


async def verify_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    t = translator(request)
    try:
        signed_in, _created = await signup.verify(web.deps, client_of(request), request.query_params.get("flow", ""),
                                                  field(form, "verification_code", 16),
                                                  previous_session=previous_session(request))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        return await verify_page(request, message_for(exc, t), 400)
    response = redirect("/console?welcome=1")
    set_session_cookie(request, response, signed_in.session.token, web.deps.settings.session_absolute_seconds)
    return response


routes = [
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup_submit, methods=["POST"]),
    Route("/signup/verify", verify_page, methods=["GET"]),
    Route("/signup/verify", verify_submit, methods=["POST"]),
    Route("/signup/resend", resend_submit, methods=["POST"]),
]
