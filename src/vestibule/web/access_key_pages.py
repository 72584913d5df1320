"""Access keys on the console's Security credentials page: create (secret shown once), deactivate, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import VestibuleError
from ..services import access_keys
from .console_pages import _require, security_page
from .messages import message_for
from .rendering import client_of, field, form_of, redirect, render, translator, web_of


async def create_key(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    await form_of(request)
    web = web_of(request)
    try:
        async with web.deps.store.unit() as uow:
            key = await access_keys.create(web.deps, uow, who.account.id, who.principal.key,
                                           client=client_of(request), actor=who.principal.arn, via="console")
    except VestibuleError as exc:
        return await security_page(request, error=message_for(exc, translator(request)), status=409)
    return render(request, "access_key_created.html", who=who, key=key)


async def update_key(request: Request) -> Response:
    who = await _require(request)
    if isinstance(who, Response):
        return who
    form = await form_of(request)
    web = web_of(request)
    key_id, action = field(form, "access_key_id", 40), field(form, "action", 12)
    try:
        async with web.deps.store.unit() as uow:
            if action == "delete":
                await access_keys.delete(web.deps, uow, key_id, who.principal.key, client=client_of(request),
                                         actor=who.principal.arn)
            else:
                await access_keys.set_status(web.deps, uow, key_id, who.principal.key,
                                             "Active" if action == "activate" else "Inactive",
                                             client=client_of(request), actor=who.principal.arn)
    except VestibuleError as exc:
        return await security_page(request, error=message_for(exc, translator(request)), status=404)
    web.keys.forget(key_id)
    return redirect("/console/security?notice=keys.updated")


routes = [
    Route("/console/access-keys/new", create_key, methods=["POST"]),
    Route("/console/access-keys/update", update_key, methods=["POST"]),
]
