"""One MFA device of the signed-in principal (`services/console_mfa.py`): its page (`/console/mfa/device?serial=`),
rename and resync, and the warning page shown before the last device is removed (`security.mfa_remove` answers
with it)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import InvalidMfaCode, LimitExceeded, NotFound, VestibuleError
from ...services import console_mfa, reauthentication
from ...services.mfa import MAX_DEVICES_PER_PRINCIPAL
from ..guard import SignedIn, requires_session
from ..i18n import Translator
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .reauth import reauthenticated

DEVICE_PATH = "/console/mfa/device"
_SERIAL_MAX = 300


def device_url(serial: str) -> str:
    return f"{DEVICE_PATH}?serial={quote(serial, safe='')}"


def error_text(exc: Exception, t: Translator) -> str:
    """The device limit says what to do about it; wrong resync codes say how to read them."""
    if isinstance(exc, LimitExceeded):
        return t("mfa_devices.limit_reached", max=MAX_DEVICES_PER_PRINCIPAL)
    if isinstance(exc, InvalidMfaCode):
        return t("mfa_devices.resync_failed")
    return message_for(exc, t)


async def _device_page(request: Request, who: SignedIn, serial: str, *, error: str = "", status: int = 200,
                       label: str | None = None, confirmed: bool = False) -> Response:
    """`confirmed`: this request confirmed the password (its session view was loaded before)."""
    deps = web_of(request).deps
    t = translator(request)
    try:
        device = await console_mfa.device_of(deps, who.principal, serial)
    except NotFound as exc:
        return render(request, "flow_error.html", 404, error=message_for(exc, t))
    fresh = confirmed or reauthentication.is_fresh(who.session, client_of(request), deps.clock())
    return render(request, "console/mfa_device.html", status, who=who, device=device, error=error,
                  reauthenticated=fresh, label=device.name if label is None else label)


@requires_session
async def device_page(request: Request, who: SignedIn) -> Response:
    return await _device_page(request, who, request.query_params.get("serial", "")[:_SERIAL_MAX])


@requires_session
async def rename(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    serial = field(form, "serial", _SERIAL_MAX)
    label = field(form, "device_label", 256)
    proof = await reauthenticated(request, who, form, action="RenameMFADevice", action_path="/console/mfa/rename",
                                  keep={"serial": serial, "device_label": label})
    if isinstance(proof, Response):
        return proof
    try:
        await console_mfa.rename(web_of(request).deps, client_of(request), who.principal, serial, label, proof)
    except VestibuleError as exc:
        return await _device_page(request, who, serial, error=error_text(exc, translator(request)),
                                  status=status_for(exc, 400), label=label, confirmed=True)
    return redirect("/console/security?notice=mfa.renamed")


@requires_session
async def resync(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    serial = field(form, "serial", _SERIAL_MAX)
    code1, code2 = field(form, "mfa_code", 16), field(form, "mfa_code_2", 16)
    proof = await reauthenticated(request, who, form, action="ResyncMFADevice", action_path="/console/mfa/resync",
                                  keep={"serial": serial, "mfa_code": code1, "mfa_code_2": code2})
    if isinstance(proof, Response):
        return proof
    try:
        await console_mfa.resync(web_of(request).deps, client_of(request), who.principal, serial, code1, code2,
                                 proof)
    except VestibuleError as exc:
        return await _device_page(request, who, serial, error=error_text(exc, translator(request)),
                                  status=status_for(exc, 400), confirmed=True)
    return redirect("/console/security?notice=mfa.resynced")


async def last_device_warning(request: Request, who: SignedIn, serial: str) -> Response:
    """What removing the last device means for this principal, and the button that removes it anyway."""
    try:
        device = await console_mfa.device_of(web_of(request).deps, who.principal, serial)
    except NotFound as exc:
        return render(request, "flow_error.html", 404, error=message_for(exc, translator(request)))
    return render(request, "console/mfa_remove_last.html", 200, who=who, device=device)


routes = [
    Route(DEVICE_PATH, device_page, methods=["GET"]),
    Route("/console/mfa/rename", rename, methods=["POST"]),
    Route("/console/mfa/resync", resync, methods=["POST"]),
]
