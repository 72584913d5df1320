"""A personal profile's forgotten password: `/profile/recover` (the address; the same answer whether or not a
profile has it), then the mailed link `/profile/recover/reset?token=`, exchanged at once for a page bound to this
browser (`?flow=`), where the new password is set."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError, FlowNotFound
from ...errors import CodeExpired, VestibuleError
from ...services.profiles import recovery
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of

RESET = "/profile/recover/reset"


def _link_invalid(request: Request) -> Response:
    return render(request, "profile/recovery_invalid.html", 410,
                  error=translator(request)("profile_privacy.recover_link_invalid"))


async def recover_page(request: Request) -> Response:
    return render(request, "profile/recovery.html", email=request.query_params.get("email", "")[:254])


async def recover_submit(request: Request) -> Response:
    form = await form_of(request)
    email = field(form, "email", 300)
    try:
        await recovery.request_link(web_of(request).deps, client_of(request), email)
    except VestibuleError as exc:
        return render(request, "profile/recovery.html", status_for(exc, 400), email=email,
                      error=message_for(exc, translator(request)))
    return render(request, "profile/recovery_sent.html")


async def reset_page(request: Request) -> Response:
    web = web_of(request)
    token = request.query_params.get("token")
    if token is not None:
        page = await recovery.open_link(web.deps, client_of(request), token[:100])
        return _link_invalid(request) if page is None else redirect(f"{RESET}?flow={page.id}")
    try:
        opened = await recovery.load_page(web.deps, client_of(request), request.query_params.get("flow", ""))
    except (FlowNotFound, CodeExpired):
        return _link_invalid(request)
    except FlowError as exc:
        return render(request, "profile/recovery_invalid.html", status_for(exc),
                      error=message_for(exc, translator(request)))
    return render(request, "profile/recovery_reset.html", flow_id=opened.flow.id, email=opened.email)


async def reset_submit(request: Request) -> Response:
    form = await form_of(request)
    web = web_of(request)
    flow_id = request.query_params.get("flow", "")
    t = translator(request)
    try:
        await recovery.reset_password(web.deps, client_of(request), flow_id, field(form, "new_password"),
                                      field(form, "confirm_password"))
    except (FlowNotFound, CodeExpired):
        return _link_invalid(request)
    except FlowError as exc:
        return render(request, "profile/recovery_invalid.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        try:
            opened = await recovery.load_page(web.deps, client_of(request), flow_id)
        except (FlowError, CodeExpired):
            return _link_invalid(request)
        return render(request, "profile/recovery_reset.html", 400, flow_id=flow_id, email=opened.email,
                      error=message_for(exc, t))
    return render(request, "profile/recovery_done.html")


routes = [
    Route("/profile/recover", recover_page, methods=["GET"]),
    Route("/profile/recover", recover_submit, methods=["POST"]),
    Route(RESET, reset_page, methods=["GET"]),
    Route(RESET, reset_submit, methods=["POST"]),
]
