"""Routes for the sign-in start page, the IAM user form and the multi-step flow page."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import identifiers as ids
from ..core.flows import FlowError, FlowState
from ..errors import CaptchaInvalid, CaptchaRequired, TooManyAttempts, VestibuleError
from ..services import signin
from ..services.signin import Outcome
from .messages import message_for, status_for
from .rendering import (
    client_of,
    end_previous_session,
    field,
    form_of,
    redirect,
    render,
    set_session_cookie,
    signed_in,
    translator,
    web_of,
)
from .security import cookie_header

_STATE_TEMPLATES = {
    FlowState.PASSWORD: "signin_password.html",
    FlowState.MFA: "signin_mfa.html",
    FlowState.EMAIL_CODE: "signin_email_code.html",
    FlowState.NEW_PASSWORD: "signin_new_password.html",
}


async def _finish(request: Request, outcome: Outcome) -> Response:
    web = web_of(request)
    if outcome.session is not None:
        await end_previous_session(request)
        response = redirect("/console")
        set_session_cookie(response, web, outcome.session.token, web.deps.settings.session_absolute_seconds)
        return response
    assert outcome.flow is not None
    return redirect(f"/signin?flow={outcome.flow.id}")


async def start_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return redirect("/console")
    web = web_of(request)
    remembered = request.state.cookies.get(web.names.account, "")
    if remembered and request.query_params.get("root") != "1":
        return await _iam_form(request, remembered)
    return render(request, "signin_start.html", signed_out=request.query_params.get("signed_out") == "1",
                  user_type=request.query_params.get("user_type", "root"))


async def start_submit(request: Request) -> Response:
    form = await form_of(request)
    user_type = field(form, "user_type", 8)
    t = translator(request)
    if user_type == "iam":
        account = field(form, "account", 80).strip()
        if not account:
            return render(request, "signin_start.html", 400, user_type="iam", error=t("signin.account_required"))
        return redirect(f"/{quote(ids.parse_account_reference(account), safe='')}/console")
    if user_type != "root":
        return render(request, "signin_start.html", 400, user_type="root", error=t("signin.choose_type"))
    email = field(form, "email", 300)
    try:
        flow = await signin.start_root(web_of(request).deps, client_of(request), email)
    except VestibuleError as exc:
        return render(request, "signin_start.html", 400, user_type="root", email=email, error=message_for(exc, t))
    return redirect(f"/signin?flow={flow.id}")


async def _iam_form(request: Request, account: str, *, username: str = "", error: str = "",
                    status: int = 200, captcha: bool | None = None) -> Response:
    web = web_of(request)
    client = client_of(request)
    if captcha is None:
        keys = [f"ip:{client.ip}"] + ([signin.iam_keys(account, username, client)[0]] if username else [])
        captcha = (await signin.risk(web.deps, keys)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "signin_iam.html", status, account=account, username=username, error=error,
                  captcha=captcha, remembered=request.state.cookies.get(web.names.account, "") == account)


async def iam_page(request: Request) -> Response:
    account = request.path_params["account"]
    session = await signed_in(request)
    if session is not None and ids.parse_account_reference(account) in {session.account.id, session.account.alias}:
        return redirect("/console")
    return await _iam_form(request, ids.parse_account_reference(account))


async def iam_submit(request: Request) -> Response:
    web = web_of(request)
    account = ids.parse_account_reference(request.path_params["account"])
    form = await form_of(request)
    username = field(form, "username", 128)
    t = translator(request)
    try:
        outcome = await signin.submit_iam_password(
            web.deps, client_of(request), web.captcha, account, username, field(form, "password"),
            field(form, "captcha", 32))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await _iam_form(request, account, username=username, error=message_for(exc, t), captcha=True)
    except (VestibuleError, FlowError) as exc:
        return await _iam_form(request, account, username=username, error=message_for(exc, t),
                               status=status_for(exc))
    response = await _finish(request, outcome)
    if form.get("remember") == "on":
        response.headers.append("set-cookie", cookie_header(web.names.account, account, max_age=400 * 86400,
                                                            secure=web.names.secure))
    elif request.state.cookies.get(web.names.account):
        response.headers.append("set-cookie", cookie_header(web.names.account, "", max_age=0, secure=web.names.secure))
    return response


async def flow_page(request: Request, error: str = "", status: int = 200, captcha: bool | None = None) -> Response:
    web = web_of(request)
    client = client_of(request)
    flow_id = request.query_params.get("flow", "")
    t = translator(request)
    try:
        flow = await signin.load_flow(web.deps, client, flow_id, set(_STATE_TEMPLATES))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    if flow.state == FlowState.PASSWORD:
        if captcha is None:
            captcha = (await signin.risk(web.deps, signin.root_keys(str(flow.data["email"]), client))).captcha_required
        if captcha:
            await web.captcha.issue(client.browser_hash)
    return render(request, _STATE_TEMPLATES[flow.state], status, flow=flow, email=flow.data.get("email", ""),
                  error=error, captcha=bool(captcha), expired=bool(flow.data.get("password_expired")))


async def flow_submit(request: Request) -> Response:
    web = web_of(request)
    client = client_of(request)
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")
    step = field(form, "step", 20)
    t = translator(request)
    try:
        if step == "password":
            outcome = await signin.submit_root_password(web.deps, client, web.captcha, flow_id,
                                                        field(form, "password"), field(form, "captcha", 32))
        elif step == "mfa":
            outcome = await signin.submit_mfa(web.deps, client, flow_id, field(form, "mfa_code", 16))
        elif step == "email_code":
            outcome = await signin.submit_email_code(web.deps, client, flow_id, field(form, "verification_code", 16))
        elif step == "resend":
            await signin.resend_email_code(web.deps, client, flow_id)
            return await flow_page(request, error=t("signin.code_resent"))
        elif step == "new_password":
            outcome = await signin.submit_new_password(web.deps, client, flow_id, field(form, "new_password"),
                                                       field(form, "confirm_password"))
        else:
            return render(request, "flow_error.html", 400, error=t("flow.out_of_order"))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await flow_page(request, error=message_for(exc, t), captcha=True)
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except TooManyAttempts as exc:
        return await flow_page(request, error=message_for(exc, t), status=429)
    except VestibuleError as exc:
        return await flow_page(request, error=message_for(exc, t), status=status_for(exc))
    return await _finish(request, outcome)


routes = [
    Route("/", start_page, methods=["GET"]),
    Route("/", start_submit, methods=["POST"]),
    Route("/signin", flow_page, methods=["GET"]),
    Route("/signin", flow_submit, methods=["POST"]),
    Route("/{account}/console", iam_page, methods=["GET"]),
    Route("/{account}/console", iam_submit, methods=["POST"]),
]
