"""Recovery of a forgotten root password by an emailed link (IAM users are told to ask their administrator)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core import identifiers as ids
from ...core.flows import FlowError, FlowNotFound
from ...errors import CodeExpired, VestibuleError
from ...services import recovery
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, iam_signin_path, redirect, render, translator, web_of


async def recovery_page(request: Request, error: str = "", status: int = 200, email: str = "") -> Response:
    if request.query_params.get("type") == "iam":
        account = request.query_params.get("account", "")[:80]
        return render(request, "console/recovery_iam.html", account=account,
                      signin_path=iam_signin_path(ids.parse_account_reference(account)) if account.strip() else "/")
    await web_of(request).captcha.issue(client_of(request).browser_hash)
    return render(request, "console/recovery.html", status, error=error, email=email, captcha=True)


async def recovery_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    email = field(form, "email", 300)
    try:
        await recovery.request_reset(web.deps, client_of(request), web.captcha, email, field(form, "captcha", 32))
    except VestibuleError as exc:
        return await recovery_page(request, message_for(exc, translator(request)), 400, email)
    return render(request, "console/recovery_sent.html")


async def reset_page(request: Request) -> Response:
    """The mailed link (`?token=`) is exchanged for a flow bound to this browser and left at once, so the token
    is in this one request's URL only; the page itself lives at `?flow=`."""
    web = web_of(request)
    t = translator(request)
    token = request.query_params.get("token")
    if token is not None:
        flow = await recovery.open_link(web.deps, client_of(request), token[:100])
        if flow is None:
            return render(request, "flow_error.html", 410, error=t("recovery.link_invalid"))
        return redirect(f"/recovery/reset?flow={flow.id}")
    try:
        flow = await recovery.load_reset(web.deps, client_of(request), request.query_params.get("flow", ""))
    except (FlowNotFound, CodeExpired):
        return render(request, "flow_error.html", 410, error=t("recovery.link_invalid"))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    return render(request, "console/recovery_reset.html", flow_id=flow.id)


async def reset_submit(request: Request) -> Response:
    form = await form_of(request)
    flow_id = request.query_params.get("flow", "")
    t = translator(request)
    try:
        await recovery.reset_password(web_of(request).deps, client_of(request), flow_id,
                                      field(form, "new_password"), field(form, "confirm_password"))
    except (FlowNotFound, CodeExpired):
        return render(request, "flow_error.html", 410, error=t("recovery.link_invalid"))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        return render(request, "console/recovery_reset.html", 400, flow_id=flow_id, error=message_for(exc, t))
    return render(request, "console/recovery_done.html")


routes = [
    Route("/recovery", recovery_page, methods=["GET"]),
    Route("/recovery", recovery_submit, methods=["POST"]),
    Route("/recovery/reset", reset_page, methods=["GET"]),
    Route("/recovery/reset", reset_submit, methods=["POST"]),
]
