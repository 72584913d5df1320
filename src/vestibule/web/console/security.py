"""Security credentials: password change and virtual MFA devices (access keys: `access_keys`)."""

from __future__ import annotations

import base64
import io

import qrcode
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core import totp
from ...core.flows import FlowError
from ...core.principals import PrincipalKind
from ...errors import CaptchaInvalid, CaptchaRequired, VestibuleError
from ...services import console_mfa, credentials, reauthentication, recovery_codes, signin_sessions, webauthn
from ...services.mfa import MAX_DEVICES_PER_PRINCIPAL
from ...services.sessions import SignedInSession
from ...services.signin_sessions import SessionInfo
from ..guard import SignedIn, requires_session
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .mfa_devices import error_text, last_device_warning
from .reauth import reauthenticated

_NOTICES = {"mfa.added", "mfa.removed", "password.changed", "keys.updated", "reauth.confirmed", "session.ended",
            "mfa.renamed", "mfa.resynced", "webauthn.added", "webauthn.renamed", "webauthn.removed"}


async def _sessions(request: Request, who: SignedIn) -> list[SessionInfo] | None:
    """The user's live sessions, this browser's first; None for a role session (they are a user's own)."""
    if who.principal.ref.kind == PrincipalKind.ROLE:
        return None
    found = await signin_sessions.sessions_of(web_of(request).deps, SignedInSession(who.session, who.principal))
    return sorted(found, key=lambda s: not s.current)  # stable: newest first after this browser


async def render_security(request: Request, who: SignedIn, error: str = "", status: int = 200,
                          captcha: bool | None = None) -> Response:
    web = web_of(request)
    deps = web.deps
    client = client_of(request)
    devices = await console_mfa.devices_of(deps, who.principal)
    keys_of_webauthn = await webauthn.credentials_of(deps, who.principal.key)
    key = request.query_params.get("notice", "")
    notice = translator(request)(f"notice.{key}") if key in _NOTICES else ""
    keys = await credentials.list_access_keys(deps, who.principal)
    if captcha is None:  # the password change checks the password as sign-in does: with its CAPTCHA
        captcha = (await reauthentication.risk(deps, who.principal, client)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "console/security.html", status, who=who, devices=devices, error=error, notice=notice,
                  max_devices=MAX_DEVICES_PER_PRINCIPAL, access_keys=keys, captcha=captcha,
                  webauthn_keys=keys_of_webauthn,
                  reauthenticated=reauthentication.is_fresh(who.session, client, deps.clock()),
                  sessions=await _sessions(request, who),
                  recovery_codes=await recovery_codes.status(deps, who.principal),
                  fresh_codes=await recovery_codes.reveal(deps, client, who.principal, who.session.id_hash))


@requires_session
async def security_page(request: Request, who: SignedIn) -> Response:
    return await render_security(request, who)


@requires_session
async def change_password(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    web = web_of(request)
    try:
        await credentials.change_password(web.deps, client_of(request), who.principal, who.session.id_hash,
                                          field(form, "password"), field(form, "new_password"),
                                          field(form, "confirm_password"), web.captcha, field(form, "captcha", 32))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await render_security(request, who, message_for(exc, translator(request)), 400, captcha=True)
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), status_for(exc, 400))
    return redirect("/console/security?notice=password.changed")


async def _enrol_page(request: Request, who: SignedIn, flow_id: str, error: str = "", status: int = 200) -> Response:
    flow, secret = await credentials.enrolment_secret(web_of(request).deps, client_of(request), who.principal,
                                                      flow_id)
    label = who.principal.name if who.principal.kind == "iam" else "root"
    uri = totp.provisioning_uri(secret, f"{label}@{who.principal.account_alias or who.principal.account_id}",
                                "Vestibule")
    buf = io.BytesIO()
    qrcode.make(uri, box_size=6, border=2).save(buf, format="PNG")
    qr = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, "console/mfa_new.html", status, who=who, flow=flow, secret=grouped, secret_raw=secret,
                  qr=qr, error=error)


@requires_session
async def mfa_new(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    deps = web_of(request).deps
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    try:
        if not flow_id:
            proof = await reauthenticated(request, who, form, action="EnableMFADevice", action_path="/console/mfa/new")
            if isinstance(proof, Response):
                return proof
            flow = await credentials.begin_enrolment(deps, client_of(request), who.principal, proof)
            return redirect(f"/console/mfa/new?flow={flow.id}")
        await credentials.complete_enrolment(deps, client_of(request), who.principal, flow_id,
                                             field(form, "device_name", 128), field(form, "mfa_code", 16),
                                             field(form, "mfa_code_2", 16))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        if not flow_id:
            return await render_security(request, who, error_text(exc, t), 400)
        return await _enrol_page(request, who, flow_id, error=error_text(exc, t), status=400)
    # the root user's first device: recovery codes, which the security page shows once
    await recovery_codes.issue_for_first_device(deps, client_of(request), who.principal, who.session.id_hash)
    return redirect("/console/security?notice=mfa.added")


@requires_session
async def mfa_new_page(request: Request, who: SignedIn) -> Response:
    t = translator(request)
    try:
        return await _enrol_page(request, who, request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        return render(request, "flow_error.html", 400, error=message_for(exc, t))


@requires_session
async def mfa_remove(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    serial = field(form, "serial", 300)
    confirmed = field(form, "confirm_last", 1) == "1"  # the warning before the last device was shown
    proof = await reauthenticated(request, who, form, action="DeactivateMFADevice", action_path="/console/mfa/remove",
                                  keep={"serial": serial, **({"confirm_last": "1"} if confirmed else {})})
    if isinstance(proof, Response):
        return proof
    try:
        await credentials.remove_device(web_of(request).deps, client_of(request), who.principal, serial, proof,
                                        last_confirmed=confirmed)
    except console_mfa.LastMfaDevice:
        return await last_device_warning(request, who, serial)
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), 400)
    return redirect("/console/security?notice=mfa.removed")


@requires_session
async def end_session(request: Request, who: SignedIn) -> Response:
    """The End button of a session listed on the page (this browser's own is signed out by `/signout`)."""
    form = await form_of(request)
    try:
        await signin_sessions.end_session(web_of(request).deps, client_of(request),
                                          SignedInSession(who.session, who.principal), field(form, "session", 256))
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), status_for(exc, 404))
    return redirect("/console/security?notice=session.ended")


routes = [
    Route("/console/security", security_page, methods=["GET"]),
    Route("/console/sessions/end", end_session, methods=["POST"]),
    Route("/console/password", change_password, methods=["POST"]),
    Route("/console/mfa/new", mfa_new_page, methods=["GET"]),
    Route("/console/mfa/new", mfa_new, methods=["POST"]),
    Route("/console/mfa/remove", mfa_remove, methods=["POST"]),
]
