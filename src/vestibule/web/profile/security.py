"""The personal profile's Security page (`/profile/security`): change password (the password again first, then
the new one), MFA devices (add an authenticator app, rename, remove with the warning before the last one),
trusted devices (revoke), signed-in devices (end one) and "Delete all active sessions" (type the words shown).

Credential changes need the password again (`services/profiles/security.reauthenticate`): a form posted without
a confirmation in the last minutes is answered with the password prompt, which posts the same form again."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from urllib.parse import quote

import qrcode
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core import totp
from ...core.flows import FlowError
from ...errors import (
    CaptchaInvalid,
    CaptchaRequired,
    InvalidCredentials,
    LimitExceeded,
    ReauthenticationRequired,
    TooManyAttempts,
    VestibuleError,
)
from ...services import console_mfa
from ...services.mfa import MAX_DEVICES_PER_PRINCIPAL
from ...services.profiles import security
from ...services.profiles.security import Reauthenticated
from ..i18n import Translator
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .cookies import clear_session, clear_trust, set_session
from .guard import SIGNIN_PATH, ProfileSignedIn, requires_profile
from .home import notice_of

PAGE = "/profile/security"
PASSWORD_PAGE = "/profile/security/password"
MFA_NEW = "/profile/security/mfa/new"
MFA_DEVICE = "/profile/security/mfa/device"
DELETE_ALL = "/profile/security/sessions/delete-all"
_SERIAL_MAX = 300
NOTICES = {name: f"profile_settings.notice_{name}" for name in (
    "password_changed", "mfa_added", "mfa_renamed", "mfa_removed", "trusted_revoked", "session_ended")}
NOTICES.update({name: f"profile_webauthn.notice_{name}" for name in ("key_added", "key_renamed", "key_removed")})


def _reauth_fresh(request: Request, who: ProfileSignedIn) -> bool:
    return security.is_fresh(who.session, client_of(request), web_of(request).deps.clock())


async def render_security(request: Request, who: ProfileSignedIn, error: str = "", status: int = 200) -> Response:
    deps = web_of(request).deps
    return render(request, "profile/security.html", status, me=who, nav="security", error=error,
                  notice="" if error else notice_of(request, NOTICES),
                  devices=await security.mfa_devices(deps, who.profile.id), max_devices=MAX_DEVICES_PER_PRINCIPAL,
                  trusted=await security.trusted_devices(deps, who.profile.id),
                  sessions=await security.signed_in_devices(deps, who.profile.id, who.session),
                  reauthenticated=_reauth_fresh(request, who))


@requires_profile
async def security_page(request: Request, who: ProfileSignedIn) -> Response:
    return await render_security(request, who)


# ---- the password again ----------------------------------------------------------------------------------

async def prompt(request: Request, who: ProfileSignedIn, action_path: str, keep: Mapping[str, str], *,
                 error: str = "", status: int = 403, captcha: bool | None = None, back: str = PAGE) -> Response:
    """The password prompt: posts `keep` (the original form's fields) and the password to `action_path`."""
    web = web_of(request)
    client = client_of(request)
    if captcha is None:
        captcha = (await security.risk(web.deps, who.profile, client)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "profile/security_reauth.html", status, me=who, nav="security", error=error,
                  action_path=action_path, keep=sorted(keep.items()), captcha=captcha, back=back)


async def reauthenticated(request: Request, who: ProfileSignedIn, form: FormData, *, action: str, action_path: str,
                          keep: Mapping[str, str] | None = None, back: str = PAGE) -> Reauthenticated | Response:
    """The proof a credential change needs, or the page to answer with instead (the prompt, with an error after a
    wrong password, a missing CAPTCHA or while throttled)."""
    web = web_of(request)
    kept = dict(keep or {})
    t = translator(request)
    try:
        return await security.reauthenticate(web.deps, client_of(request), who.profile, who.session,
                                             field(form, "password", 1024), web.captcha, field(form, "captcha", 32),
                                             action=action)
    except ReauthenticationRequired:
        return await prompt(request, who, action_path, kept, back=back)
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await prompt(request, who, action_path, kept, error=message_for(exc, t), status=400, captcha=True,
                            back=back)
    except TooManyAttempts as exc:
        return await prompt(request, who, action_path, kept, error=message_for(exc, t), status=status_for(exc),
                            back=back)
    except InvalidCredentials:
        return await prompt(request, who, action_path, kept, error=t("profile_settings.wrong_password"), status=400,
                            back=back)


# ---- change password -------------------------------------------------------------------------------------

@requires_profile
async def password_page(request: Request, who: ProfileSignedIn) -> Response:
    """Step 1, the current password (the prompt); step 2, once it was confirmed, the new one and its confirmation."""
    if not _reauth_fresh(request, who):
        return await prompt(request, who, PASSWORD_PAGE, {}, status=200)
    return render(request, "profile/security_password.html", me=who, nav="security")


@requires_profile
async def password_submit(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    web = web_of(request)
    proof = await reauthenticated(request, who, form, action="ProfilePasswordChanged", action_path=PASSWORD_PAGE)
    if isinstance(proof, Response):
        return proof
    if not field(form, "new_password"):  # step 1 done: the new password's form
        return redirect(PASSWORD_PAGE)
    try:
        renewed = await security.change_password(web.deps, client_of(request), who.profile, who.session, proof,
                                                 field(form, "new_password"), field(form, "confirm_password"))
    except VestibuleError as exc:
        return render(request, "profile/security_password.html", status_for(exc, 400), me=who, nav="security",
                      error=message_for(exc, translator(request)))
    response = redirect(f"{PAGE}?notice=password_changed")
    set_session(request, response, renewed.token, renewed.expires_at)
    clear_trust(request, response)  # its trusted browser row is gone with the others
    return response


# ---- MFA devices -----------------------------------------------------------------------------------------

async def _enrol_page(request: Request, who: ProfileSignedIn, flow_id: str, error: str = "",
                      status: int = 200) -> Response:
    secret = await security.totp_secret(web_of(request).deps, client_of(request), who.profile, flow_id)
    uri = totp.provisioning_uri(secret, who.profile.email, "Vestibule")
    buf = io.BytesIO()
    qrcode.make(uri, box_size=6, border=2).save(buf, format="PNG")
    qr = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, "profile/security_mfa_new.html", status, me=who, nav="security", flow_id=flow_id,
                  secret=grouped, secret_raw=secret, qr=qr, error=error)


@requires_profile
async def mfa_new_page(request: Request, who: ProfileSignedIn) -> Response:
    t = translator(request)
    try:
        return await _enrol_page(request, who, request.query_params.get("flow", ""))
    except (FlowError, VestibuleError) as exc:
        return render(request, "profile/flow_error.html", status_for(exc, 400), error=message_for(exc, t))


@requires_profile
async def mfa_new(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    deps = web_of(request).deps
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    try:
        if not flow_id:
            proof = await reauthenticated(request, who, form, action="ProfileEnableMFADevice", action_path=MFA_NEW)
            if isinstance(proof, Response):
                return proof
            started = await security.begin_totp(deps, client_of(request), who.profile, proof)
            return redirect(f"{MFA_NEW}?flow={started}")
        await security.complete_totp(deps, client_of(request), who.profile, flow_id, field(form, "device_name", 128),
                                     field(form, "mfa_code", 16), field(form, "mfa_code_2", 16))
    except FlowError as exc:
        return render(request, "profile/flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        if not flow_id:
            return await render_security(request, who, _mfa_error(exc, t), status_for(exc, 400))
        return await _enrol_page(request, who, flow_id, error=_mfa_error(exc, t), status=status_for(exc, 400))
    return redirect(f"{PAGE}?notice=mfa_added")


def _mfa_error(exc: Exception, t: Translator) -> str:
    if isinstance(exc, LimitExceeded):
        return t("mfa_devices.limit_reached", max=MAX_DEVICES_PER_PRINCIPAL)
    return message_for(exc, t)


def device_url(serial: str) -> str:
    return f"{MFA_DEVICE}?serial={quote(serial, safe='')}"


async def _device_page(request: Request, who: ProfileSignedIn, serial: str, *, error: str = "", status: int = 200,
                       name: str | None = None) -> Response:
    t = translator(request)
    try:
        device = await security.mfa_device(web_of(request).deps, who.profile.id, serial)
    except VestibuleError as exc:
        return render(request, "profile/flow_error.html", 404, error=message_for(exc, t))
    return render(request, "profile/security_mfa_device.html", status, me=who, nav="security", device=device,
                  error=error, name=device.name if name is None else name)


@requires_profile
async def mfa_device_page(request: Request, who: ProfileSignedIn) -> Response:
    return await _device_page(request, who, request.query_params.get("serial", "")[:_SERIAL_MAX])


@requires_profile
async def mfa_rename(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    serial, name = field(form, "serial", _SERIAL_MAX), field(form, "device_label", 256)
    try:
        await security.rename_device(web_of(request).deps, client_of(request), who.profile.id, serial, name)
    except VestibuleError as exc:
        return await _device_page(request, who, serial, error=message_for(exc, translator(request)),
                                  status=status_for(exc, 400), name=name)
    return redirect(f"{PAGE}?notice=mfa_renamed")


@requires_profile
async def mfa_remove(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    serial = field(form, "serial", _SERIAL_MAX)
    confirmed = field(form, "confirm_last", 1) == "1"  # the warning before the last device was shown
    proof = await reauthenticated(request, who, form, action="ProfileDeactivateMFADevice",
                                  action_path="/profile/security/mfa/remove",
                                  keep={"serial": serial, **({"confirm_last": "1"} if confirmed else {})})
    if isinstance(proof, Response):
        return proof
    deps = web_of(request).deps
    try:
        await security.remove_device(deps, client_of(request), who.profile.id, serial, proof,
                                     last_confirmed=confirmed)
    except console_mfa.LastMfaDevice:
        device = await security.mfa_device(deps, who.profile.id, serial)
        return render(request, "profile/security_mfa_remove_last.html", me=who, nav="security", device=device)
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), status_for(exc, 404))
    return redirect(f"{PAGE}?notice=mfa_removed")


# ---- trusted devices and signed-in devices -----------------------------------------------------------------

@requires_profile
async def trusted_revoke(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    try:
        await security.revoke_trusted(web_of(request).deps, client_of(request), who.profile.id,
                                      field(form, "trusted", 64))
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), 404)
    return redirect(f"{PAGE}?notice=trusted_revoked")


@requires_profile
async def session_end(request: Request, who: ProfileSignedIn) -> Response:
    """The End button of one signed-in device (this browser's own signs it out)."""
    form = await form_of(request)
    public_id = field(form, "session", 64)
    current = any(d.current and d.id == public_id for d in
                  await security.signed_in_devices(web_of(request).deps, who.profile.id, who.session))
    try:
        await security.end_session(web_of(request).deps, client_of(request), who.profile.id, public_id)
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), 404)
    if current:
        response = redirect(f"{SIGNIN_PATH}?signed_out=1")
        clear_session(request, response)
        return response
    return redirect(f"{PAGE}?notice=session_ended")


