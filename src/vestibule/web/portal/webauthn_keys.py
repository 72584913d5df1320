"""The signed-in portal user's passkeys and security keys (`services/portal_webauthn.py`): adding one (the page whose
script asks the browser, `web/static/webauthn.js`; like a TOTP device, it needs a sign-in in the last 5 minutes),
its page (rename, remove), and removal with the password again and the warning before the last factor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.webauthn import CredentialKind, kind_of
from ...errors import InvalidCredentials, NotFound, ReauthenticationRequired, VestibuleError
from ...services import portal_webauthn
from ...services.signin.portal import PortalSession
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .common import forget_return, return_path
from .home import _signed
from .mfa import REAUTH_SECONDS

_ID_MAX = 1400
_RESPONSE_MAX = 65536


def _base(request: Request) -> str:
    return f"/portal/{request.path_params['portal']}/mfa"


def _fresh(request: Request, signed: PortalSession) -> bool:
    return web_of(request).deps.clock() - signed.session.created_at < REAUTH_SECONDS


def _error(request: Request, exc: Exception, status: int) -> Response:
    return render(request, "portal/flow_error.html", status, portal_name=request.path_params["portal"],
                  error=message_for(exc, translator(request)))


async def _new_page(request: Request, signed: PortalSession, kind: CredentialKind, *, error: str = "",
                    status: int = 200, name: str = "") -> Response:
    """A fresh ceremony (options and the flow keeping their challenge) on every showing."""
    try:
        ceremony = await portal_webauthn.begin(web_of(request).deps, client_of(request), signed, kind)
    except VestibuleError as exc:
        return _error(request, exc, status_for(exc, 400))
    return render(request, "portal/webauthn_new.html", status, portal_name=request.path_params["portal"],
                  portal_user=signed.user, kind=kind.value, flow_id=ceremony.flow_id, options=ceremony.options,
                  error=error, name=name)


async def new(request: Request) -> Response:
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    kind = portal_webauthn.kind_for_portal(kind_of(field(form, "kind", 16)))
    if kind is None:
        return render(request, "portal/flow_error.html", 400, portal_name=request.path_params["portal"],
                      error=translator(request)("flow.out_of_order"))
    if not _fresh(request, signed):
        return redirect(_base(request))
    return await _new_page(request, signed, kind)


async def register(request: Request) -> Response:
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    flow_id, name = field(form, "flow", 64), field(form, "key_name", 256)
    response = field(form, "webauthn_response", _RESPONSE_MAX)
    kind = portal_webauthn.kind_for_portal(kind_of(field(form, "kind", 16))) or CredentialKind.SECURITY_KEY
    try:
        await portal_webauthn.finish(web_of(request).deps, client_of(request), signed, flow_id, response, name)
    except (VestibuleError, FlowError) as exc:
        if not _fresh(request, signed):
            return _error(request, exc, status_for(exc, 400))
        return await _new_page(request, signed, kind, error=message_for(exc, translator(request)),
                               status=status_for(exc, 400), name=name)
    done = redirect(return_path(request) or f"{_base(request)}?notice=webauthn_added")  # a required device: back
    forget_return(request, done)
    return done


async def _key_page(request: Request, signed: PortalSession, credential_id: str, *, error: str = "",
                    status: int = 200, name: str | None = None) -> Response:
    try:
        key = await portal_webauthn.key_of(web_of(request).deps, signed, credential_id)
    except NotFound as exc:
        return _error(request, exc, 404)
    return render(request, "portal/webauthn_key.html", status, portal_name=request.path_params["portal"],
                  portal_user=signed.user, key=key, error=error, name=key.name if name is None else name)


async def key_page(request: Request) -> Response:
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    return await _key_page(request, signed, request.query_params.get("id", "")[:_ID_MAX])


async def rename(request: Request) -> Response:
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    credential_id, name = field(form, "credential", _ID_MAX), field(form, "key_name", 256)
    try:
        await portal_webauthn.rename(web_of(request).deps, client_of(request), signed, credential_id, name)
    except VestibuleError as exc:
        return await _key_page(request, signed, credential_id, error=message_for(exc, translator(request)),
                               status=status_for(exc, 400), name=name)
    return redirect(f"{_base(request)}?notice=webauthn_renamed")


async def remove(request: Request) -> Response:
    """The password again (or a confirmation in this browser in the last few minutes), then the warning when it
    is the last factor."""
    signed = await _signed(request, device_required=False)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    web, client, t = web_of(request), client_of(request), translator(request)
    credential_id = field(form, "credential", _ID_MAX)
    confirmed = field(form, "confirm_last", 1) == "1"
    try:
        proof = await portal_webauthn.confirm_password(web.deps, client, web.captcha, signed, field(form, "password"),
                                                       action="DeactivateMFADevice")
        await portal_webauthn.remove(web.deps, client, signed, credential_id, proof, last_confirmed=confirmed)
    except portal_webauthn.LastMfaDevice:
        key = await portal_webauthn.key_of(web.deps, signed, credential_id)
        return render(request, "portal/webauthn_remove_last.html", 200, portal_name=request.path_params["portal"],
                      portal_user=signed.user, key=key)
    except (InvalidCredentials, ReauthenticationRequired) as exc:
        error = t("portal_webauthn.password_wrong") if isinstance(exc, InvalidCredentials) else message_for(exc, t)
        return await _key_page(request, signed, credential_id, error=error, status=400)
    except NotFound as exc:
        return _error(request, exc, 404)
    except VestibuleError as exc:
        return await _key_page(request, signed, credential_id, error=message_for(exc, t),
                               status=status_for(exc, 400))
    return redirect(f"{_base(request)}?notice=webauthn_removed")


routes = [
    Route("/portal/{portal}/mfa/webauthn/new", new, methods=["POST"]),
    Route("/portal/{portal}/mfa/webauthn/register", register, methods=["POST"]),
    Route("/portal/{portal}/mfa/webauthn/key", key_page, methods=["GET"]),
    Route("/portal/{portal}/mfa/webauthn/rename", rename, methods=["POST"]),
    Route("/portal/{portal}/mfa/webauthn/remove", remove, methods=["POST"]),
]
