"""Passkeys and security keys of a personal profile (`services/profiles/passkeys.py`): "Sign in with a passkey"
(`/profile/passkey`), and on Security adding one (the password again, a name, the browser's answer through
`web/static/webauthn.js`), its page (rename) and its removal (the password again, the last-factor warning)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.webauthn import CredentialKind, kind_of
from ...errors import CaptchaInvalid, CaptchaRequired, LimitExceeded, NotFound, TooManyAttempts, VestibuleError
from ...services import console_mfa
from ...services.mfa import MAX_DEVICES_PER_PRINCIPAL
from ...services.profiles import passkeys
from ...services.profiles.security import Reauthenticated
from ..i18n import Translator
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .cookies import forget_return, return_path, session_token, set_session
from .guard import ProfileSignedIn, requires_profile
from .home import HOME
from .security import PAGE, reauthenticated

PASSKEY_PATH = "/profile/passkey"
KEY_PATH = "/profile/security/passkey"
NEW_PATH = "/profile/security/passkey/new"
REGISTER_PATH = "/profile/security/passkey/register"
RENAME_PATH = "/profile/security/passkey/rename"
REMOVE_PATH = "/profile/security/passkey/remove"
NOTICES = {name: f"profile_webauthn.notice_{name}" for name in ("key_added", "key_renamed", "key_removed")}
_ID_MAX = 1400
_RESPONSE_MAX = 65536


def key_url(credential_id: str) -> str:
    return f"{KEY_PATH}?id={quote(credential_id, safe='')}"


def _flow_error(request: Request, exc: FlowError) -> Response:
    return render(request, "profile/flow_error.html", status_for(exc), error=message_for(exc, translator(request)))


# ---- "Sign in with a passkey" ----------------------------------------------------------------------------

async def passkey_start(request: Request) -> Response:
    await form_of(request)
    flow = await passkeys.begin_passkey(web_of(request).deps, client_of(request))
    return redirect(f"{PASSKEY_PATH}?flow={flow.id}")


async def passkey_page(request: Request, error: str = "", status: int = 200, captcha: bool | None = None) -> Response:
    """The flow's pending challenge (a new one when none is pending); a CAPTCHA while the client is risky."""
    web, client = web_of(request), client_of(request)
    try:
        flow = await passkeys.load_passkey(web.deps, client, request.query_params.get("flow", ""))
        options = await passkeys.passkey_options(web.deps, flow)
    except FlowError as exc:
        return _flow_error(request, exc)
    if options is None:  # another request changed the flow: show it again
        return redirect(f"{PASSKEY_PATH}?flow={flow.id}")
    if captcha is None:
        captcha = await passkeys.captcha_needed(web.deps, client)
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "profile/signin_passkey.html", status, flow=flow, options=options, error=error,
                  captcha=captcha)


async def passkey_submit(request: Request) -> Response:
    web, client = web_of(request), client_of(request)
    form = await form_of(request)
    t = translator(request)
    try:
        done = await passkeys.submit_passkey(web.deps, client, web.captcha, request.query_params.get("flow", ""),
                                             field(form, "webauthn_response", _RESPONSE_MAX),
                                             captcha_answer=field(form, "captcha", 32),
                                             previous_session=session_token(request))
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await passkey_page(request, message_for(exc, t), 400, captcha=True)
    except FlowError as exc:
        return _flow_error(request, exc)
    except TooManyAttempts as exc:
        return await passkey_page(request, message_for(exc, t), 429)
    except VestibuleError as exc:
        return await passkey_page(request, message_for(exc, t), status_for(exc, 400))
    response = redirect(return_path(request) or f"{HOME}?notice=signed_in")  # a page waiting for the sign-in
    forget_return(request, response)
    session = done.signed_in.session
    set_session(request, response, session.token, session.expires_at)
    return response


# ---- Security: add, rename, remove -----------------------------------------------------------------------

def _error_text(exc: Exception, t: Translator) -> str:
    if isinstance(exc, LimitExceeded):
        return t("mfa_devices.limit_reached", max=MAX_DEVICES_PER_PRINCIPAL)
    return message_for(exc, t)


async def _new_page(request: Request, who: ProfileSignedIn, kind: CredentialKind, proof: Reauthenticated, *,
                    error: str = "", status: int = 200, name: str = "") -> Response:
    """A fresh ceremony (options and the registration flow keeping their challenge) on every showing."""
    try:
        ceremony = await passkeys.begin_registration(web_of(request).deps, client_of(request), who.profile, kind,
                                                     proof)
    except VestibuleError as exc:
        return render(request, "profile/flow_error.html", status_for(exc, 400),
                      error=_error_text(exc, translator(request)))
    return render(request, "profile/security_webauthn_new.html", status, me=who, nav="security", kind=kind.value,
                  flow_id=ceremony.flow_id, options=ceremony.options, error=error, name=name)