def _delete_all_page(request: Request, who: ProfileSignedIn, error: str = "", status: int = 200) -> Response:
    return render(request, "profile/security_delete_all.html", status, me=who, nav="security", error=error,
                  words=security.delete_all_words(translator(request).locale))


@requires_profile
async def delete_all_page(request: Request, who: ProfileSignedIn) -> Response:
    return _delete_all_page(request, who)


@requires_profile
async def delete_all_submit(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    try:
        await security.delete_all_sessions(web_of(request).deps, client_of(request), who.profile.id,
                                           field(form, "confirm_words", 64))
    except VestibuleError as exc:
        return _delete_all_page(request, who, message_for(exc, translator(request)), 400)
    response = redirect(f"{SIGNIN_PATH}?signed_out=1")
    clear_session(request, response)
    return response


routes = [
    Route(PAGE, security_page, methods=["GET"]),
    Route(PASSWORD_PAGE, password_page, methods=["GET"]),
    Route(PASSWORD_PAGE, password_submit, methods=["POST"]),
    Route(MFA_NEW, mfa_new_page, methods=["GET"]),
    Route(MFA_NEW, mfa_new, methods=["POST"]),
    Route(MFA_DEVICE, mfa_device_page, methods=["GET"]),
    Route("/profile/security/mfa/rename", mfa_rename, methods=["POST"]),
    Route("/profile/security/mfa/remove", mfa_remove, methods=["POST"]),
    Route("/profile/security/trusted/revoke", trusted_revoke, methods=["POST"]),
    Route("/profile/security/sessions/end", session_end, methods=["POST"]),
    Route(DELETE_ALL, delete_all_page, methods=["GET"]),
    Route(DELETE_ALL, delete_all_submit, methods=["POST"]),
]
