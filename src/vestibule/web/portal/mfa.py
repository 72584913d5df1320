"""MFA devices of the signed-in portal user: a virtual (TOTP) device, enrolled as in the console (services/
credentials: the sealed secret in a browser-bound flow, two consecutive codes, the one TOTP check). Registering
needs a fresh sign-in (within REAUTH_SECONDS); after that, sign out and in again."""

from __future__ import annotations

import base64
import io

import qrcode
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core import totp
from ...core.flows import FlowError
from ...errors import NotFound, VestibuleError
from ...services import credentials, webauthn
from ...services.reauthentication import Reauthenticated
from ...services.signin.portal import PortalSession
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .common import forget_return, return_path
from .home import _signed

REAUTH_SECONDS = 5 * 60


def _device_name(signed: PortalSession, name: str) -> str:
    """MFA device names are unique per account: the portal keeps each user's own apart."""
    return f"sso-{signed.principal.ref.id[:10]}-{name.strip()}"[:64]


async def _page(request: Request, signed: PortalSession, flow_id: str, error: str = "", status: int = 200
                ) -> Response:
    deps = web_of(request).deps
    flow, secret = await credentials.enrolment_secret(deps, client_of(request), signed.principal, flow_id)
    uri = totp.provisioning_uri(secret, f"{signed.user.user_name}@{request.path_params['portal']}", "Vestibule")
    buf = io.BytesIO()
    qrcode.make(uri, box_size=6, border=2).save(buf, format="PNG")
    qr = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, "portal/mfa_new.html", status, portal_name=request.path_params["portal"], flow=flow,
                  secret=grouped, secret_raw=secret, qr=qr, error=error, portal_user=signed.user)


_NOTICES = {"added": "mfa.added", "removed": "notice.mfa.removed", "webauthn_added": "portal_webauthn.added",
            "webauthn_renamed": "portal_webauthn.renamed", "webauthn_removed": "portal_webauthn.removed"}


def _notice(request: Request) -> str:
    key = _NOTICES.get(request.query_params.get("notice", ""))
    return translator(request)(key) if key else ""


async def mfa_page(request: Request) -> Response:
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    name = request.path_params["portal"]
    flow_id = request.query_params.get("flow", "")
    try:
        if flow_id:
            return await _page(request, signed, flow_id)
    except FlowError as exc:
        return render(request, "portal/flow_error.html", status_for(exc), portal_name=name,
                      error=message_for(exc, translator(request)))
    devices = await credentials.list_devices(web_of(request).deps, signed.principal)
    keys = await webauthn.credentials_of(web_of(request).deps, signed.principal.key)
    fresh = web_of(request).deps.clock() - signed.session.created_at < REAUTH_SECONDS
    return render(request, "portal/mfa.html", portal_name=name, devices=devices, fresh=fresh, webauthn_keys=keys,
                  required=request.query_params.get("required") == "1" and not devices and not keys,
                  portal_user=signed.user, notice=_notice(request))


async def mfa_submit(request: Request) -> Response:
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    deps = web_of(request).deps
    name = request.path_params["portal"]
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    try:
        if not flow_id:
            if deps.clock() - signed.session.created_at >= REAUTH_SECONDS:
                return redirect(f"/portal/{name}/mfa")
            proof = Reauthenticated(signed.session.id_hash, signed.session.created_at)
            flow = await credentials.begin_enrolment(deps, client_of(request), signed.principal, proof)
            return redirect(f"/portal/{name}/mfa?flow={flow.id}")
        await credentials.complete_enrolment(deps, client_of(request), signed.principal, flow_id,
                                             _device_name(signed, field(form, "device_name", 40)),
                                             field(form, "mfa_code", 16), field(form, "mfa_code_2", 16))
    except FlowError as exc:
        return render(request, "portal/flow_error.html", status_for(exc), portal_name=name, error=message_for(exc, t))
    except VestibuleError as exc:
        if not flow_id:
            return redirect(f"/portal/{name}/mfa")
        return await _page(request, signed, flow_id, error=message_for(exc, t), status=400)
    response = redirect(return_path(request) or f"/portal/{name}/mfa?notice=added")  # a required device: back
    forget_return(request, response)
    return response


async def mfa_remove(request: Request) -> Response:
    """Remove one of the signed-in user's devices: needs a sign-in in the last 5 minutes, like registering."""
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    deps = web_of(request).deps
    name = request.path_params["portal"]
    if deps.clock() - signed.session.created_at >= REAUTH_SECONDS:
        return redirect(f"/portal/{name}/mfa")
    proof = Reauthenticated(signed.session.id_hash, signed.session.created_at)
    try:
        await credentials.remove_device(deps, client_of(request), signed.principal, field(form, "serial", 256), proof)
    except VestibuleError as exc:
        return render(request, "portal/flow_error.html", 404 if isinstance(exc, NotFound) else status_for(exc, 400),
                      portal_name=name, error=message_for(exc, translator(request)))
    return redirect(f"/portal/{name}/mfa?notice=removed")


routes = [
    Route("/portal/{portal}/mfa", mfa_page, methods=["GET"]),
    Route("/portal/{portal}/mfa", mfa_submit, methods=["POST"]),
    Route("/portal/{portal}/mfa/remove", mfa_remove, methods=["POST"]),
]
