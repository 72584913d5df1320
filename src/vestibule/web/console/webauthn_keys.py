"""The signed-in user's passkeys and security keys (`services/console_webauthn.py`): adding one (the page whose
script asks the browser, `web/static/webauthn.js`), its page (rename), and removal with the warning before the
last factor. Every change asks for the password again (`reauth`), as TOTP devices do."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.webauthn import CredentialKind, kind_of
from ...errors import NotFound, VestibuleError
from ...services import console_mfa, console_webauthn, reauthentication, webauthn
from ...services.reauthentication import Reauthenticated
from ..guard import SignedIn, requires_session
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .mfa_devices import error_text
from .reauth import reauthenticated

KEY_PATH = "/console/webauthn/key"
_ID_MAX = 1400
_RESPONSE_MAX = 65536


async def _new_page(request: Request, who: SignedIn, kind: CredentialKind, proof: Reauthenticated, *,
                    error: str = "", status: int = 200, name: str = "") -> Response:
    """A fresh ceremony (options and the flow keeping their challenge) on every showing."""
    t = translator(request)
    try:
        ceremony = await console_webauthn.begin(web_of(request).deps, client_of(request), who.principal, kind, proof)
    except VestibuleError as exc:
        return render(request, "flow_error.html", status_for(exc, 400), error=error_text(exc, t))
    return render(request, "console/webauthn_new.html", status, who=who, kind=kind.value, flow_id=ceremony.flow_id,
                  options=ceremony.options, error=error, name=name)


@requires_session
async def new(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    kind = kind_of(field(form, "kind", 16))
    if kind is None:
        return render(request, "flow_error.html", 400, error=translator(request)("flow.out_of_order"))
    proof = await reauthenticated(request, who, form, action="EnableMFADevice", action_path="/console/webauthn/new",
                                  keep={"kind": kind.value})
    if isinstance(proof, Response):
        return proof
    return await _new_page(request, who, kind, proof)


@requires_session
async def register(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    flow_id, name = field(form, "flow", 64), field(form, "key_name", 256)
    response, kind = field(form, "webauthn_response", _RESPONSE_MAX), kind_of(field(form, "kind", 16))
    proof = await reauthenticated(request, who, form, action="EnableMFADevice",
                                  action_path="/console/webauthn/register",
                                  keep={"flow": flow_id, "key_name": name, "webauthn_response": response,
                                        "kind": kind.value if kind else ""})
    if isinstance(proof, Response):
        return proof
    deps, t = web_of(request).deps, translator(request)
    try:
        await console_webauthn.finish(deps, client_of(request), who.principal, flow_id, response, name, proof)
    except (VestibuleError, FlowError) as exc:
        text = message_for(exc, t) if isinstance(exc, FlowError) else error_text(exc, t)
        return await _new_page(request, who, kind or CredentialKind.SECURITY_KEY, proof, error=text,
                               status=status_for(exc, 400), name=name)
    from ...services import recovery_codes  # the root user's first factor: recovery codes, shown once

    await recovery_codes.issue_for_first_device(deps, client_of(request), who.principal, who.session.id_hash)
    return redirect("/console/security?notice=webauthn.added")


async def _key_page(request: Request, who: SignedIn, credential_id: str, *, error: str = "", status: int = 200,
                    name: str | None = None, confirmed: bool = False) -> Response:
    deps = web_of(request).deps
    try:
        key = await webauthn.credential_of(deps, who.principal.key, credential_id)
    except NotFound as exc:
        return render(request, "flow_error.html", 404, error=message_for(exc, translator(request)))
    fresh = confirmed or reauthentication.is_fresh(who.session, client_of(request), deps.clock())
    return render(request, "console/webauthn_key.html", status, who=who, key=key, error=error,
                  reauthenticated=fresh, name=key.name if name is None else name)


@requires_session
async def key_page(request: Request, who: SignedIn) -> Response:
    return await _key_page(request, who, request.query_params.get("id", "")[:_ID_MAX])


@requires_session
async def rename(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    credential_id, name = field(form, "credential", _ID_MAX), field(form, "key_name", 256)
    proof = await reauthenticated(request, who, form, action="RenameMFADevice", action_path="/console/webauthn/rename",
                                  keep={"credential": credential_id, "key_name": name})
    if isinstance(proof, Response):
        return proof
    try:
        await console_webauthn.rename(web_of(request).deps, client_of(request), who.principal, credential_id, name,
                                      proof)
    except VestibuleError as exc:
        return await _key_page(request, who, credential_id, error=error_text(exc, translator(request)),
                               status=status_for(exc, 400), name=name, confirmed=True)
    return redirect("/console/security?notice=webauthn.renamed")


@requires_session
async def remove(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    credential_id = field(form, "credential", _ID_MAX)
    confirmed = field(form, "confirm_last", 1) == "1"
    proof = await reauthenticated(request, who, form, action="DeactivateMFADevice",
                                  action_path="/console/webauthn/remove",
                                  keep={"credential": credential_id, **({"confirm_last": "1"} if confirmed else {})})
    if isinstance(proof, Response):
        return proof
    deps, t = web_of(request).deps, translator(request)
    try:
        await console_webauthn.remove(deps, client_of(request), who.principal, credential_id, proof,
                                      last_confirmed=confirmed)
    except console_mfa.LastMfaDevice:
        key = await webauthn.credential_of(deps, who.principal.key, credential_id)
        return render(request, "console/webauthn_remove_last.html", 200, who=who, key=key)
    except VestibuleError as exc:
        return render(request, "flow_error.html", status_for(exc, 404), error=message_for(exc, t))
    return redirect("/console/security?notice=webauthn.removed")


routes = [
    Route("/console/webauthn/new", new, methods=["POST"]),
    Route("/console/webauthn/register", register, methods=["POST"]),
    Route(KEY_PATH, key_page, methods=["GET"]),
    Route("/console/webauthn/rename", rename, methods=["POST"]),
    Route("/console/webauthn/remove", remove, methods=["POST"]),
]
