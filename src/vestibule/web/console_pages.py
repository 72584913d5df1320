"""Console home, security credentials (password, MFA devices) and sign-out."""

from __future__ import annotations

import base64
import io

import qrcode
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import totp
from ..core.flows import FlowError
from ..errors import VestibuleError
from ..services import access_keys, audit, credentials, sessions
from ..services.principals import load as load_principal
from .messages import message_for, status_for
from .rendering import (
    SignedIn,
    clear_session_cookie,
    client_of,
    field,
    form_of,
    redirect,
    render,
    signed_in,
    translator,
    web_of,
)


async def _require(request: Request) -> SignedIn | Response:
    who = await signed_in(request)
    if who is None:
        response = redirect("/")
        if request.state.cookies.get(web_of(request).names.session):
            clear_session_cookie(response, web_of(request))
        return response
    return who


async def home(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    return render(request, "console.html", who=who, ends_at=sessions.ends_at(who.session),
                  welcome=request.query_params.get("welcome") == "1",
                  idle_minutes=who.session.idle_seconds // 60)


async def security_page(request: Request, error: str = "", notice: str = "", status: int = 200) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    devices = await credentials.list_devices(web_of(request).deps, who.principal)
    key = request.query_params.get("notice", "")
    if not notice and key in {"mfa.added", "mfa.removed", "password.changed", "keys.updated"}:
        notice = translator(request)(f"notice.{key}")
    keys = await access_keys.list_for(web_of(request).deps, who.principal.key)
    return render(request, "security.html", status, who=who, devices=devices, error=error, notice=notice,
                  max_devices=credentials.MAX_DEVICES, access_keys=keys)


async def change_password(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    form = await form_of(request)
    web = web_of(request)
    try:
        await credentials.change_password(web.deps, client_of(request), who.principal, who.session.id_hash,
                                          field(form, "password"), field(form, "new_password"),
                                          field(form, "confirm_password"))
    except VestibuleError as exc:
        return await security_page(request, error=message_for(exc, translator(request)), status=status_for(exc, 400))
    return redirect("/console/security?notice=password.changed")


async def _enrol_page(request: Request, who: SignedIn, flow_id: str, error: str = "", status: int = 200) -> Response:
    web = web_of(request)
    flow, secret = await credentials.enrolment_secret(web.deps, client_of(request), who.principal, flow_id)
    label = who.principal.name if who.principal.kind == "iam" else "root"
    uri = totp.provisioning_uri(secret, f"{label}@{who.account.alias or who.account.id}", "Vestibule")
    image = qrcode.make(uri, box_size=6, border=2)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    qr = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, "mfa_new.html", status, who=who, flow=flow, secret=grouped, secret_raw=secret, qr=qr,
                  error=error)


async def mfa_new(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    form = await form_of(request)
    web = web_of(request)
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    try:
        if not flow_id:
            flow = await credentials.begin_enrolment(web.deps, client_of(request), who.principal)
            return redirect(f"/console/mfa/new?flow={flow.id}")
        await credentials.complete_enrolment(web.deps, client_of(request), who.principal, flow_id,
                                             field(form, "device_name", 128), field(form, "mfa_code", 16),
                                             field(form, "mfa_code_2", 16))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        if not flow_id:
            return await security_page(request, error=message_for(exc, t), status=400)
        return await _enrol_page(request, who, flow_id, error=message_for(exc, t), status=400)
    return redirect("/console/security?notice=mfa.added")


async def mfa_new_page(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    try:
        return await _enrol_page(request, who, request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, translator(request)))
    except VestibuleError as exc:
        return render(request, "flow_error.html", 400, error=message_for(exc, translator(request)))


async def mfa_remove(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    form = await form_of(request)
    try:
        await credentials.remove_device(web_of(request).deps, client_of(request), who.principal,
                                        field(form, "serial", 300), field(form, "password"))
    except VestibuleError as exc:
        return await security_page(request, error=message_for(exc, translator(request)), status=400)
    return redirect("/console/security?notice=mfa.removed")


async def sign_out(request: Request) -> Response:
    await form_of(request)
    web = web_of(request)
    token = request.state.cookies.get(web.names.session)
    target = "/?signed_out=1"
    if token:
        async with web.deps.store.unit() as uow:
            session = await sessions.end(web.deps, uow, token)
            if session is not None:
                loaded = await load_principal(uow, session.principal_key)
                await audit.record(uow, at=web.deps.clock(), event="ConsoleLogout", result="Success",
                                   client=client_of(request), account_id=session.account_id,
                                   principal=loaded[0].arn if loaded else session.principal_key)
    response = redirect(target)
    clear_session_cookie(response, web)
    return response


routes = [
    Route("/console", home, methods=["GET"]),
    Route("/console/security", security_page, methods=["GET"]),
    Route("/console/password", change_password, methods=["POST"]),
    Route("/console/mfa/new", mfa_new_page, methods=["GET"]),
    Route("/console/mfa/new", mfa_new, methods=["POST"]),
    Route("/console/mfa/remove", mfa_remove, methods=["POST"]),
    Route("/signout", sign_out, methods=["POST"]),
]
