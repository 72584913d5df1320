"""Sign-up of a personal profile: `/profile/signup` (email), then one flow page per step at
`/profile/signup/flow?flow=<id>` (name, the mailed code, the password)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.flows.profile_signup import ProfileSignUpState
from ...errors import CaptchaInvalid, CaptchaRequired, CodeExpired, TooManyAttempts, VestibuleError
from ...services.profiles import signup
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .cookies import session_token, set_session
from .guard import signed_in
from .home import HOME

State = ProfileSignUpState
_TEMPLATES = {
    State.NAME: "profile/signup_name.html",
    State.VERIFY_EMAIL: "profile/signup_verify.html",
    State.PASSWORD: "profile/signup_password.html",
}


def _flow_url(flow_id: str) -> str:
    return f"/profile/signup/flow?flow={flow_id}"


def _flow_error(request: Request, exc: FlowError) -> Response:
    return render(request, "profile/flow_error.html", status_for(exc), error=message_for(exc, translator(request)),
                  start_over="/profile/signup")


async def email_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return redirect(HOME)
    return render(request, "profile/signup_email.html")


async def email_submit(request: Request) -> Response:
    form = await form_of(request)
    email = field(form, "email", 300)
    try:
        flow = await signup.start(web_of(request).deps, client_of(request), email)
    except VestibuleError as exc:
        return render(request, "profile/signup_email.html", status_for(exc, 400), email=email,
                      error=message_for(exc, translator(request)))
    return redirect(_flow_url(flow.id))


async def flow_page(request: Request, error: str = "", status: int = 200, notice: str = "",
                    captcha: bool | None = None, name: str = "") -> Response:
    web = web_of(request)
    client = client_of(request)
    try:
        flow = await signup.load(web.deps, client, request.query_params.get("flow", ""), set(_TEMPLATES))
    except FlowError as exc:
        return _flow_error(request, exc)
    if captcha is None:
        captcha = await signup.captcha_needed(web.deps, client, flow)
    if captcha:
        await web.captcha.issue(client.browser_hash)
    wait = flow.payload.pending_code().resend_wait(web.deps.clock()) if flow.state == State.VERIFY_EMAIL else 0
    return render(request, _TEMPLATES[flow.state], status, flow=flow, error=error, notice=notice, captcha=captcha,
                  resend_wait=wait, name=name)


async def flow_submit(request: Request) -> Response:
    web = web_of(request)
    client = client_of(request)
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")
    step = field(form, "step", 20)
    t = translator(request)
    name = field(form, "name", 200)
    try:
        if step == "name":
            await signup.submit_name(web.deps, client, web.captcha, flow_id, name, field(form, "captcha", 32))
        elif step == "verify":
            await signup.verify(web.deps, client, flow_id, field(form, "verification_code", 16))
        elif step == "resend":
            await signup.resend(web.deps, client, flow_id)
            return await flow_page(request, notice=t("profile.code_resent"))
        elif step == "password":
            done = await signup.finish(web.deps, client, web.captcha, flow_id, field(form, "password"),
                                       field(form, "confirm_password"), field(form, "captcha", 32),
                                       previous_session=session_token(request))
            response = redirect(f"{HOME}?notice=welcome")
            set_session(request, response, done.session.token, done.session.expires_at)
            return response
        else:
            return render(request, "profile/flow_error.html", 400, error=t("flow.out_of_order"),
                          start_over="/profile/signup")
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await flow_page(request, message_for(exc, t), 400, captcha=True, name=name)
    except FlowError as exc:
        return _flow_error(request, exc)
    except CodeExpired:
        return await flow_page(request, t("profile.code_expired"), 400)
    except TooManyAttempts as exc:
        return await flow_page(request, message_for(exc, t), 429, name=name)
    except VestibuleError as exc:
        return await flow_page(request, message_for(exc, t), status_for(exc, 400), name=name)
    return redirect(_flow_url(flow_id))


routes = [
    Route("/profile/signup", email_page, methods=["GET"]),
    Route("/profile/signup", email_submit, methods=["POST"]),
    Route("/profile/signup/flow", flow_page, methods=["GET"]),
    Route("/profile/signup/flow", flow_submit, methods=["POST"]),
]
