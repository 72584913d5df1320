"""Recovery of a forgotten root password by an emailed link (IAM users are told to ask their administrator)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import CodeExpired, VestibuleError
from ...services import recovery
from ..messages import message_for
from ..rendering import client_of, field, form_of, render, translator, web_of


async def recovery_page(request: Request, error: str = "", status: int = 200, email: str = "") -> Response:
    if request.query_params.get("type") == "iam":
        return render(request, "console/recovery_iam.html", account=request.query_params.get("account", ""))
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
    token = request.query_params.get("token", "")
    if not await recovery.check_link(web_of(request).deps, token):
        return render(request, "flow_error.html", 410, error=translator(request)("recovery.link_invalid"))
    return render(request, "console/recovery_reset.html", token=token)


async def reset_submit(request: Request) -> Response:
    form = await form_of(request)
    token = field(form, "token", 100)
    t = translator(request)
    try:
        await recovery.reset_password(web_of(request).deps, client_of(request), token, field(form, "new_password"),
                                      field(form, "confirm_password"))
    except CodeExpired:
        return render(request, "flow_error.html", 410, error=t("recovery.link_invalid"))
    except VestibuleError as exc:
        return render(request, "console/recovery_reset.html", 400, token=token, error=message_for(exc, t))
    return render(request, "console/recovery_done.html")


routes = [
    Route("/recovery", recovery_page, methods=["GET"]),
    Route("/recovery", recovery_submit, methods=["POST"]),
    Route("/recovery/reset", reset_page, methods=["GET"]),
    Route("/recovery/reset", reset_submit, methods=["POST"]),
]
