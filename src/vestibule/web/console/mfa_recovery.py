"""Lost root MFA (`services/mfa_recovery.py`): "Trouble signing in?" on the MFA step, the mailed link, the
recovery code, the console's new-device prompt; and the recovery codes on the security page (shown once)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.flows.console_signin import Audience, ConsoleSignInState
from ...errors import CaptchaInvalid, CaptchaRequired, VestibuleError
from ...services import credentials, mfa_recovery, recovery_codes, signin
from ..guard import SignedIn, requires_session
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
from .reauth import reauthenticated

RECOVERED_PATH = "/console/mfa/recovered"


def _flow_error(request: Request, exc: FlowError) -> Response:
    return render(request, "flow_error.html", status_for(exc), error=message_for(exc, translator(request)))


async def trouble_page(request: Request) -> Response:
    """What the root user can do without the device (an IAM user's MFA page says whom to ask)."""
    web = web_of(request)
    try:
        flow = await signin.load_flow(web.deps, client_of(request), request.query_params.get("flow", ""),
                                      ConsoleSignInState.MFA)
    except FlowError as exc:
        return _flow_error(request, exc)
    if flow.payload.audience != Audience.ROOT:
        return redirect(f"/signin?flow={flow.id}")
    return render(request, "console/mfa_recovery_start.html", flow_id=flow.id)


async def trouble_submit(request: Request) -> Response:
    form = await form_of(request)
    web = web_of(request)
    signin_flow = field(form, "flow", 64)
    try:
        flow = await mfa_recovery.start(web.deps, client_of(request), signin_flow)
    except FlowError as exc:
        return _flow_error(request, exc)
    except VestibuleError as exc:
        return render(request, "console/mfa_recovery_start.html", status_for(exc, 400), flow_id=signin_flow,
                      error=message_for(exc, translator(request)))
    return redirect(f"/signin/recover/sent?flow={flow.id}")


async def sent_page(request: Request, error: str = "", status: int = 200) -> Response:
    web = web_of(request)
    try:
        flow = await mfa_recovery.load(web.deps, client_of(request), request.query_params.get("flow", ""))
    except FlowError as exc:
        return _flow_error(request, exc)
    return render(request, "console/mfa_recovery_sent.html", status, flow=flow, error=error)


async def resend_submit(request: Request) -> Response:
    await form_of(request)
    web = web_of(request)
    t = translator(request)
    try:
        await mfa_recovery.resend(web.deps, client_of(request), request.query_params.get("flow", ""))
    except FlowError as exc:
        return _flow_error(request, exc)
    except VestibuleError as exc:
        return await sent_page(request, message_for(exc, t), status_for(exc, 400))
    return await sent_page(request, t("recovery_mfa.resent"))


async def _code_page(request: Request, flow_id: str, token: str, *, error: str = "", status: int = 200,
                     captcha: bool | None = None) -> Response:
    """The recovery code form of the mailed link (nothing changes until it is posted), with the CAPTCHA the
    root user's sign-in counter asks for."""
    web = web_of(request)
    t = translator(request)
    client = client_of(request)
    try:
        page = await mfa_recovery.open_link(web.deps, client, flow_id, token)
    except FlowError as exc:
        if exc.code == "flow.wrong_browser":
            return render(request, "flow_error.html", 400, error=t("recovery_mfa.wrong_browser"))
        return render(request, "flow_error.html", status_for(exc), error=error or message_for(exc, t))
    except VestibuleError as exc:
        return render(request, "flow_error.html", 410, error=message_for(exc, t))
    if captcha is None:
        captcha = (await mfa_recovery.risk(web.deps, client, page.flow)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "console/mfa_recovery_code.html", status, flow=page.flow, token=token,
                  email_hint=page.email_hint, error=error, captcha=captcha)


async def link_page(request: Request) -> Response:
    return await _code_page(request, request.query_params.get("flow", ""), request.query_params.get("token", "")[:100])


async def link_submit(request: Request) -> Response:
    form = await form_of(request)
    web = web_of(request)
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    token = field(form, "token", 100)
    try:
        signed = await mfa_recovery.submit_code(web.deps, client_of(request), web.captcha, flow_id, token,
                                                field(form, "recovery_code", 64), field(form, "captcha", 32),
                                                previous_session(request))
    except FlowError as exc:
        if exc.code == "flow.wrong_browser":
            return render(request, "flow_error.html", 400, error=t("recovery_mfa.wrong_browser"))
        return _flow_error(request, exc)
    except mfa_recovery.RecoveryLinkInvalid as exc:
        return render(request, "flow_error.html", 410, error=message_for(exc, t))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await _code_page(request, flow_id, token, error=message_for(exc, t), status=400, captcha=True)
    except VestibuleError as exc:
        return await _code_page(request, flow_id, token, error=message_for(exc, t), status=status_for(exc, 400))
    response = redirect(RECOVERED_PATH)
    set_session_cookie(request, response, signed.session.token, web.deps.settings.session_absolute_seconds)
    return response


@requires_session
async def recovered_page(request: Request, who: SignedIn) -> Response:
    """After the recovered sign-in: register a new device, remove the lost one, count the codes left."""
    deps = web_of(request).deps
    devices = await credentials.list_devices(deps, who.principal)
    return render(request, "console/mfa_recovered.html", who=who, devices=devices,
                  codes=await recovery_codes.status(deps, who.principal))


@requires_session
async def regenerate(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    proof = await reauthenticated(request, who, form, action="RegenerateRecoveryCodes",
                                  action_path="/console/recovery-codes")
    if isinstance(proof, Response):
        return proof
    try:
        await recovery_codes.regenerate(web_of(request).deps, client_of(request), who.principal, who.session.id_hash,
                                        proof)
    except VestibuleError as exc:
        return render(request, "flow_error.html", status_for(exc, 400), error=message_for(exc, translator(request)))
    return redirect("/console/security#recovery-codes-section")  # where the new codes are shown, once


sign_in_routes = [
    Route("/signin/recover", trouble_page, methods=["GET"]),
    Route("/signin/recover", trouble_submit, methods=["POST"]),
    Route("/signin/recover/sent", sent_page, methods=["GET"]),
    Route("/signin/recover/resend", resend_submit, methods=["POST"]),
    Route("/signin/recover/link", link_page, methods=["GET"]),
    Route("/signin/recover/link", link_submit, methods=["POST"]),
]
console_routes = [
    Route(RECOVERED_PATH, recovered_page, methods=["GET"]),
    Route("/console/recovery-codes", regenerate, methods=["POST"]),
]
routes = [*sign_in_routes, *console_routes]
