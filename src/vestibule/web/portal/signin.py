"""Portal sign-in: user name (remembered on request), Next, password, a new password when it must change, then
an MFA code or a mailed verification code."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.flows.portal_signin import PortalSignInState
from ...errors import CaptchaInvalid, CaptchaRequired, TooManyAttempts, VestibuleError
from ...services.identity_center import identity_sources
from ...services.identity_center.instances import Instance
from ...services.signin import portal
from ...services.signin.gate import risk
from ...services.signin.portal import Continue, Outcome
from ...services.signin.portal_ldap import LdapSignInFailed
from ..federation.failure import failure_response
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, rotate_browser_id, translator, web_of
from . import saml
from .common import (
    REMEMBER_MAX_AGE,
    current,
    forget_return,
    instance_of,
    not_found,
    return_path,
    session_cookie,
    session_token,
    set_cookie,
    start_path,
    user_cookie,
)

State = PortalSignInState
_TEMPLATES = {
    State.PASSWORD: "portal/signin_password.html",
    State.NEW_PASSWORD: "portal/signin_new_password.html",
    State.MFA: "portal/signin_mfa.html",
    State.EMAIL_CODE: "portal/signin_email_code.html",
}


def _home(name: str) -> str:
    return f"/portal/{name}/"


async def start_page(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    name = request.path_params["portal"]
    if await current(request, instance) is not None:
        response = redirect(return_path(request) or _home(name))
        forget_return(request, response)
        return response
    if (elsewhere := await saml.sign_in_elsewhere(request, instance)) is not None:  # an external SAML IdP
        return elsewhere
    remembered = request.state.cookies.get(user_cookie(request), "")
    return render(request, "portal/signin_start.html", portal_name=name, username=remembered,
                  remembered=bool(remembered), signed_out=request.query_params.get("signed_out") == "1",
                  returning=return_path(request) is not None)


async def start_submit(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    name = request.path_params["portal"]
    form = await form_of(request)
    if (elsewhere := await saml.sign_in_elsewhere(request, instance)) is not None:  # no password here
        return elsewhere
    username = field(form, "username", 128).strip()
    if not username:
        return render(request, "portal/signin_start.html", 400, portal_name=name,
                      error=translator(request)("portal.username_required"))
    flow = await portal.start(web_of(request).deps, client_of(request), instance, username)
    response = redirect(f"/portal/{name}/signin?flow={flow.id}")
    if form.get("remember") == "on":
        set_cookie(request, response, user_cookie(request), username if username.isprintable() and ";" not in username
                   and " " not in username else "", REMEMBER_MAX_AGE)
    elif request.state.cookies.get(user_cookie(request)):
        set_cookie(request, response, user_cookie(request), "", 0)
    return response


async def _flow_page(request: Request, instance: Instance, error: str = "", status: int = 200,
                     captcha: bool | None = None) -> Response:
    web = web_of(request)
    client = client_of(request)
    name = request.path_params["portal"]
    try:
        flow = await portal.load_flow(web.deps, client, request.query_params.get("flow", ""), set(_TEMPLATES))
    except FlowError as exc:
        return render(request, "portal/flow_error.html", status_for(exc), portal_name=name,
                      error=message_for(exc, translator(request)))
    if flow.payload.identity_store_id != instance.identity_store_id:
        return not_found(request)
    if flow.state == State.PASSWORD:
        if captcha is None:
            keys = portal.portal_keys(instance.identity_store_id, flow.payload.user_name, client)
            captcha = (await risk(web.deps, keys)).captcha_required
        if captcha:
            await web.captcha.issue(client.browser_hash)
    mfa = await portal.mfa_choices(web.deps, flow) if flow.state == State.MFA else None
    directory_password = (flow.state == State.PASSWORD
                          and await identity_sources.kind_of(web.deps, instance.arn) == identity_sources.LDAP)
    return render(request, _TEMPLATES[flow.state], status, flow=flow, portal_name=name,
                  username=flow.payload.user_name, error=error, captcha=bool(captcha), mfa=mfa,
                  action=f"/portal/{name}/signin?flow={flow.id}", directory_password=directory_password)


async def flow_page(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    return await _flow_page(request, instance)


def _next(request: Request, outcome: Outcome) -> Response:
    name = request.path_params["portal"]
    if isinstance(outcome, Continue):
        return redirect(f"/portal/{name}/signin?flow={outcome.flow.id}")
    response = redirect(return_path(request) or _home(name))  # back to the approval page that sent it here
    forget_return(request, response)
    max_age = max(1, int(outcome.session.expires_at - web_of(request).deps.clock()))
    set_cookie(request, response, session_cookie(request), outcome.session.token, max_age)
    rotate_browser_id(request, response)  # as the console does: an ID seen before the sign-in is worth nothing after
    return response


async def flow_submit(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    web = web_of(request)
    client = client_of(request)
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")
    previous = session_token(request)
    step = field(form, "step", 20)
    t = translator(request)
    outcome: Outcome
    try:
        if step == "password":
            outcome = await portal.submit_password(web.deps, client, web.captcha, flow_id, field(form, "password"),
                                                   field(form, "captcha", 32), previous_session=previous)
        elif step == "new_password":
            outcome = await portal.submit_new_password(web.deps, client, flow_id, field(form, "new_password"),
                                                       field(form, "confirm_password"), previous)
        elif step == "mfa":
            outcome = await portal.submit_mfa(web.deps, client, flow_id, field(form, "mfa_code", 16), previous)
        elif step == "webauthn":
            outcome = await portal.submit_webauthn(web.deps, client, flow_id, field(form, "webauthn_response", 65536),
                                                   previous)
        elif step == "email_code":
            outcome = await portal.submit_email_code(web.deps, client, flow_id,
                                                     field(form, "verification_code", 16), previous)
        elif step == "resend":
            await portal.resend_email_code(web.deps, client, flow_id)
            return await _flow_page(request, instance, error=t("signin.code_resent"))
        else:
            return render(request, "portal/flow_error.html", 400, error=t("flow.out_of_order"),
                          portal_name=request.path_params["portal"])
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await _flow_page(request, instance, error=message_for(exc, t), captcha=True)
    except FlowError as exc:
        return render(request, "portal/flow_error.html", status_for(exc), error=message_for(exc, t),
                      portal_name=request.path_params["portal"])
    except TooManyAttempts as exc:
        return await _flow_page(request, instance, error=message_for(exc, t), status=429)
    except LdapSignInFailed as exc:  # the LDAP directory source: what is wrong, under a reference
        return failure_response(request, exc.failure, exc.reference, status=exc.status, start_over=start_path(instance))
    except VestibuleError as exc:
        return await _flow_page(request, instance, error=message_for(exc, t), status=status_for(exc, 400))
    return _next(request, outcome)


async def sign_out(request: Request) -> Response:
    name = request.path_params["portal"]
    await form_of(request)
    token = session_token(request)
    if token:
        await portal.sign_out(web_of(request).deps, client_of(request), token)
    response = redirect(f"{start_path(name)}?signed_out=1")
    set_cookie(request, response, session_cookie(request), "", 0)
    return response


routes = [
    Route("/portal/{portal}/start", start_page, methods=["GET"]),
    Route("/portal/{portal}/start", start_submit, methods=["POST"]),
    Route("/portal/{portal}/signin", flow_page, methods=["GET"]),
    Route("/portal/{portal}/signin", flow_submit, methods=["POST"]),
    Route("/portal/{portal}/signout", sign_out, methods=["POST"]),
]
