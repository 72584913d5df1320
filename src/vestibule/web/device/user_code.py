"""`/device`: the user types the code their terminal shows (or follows `verification_uri_complete`, which
carries it as `?user_code=`), and goes on to the confirmation page of that device grant."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.oauth import InvalidGrant, OAuthError
from ...errors import TooManyAttempts
from ...services.identity_center import sso_oidc
from ..oauth_pages import with_retry_after
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .approval import approval_path
from .errors import status_and_message

_TYPED_LIMIT = 32  # ABCD-EFGH with room for spaces; longer input is no code


async def _look_up(request: Request, typed: str) -> Response:
    typed = typed.strip()
    if not typed:
        return render(request, "device/user_code.html", 400, user_code="",
                      error=translator(request)("device.code_required"))
    try:
        pending = await sso_oidc.pending_device(web_of(request).deps, client_of(request), typed)
    except (OAuthError, TooManyAttempts) as exc:
        if isinstance(exc, InvalidGrant):  # unknown, used or malformed: the form says so, as RFC 8628 6.1 asks
            status, message = 400, translator(request)("device.code_invalid")
        else:
            status, message = status_and_message(request, exc)
        return with_retry_after(render(request, "device/user_code.html", status, user_code=typed, error=message), exc)
    return redirect(approval_path(pending.id))


async def code_page(request: Request) -> Response:
    typed = request.query_params.get("user_code", "")[:_TYPED_LIMIT]
    if typed.strip():
        return await _look_up(request, typed)  # the complete verification URI: straight to the confirmation
    return render(request, "device/user_code.html", user_code="")


async def code_submit(request: Request) -> Response:
    form = await form_of(request)
    return await _look_up(request, field(form, "user_code", _TYPED_LIMIT))


routes = [
    Route("/device", code_page, methods=["GET"]),
    Route("/device", code_submit, methods=["POST"]),
]
