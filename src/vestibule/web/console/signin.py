"""Console sign-in: the start page (root or IAM user), the root user's flow page, the IAM user form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core import identifiers as ids
from ...core.flows import FlowError
from ...core.flows.console_signin import ConsoleSignInState
from ...errors import CaptchaInvalid, CaptchaRequired, TooManyAttempts, VestibuleError
from ...services import account_lifecycle, signin
from ...services.account_lifecycle import AccountUnavailable
from ...services.federation import console_oidc
from ...services.signin import Continue, Outcome
from ..guard import signed_in
from ..messages import message_for, status_for
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
from ..security import cookie_header
from . import cli_login
from .lifecycle import unavailable_page

State = ConsoleSignInState
_STATE_TEMPLATES = {
    State.PASSWORD: "console/signin_password.html",
    State.MFA: "console/signin_mfa.html",
    State.EMAIL_CODE: "console/signin_email_code.html",
    State.NEW_PASSWORD: "console/signin_new_password.html",
    State.REOPEN: "console/signin_reopen.html",
}


def _next(request: Request, outcome: Outcome) -> Response:
    if isinstance(outcome, Continue):
        return redirect(f"/signin?flow={outcome.flow.id}")
    response = redirect(cli_login.return_path(request) or "/console")  # back to the CLI's request, if one waits
    cli_login.forget_return(request, response)
    set_session_cookie(request, response, outcome.session.token, web_of(request).deps.settings.session_absolute_seconds)
    return response


def flow_error(request: Request, exc: FlowError) -> Response:
    return render(request, "flow_error.html", status_for(exc), error=message_for(exc, translator(request)))


async def start_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return redirect(cli_login.return_path(request) or "/console")
    web = web_of(request)
    requested = requested_account(request.query_params.get("account", ""))  # `/?account=`: a link's account
    remembered = request.state.cookies.get(web.names.account, "")
    if remembered and not requested and request.query_params.get("root") != "1":
        return await _iam_form(request, remembered)
    return render(request, "console/signin_start.html", signed_out=request.query_params.get("signed_out") == "1",
                  user_type="iam" if requested else request.query_params.get("user_type", "root"),
                  account=requested, for_cli=cli_login.return_path(request) is not None)


def requested_account(value: str) -> str:
    """`?account=`'s account ID or alias, normalised, when it is one by syntax; anything else is not filled in
    (no lookup: whether it exists is learnt only by signing in)."""
    if not value or len(value) > 80:
        return ""
    account = ids.parse_account_reference(value)
    if ids.is_account_id(account):
        return account
    try:
        return ids.validate_alias(account)
    except ids.InvalidIdentifier:
        return ""


async def start_submit(request: Request) -> Response:
    form = await form_of(request)
    user_type = field(form, "user_type", 8)
    t = translator(request)
    if user_type == "iam":
        account = field(form, "account", 80).strip()
        if not account:
            return render(request, "console/signin_start.html", 400, user_type="iam",
                          error=t("signin.account_required"))
        return redirect(iam_signin_path(ids.parse_account_reference(account)))
    if user_type != "root":
        return render(request, "console/signin_start.html", 400, user_type="root", error=t("signin.choose_type"))
    email = field(form, "email", 300)
    try:
        flow = await signin.start_root(web_of(request).deps, client_of(request), email)
    except VestibuleError as exc:
        return render(request, "console/signin_start.html", 400, user_type="root", email=email,
                      error=message_for(exc, t))
    return redirect(f"/signin?flow={flow.id}")


async def _iam_form(request: Request, account: str, *, username: str = "", error: str = "",
                    status: int = 200, captcha: bool | None = None) -> Response:
    web = web_of(request)
    client = client_of(request)
    if captcha is None:
        captcha = (await signin.iam_risk(web.deps, client, account, username)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "console/signin_iam.html", status, account=account, username=username, error=error,
                  captcha=captcha, remembered=request.state.cookies.get(web.names.account, "") == account,
                  signin_path=iam_signin_path(account), for_cli=cli_login.return_path(request) is not None,
                  oidc_buttons=await console_oidc.buttons_for(web.deps, account))


async def iam_page(request: Request) -> Response:
    account = ids.parse_account_reference(request.path_params["account"])
    who = await signed_in(request)
    if who is not None and account in {who.principal.account_id, who.principal.account_alias}:
        return redirect("/console")
    return await _iam_form(request, account)


async def iam_submit(request: Request) -> Response:
    web = web_of(request)
    account = ids.parse_account_reference(request.path_params["account"])
    form = await form_of(request)
    username = field(form, "username", 128)
    t = translator(request)
    try:
        outcome = await signin.submit_iam_password(
            web.deps, client_of(request), web.captcha, account, username, field(form, "password"),
            field(form, "captcha", 32), previous_session=previous_session(request))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await _iam_form(request, account, username=username, error=message_for(exc, t), captcha=True)
    except AccountUnavailable as exc:
        return unavailable_page(request, exc)
    except (VestibuleError, FlowError) as exc:
        return await _iam_form(request, account, username=username, error=message_for(exc, t),
                               status=status_for(exc))
    response = _next(request, outcome)
    if form.get("remember") == "on":
        response.headers.append("set-cookie", cookie_header(web.names.account, account, max_age=400 * 86400,
                                                            secure=web.names.secure))
    elif request.state.cookies.get(web.names.account):
        response.headers.append("set-cookie", cookie_header(web.names.account, "", max_age=0, secure=web.names.secure))
    return response


async def flow_page(request: Request, error: str = "", status: int = 200, captcha: bool | None = None) -> Response:
    web = web_of(request)
    client = client_of(request)
    try:
        flow = await signin.load_flow(web.deps, client, request.query_params.get("flow", ""), set(_STATE_TEMPLATES))
    except FlowError as exc:
        return flow_error(request, exc)
    if flow.state == State.PASSWORD:
        if captcha is None:
            captcha = (await signin.root_risk(web.deps, client, flow.payload.email)).captcha_required
        if captcha:
            await web.captcha.issue(client.browser_hash)
    reopen_until = (await account_lifecycle.reopen_until(web.deps, flow.payload.account_id)
                    if flow.state == State.REOPEN else None)
    choices = await signin.mfa_choices(web.deps, flow) if flow.state == State.MFA else None
    return render(request, _STATE_TEMPLATES[flow.state], status, flow=flow, email=flow.payload.email,
                  error=error, captcha=bool(captcha), expired=flow.payload.password_expired,
                  reopen_until=reopen_until, mfa=choices)


async def flow_submit(request: Request) -> Response:
    web = web_of(request)
    client = client_of(request)
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")
    previous = previous_session(request)
    step = field(form, "step", 20)
    t = translator(request)
    outcome: Outcome
    try:
        if step == "password":
            outcome = await signin.submit_root_password(web.deps, client, web.captcha, flow_id, field(form, "password"),
                                                        field(form, "captcha", 32), previous_session=previous)
        elif step == "mfa":
            outcome = await signin.submit_mfa(web.deps, client, flow_id, field(form, "mfa_code", 16), previous)
        elif step == "webauthn":
            outcome = await signin.submit_webauthn(web.deps, client, flow_id, field(form, "webauthn_response", 65536),
                                                   previous)
        elif step == "email_code":
            outcome = await signin.submit_email_code(web.deps, client, flow_id, field(form, "verification_code", 16),
                                                     previous)
        elif step == "resend":
            await signin.resend_email_code(web.deps, client, flow_id)
            return await flow_page(request, error=t("signin.code_resent"))
        elif step == "reopen":
            outcome = await signin.submit_reopen(web.deps, client, flow_id, previous)
        elif step == "new_password":
            outcome = await signin.submit_new_password(web.deps, client, flow_id, field(form, "new_password"),
                                                       field(form, "confirm_password"), previous)
        else:
            return render(request, "flow_error.html", 400, error=t("flow.out_of_order"))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await flow_page(request, error=message_for(exc, t), captcha=True)
    except FlowError as exc:
        return flow_error(request, exc)
    except TooManyAttempts as exc:
        return await flow_page(request, error=message_for(exc, t), status=429)
    except AccountUnavailable as exc:
        return unavailable_page(request, exc)
    except VestibuleError as exc:
        return await flow_page(request, error=message_for(exc, t), status=status_for(exc))
    return _next(request, outcome)


start_routes = [
    Route("/", start_page, methods=["GET"]),
    Route("/", start_submit, methods=["POST"]),
    Route("/signin", flow_page, methods=["GET"]),
    Route("/signin", flow_submit, methods=["POST"]),
]
# Last of all routes: `/{account}/console` would otherwise catch `/signup/console` and the like.
iam_routes = [
    Route("/{account}/console", iam_page, methods=["GET"]),
    Route("/{account}/console", iam_submit, methods=["POST"]),
]