def _kind(value: str) -> CredentialKind | None:
    return passkeys.kind_for_profile(kind_of(value))


@requires_profile
async def new(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    kind = _kind(field(form, "kind", 16))
    if kind is None:
        return render(request, "profile/flow_error.html", 400, error=translator(request)("flow.out_of_order"))
    proof = await reauthenticated(request, who, form, action="RegisterWebAuthnCredential", action_path=NEW_PATH,
                                  keep={"kind": kind.value})
    if isinstance(proof, Response):
        return proof
    return await _new_page(request, who, kind, proof)


@requires_profile
async def register(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    flow_id, name = field(form, "flow", 64), field(form, "key_name", 256)
    response, kind = field(form, "webauthn_response", _RESPONSE_MAX), _kind(field(form, "kind", 16))
    proof = await reauthenticated(request, who, form, action="RegisterWebAuthnCredential", action_path=REGISTER_PATH,
                                  keep={"flow": flow_id, "key_name": name, "webauthn_response": response,
                                        "kind": kind.value if kind else ""})
    if isinstance(proof, Response):
        return proof
    t = translator(request)
    try:
        await passkeys.finish_registration(web_of(request).deps, client_of(request), who.profile, flow_id, response,
                                           name, proof)
    except (VestibuleError, FlowError) as exc:
        return await _new_page(request, who, kind or CredentialKind.PASSKEY, proof, error=_error_text(exc, t),
                               status=status_for(exc, 400), name=name)
    return redirect(f"{PAGE}?notice=key_added")


async def _key_page(request: Request, who: ProfileSignedIn, credential_id: str, *, error: str = "",
                    status: int = 200, name: str | None = None) -> Response:
    try:
        key = await passkeys.key_of(web_of(request).deps, who.profile, credential_id)
    except NotFound:
        return render(request, "profile/flow_error.html", 404, error=translator(request)("profile_webauthn.not_found"))
    return render(request, "profile/security_webauthn_key.html", status, me=who, nav="security", key=key, error=error,
                  name=key.name if name is None else name)


@requires_profile
async def key_page(request: Request, who: ProfileSignedIn) -> Response:
    return await _key_page(request, who, request.query_params.get("id", "")[:_ID_MAX])


@requires_profile
async def rename(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    credential_id, name = field(form, "credential", _ID_MAX), field(form, "key_name", 256)
    try:
        await passkeys.rename(web_of(request).deps, client_of(request), who.profile, credential_id, name)
    except NotFound:
        return render(request, "profile/flow_error.html", 404, error=translator(request)("profile_webauthn.not_found"))
    except VestibuleError as exc:
        return await _key_page(request, who, credential_id, error=_error_text(exc, translator(request)),
                               status=status_for(exc, 400), name=name)
    return redirect(f"{PAGE}?notice=key_renamed")


@requires_profile
async def remove(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    credential_id = field(form, "credential", _ID_MAX)
    confirmed = field(form, "confirm_last", 1) == "1"  # the warning before the last factor was shown
    proof = await reauthenticated(request, who, form, action="DeactivateMFADevice", action_path=REMOVE_PATH,
                                  keep={"credential": credential_id, **({"confirm_last": "1"} if confirmed else {})})
    if isinstance(proof, Response):
        return proof
    deps = web_of(request).deps
    try:
        await passkeys.remove(deps, client_of(request), who.profile, credential_id, proof, last_confirmed=confirmed)
    except console_mfa.LastMfaDevice:
        key = await passkeys.key_of(deps, who.profile, credential_id)
        return render(request, "profile/security_webauthn_remove_last.html", me=who, nav="security", key=key)
    except VestibuleError:
        return render(request, "profile/flow_error.html", 404, error=translator(request)("profile_webauthn.not_found"))
    return redirect(f"{PAGE}?notice=key_removed")


routes = [
    Route(PASSKEY_PATH, passkey_start, methods=["POST"]),
    Route(PASSKEY_PATH, passkey_page, methods=["GET"]),
    Route(f"{PASSKEY_PATH}/answer", passkey_submit, methods=["POST"]),
    Route(NEW_PATH, new, methods=["POST"]),
    Route(REGISTER_PATH, register, methods=["POST"]),
    Route(KEY_PATH, key_page, methods=["GET"]),
    Route(RENAME_PATH, rename, methods=["POST"]),
    Route(REMOVE_PATH, remove, methods=["POST"]),
]
