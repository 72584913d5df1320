"""Access keys on the Security credentials page: create (secret shown once), deactivate, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import VestibuleError
from ...services import credentials
from ..guard import SignedIn, requires_session
from ..messages import message_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .reauth import reauthenticated
from .security import render_security


@requires_session
async def create_key(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    proof = await reauthenticated(request, who, form, action="CreateAccessKey", action_path="/console/access-keys/new")
    if isinstance(proof, Response):
        return proof
    try:
        key = await credentials.create_access_key(web_of(request).deps, client_of(request), who.principal, proof)
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), 409)
    return render(request, "console/access_key_created.html", who=who, key=key)


@requires_session
async def update_key(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    web = web_of(request)
    key_id, action = field(form, "access_key_id", 40), field(form, "action", 12)
    proof = await reauthenticated(request, who, form, action="UpdateAccessKey",
                                  action_path="/console/access-keys/update",
                                  keep={"access_key_id": key_id, "action": action})
    if isinstance(proof, Response):
        return proof
    try:
        await credentials.update_access_key(web.deps, client_of(request), who.principal, key_id, action, proof)
    except VestibuleError as exc:
        return await render_security(request, who, message_for(exc, translator(request)), 404)
    web.keys.forget(key_id)
    return redirect("/console/security?notice=keys.updated")


routes = [
    Route("/console/access-keys/new", create_key, methods=["POST"]),
    Route("/console/access-keys/update", update_key, methods=["POST"]),
]
