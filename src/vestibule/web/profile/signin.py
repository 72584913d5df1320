"""Sign-in of a personal profile: `/profile` (email), then `/profile/signin?flow=<id>` (password with "This is a
trusted device", then the second factor unless the browser is trusted)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.flows.profile_signin import ProfileSignInState
from ...errors import CaptchaInvalid, CaptchaRequired, TooManyAttempts, VestibuleError
from ...services.profiles import passkeys, signin
from ...services.profiles.signin import Continue, Outcome
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .cookies import forget_return, return_path, session_token, set_session, set_trust, trust_token
from .guard import signed_in
from .home import HOME

State = ProfileSignInState
_TEMPLATES = {
    State.PASSWORD: "profile/signin_password.html",
    State.MFA: "profile/signin_mfa.html",
}


def _flow_url(flow_id: str) -> str:
    return f"/profile/signin?flow={flow_id}"


def _flow_error(request: Request, exc: FlowError) -> Response:
    return render(request, "profile/flow_error.html", status_for(exc), error=message_for(exc, translator(request)))


async def start_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return redirect(HOME)
    return render(request, "profile/signin_email.html", signed_out=request.query_params.get("signed_out") == "1")


async def start_submit(request: Request) -> Response:
    form = await form_of(request)
    email = field(form, "email", 300)
    try:
        flow = await signin.start(web_of(request).deps, client_of(request), email)
    except VestibuleError as exc:
        return render(request, "profile/signin_email.html", status_for(exc, 400), email=email,
                      error=message_for(exc, translator(request)))
    return redirect(_flow_url(flow.id))


async def flow_page(request: Request, error: str = "", status: int = 200, captcha: bool | None = None,
                    trust: bool = False) -> Response:
    web = web_of(request)
    client = client_of(request)
    try:
        flow = await signin.load(web.deps, client, request.query_params.get("flow", ""), set(_TEMPLATES))
    except FlowError as exc:
        return _flow_error(request, exc)
    if flow.state == State.PASSWORD and not flow.payload.email:  # a passkey sign-in's flow: its own page
        return redirect(f"/profile/passkey?flow={flow.id}")
    if flow.state == State.PASSWORD:
        if captcha is None:
            captcha = await signin.captcha_needed(web.deps, client, flow)
        if captcha:
            await web.captcha.issue(client.browser_hash)
    mfa = await passkeys.mfa_choices(web.deps, flow) if flow.state == State.MFA else None
    return render(request, _TEMPLATES[flow.state], status, flow=flow, email=flow.payload.email, error=error,
                  captcha=bool(captcha), trust=trust, mfa=mfa)


def _next(request: Request, outcome: Outcome) -> Response:
    if isinstance(outcome, Continue):
        return redirect(_flow_url(outcome.flow.id))
    response = redirect(return_path(request) or f"{HOME}?notice=signed_in")  # a page waiting for the sign-in
    forget_return(request, response)
    session = outcome.signed_in.session
    set_session(request, response, session.token, session.expires_at)
    if outcome.trust_token is not None:
        set_trust(request, response, outcome.trust_token)
    return response


async def flow_submit(request: Request) -> Response:
    web = web_of(request)
    client = client_of(request)
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")
    previous = session_token(request)
    step = field(form, "step", 20)
    trust = form.get("trusted_device") == "on"
    t = translator(request)
    outcome: Outcome
    try:
        if step == "password":
            outcome = await signin.submit_password(web.deps, client, web.captcha, flow_id, field(form, "password"),
                                                   trust=trust, trust_token=trust_token(request),
                                                   captcha_answer=field(form, "captcha", 32),
                                                   previous_session=previous)
        elif step == "mfa":
            outcome = await signin.submit_mfa(web.deps, client, flow_id, field(form, "mfa_code", 16), previous)
        elif step == "webauthn":
            outcome = await passkeys.submit_mfa(web.deps, client, flow_id, field(form, "webauthn_response", 65536),
                                                previous)
        else:
            return render(request, "profile/flow_error.html", 400, error=t("flow.out_of_order"))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await flow_page(request, message_for(exc, t), 400, captcha=True, trust=trust)
    except FlowError as exc:
        return _flow_error(request, exc)
    except TooManyAttempts as exc:
        return await flow_page(request, message_for(exc, t), 429, trust=trust)
    except VestibuleError as exc:
        return await flow_page(request, message_for(exc, t), status_for(exc, 400), trust=trust)
    return _next(request, outcome)


routes = [
    Route("/profile", start_page, methods=["GET"]),
    Route("/profile", start_submit, methods=["POST"]),
    Route("/profile/signin", flow_page, methods=["GET"]),
    Route("/profile/signin", flow_submit, methods=["POST"]),
]
