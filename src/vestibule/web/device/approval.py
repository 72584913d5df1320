"""The confirmation page of a pending grant (`/device/confirm?flow=<id>`): which client asks, for which scopes,
from which address and when, and Allow or Deny, by a user signed in to the grant's access portal (through the
portal's own sign-in and MFA rules, which send the browser back here). A device grant ends on a result page
("return to your terminal"); a code grant goes back to its loopback redirect URI with the code or the error."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.oauth import InvalidRedirectUri, OAuthError
from ...errors import VestibuleError
from ...services.identity_center import sso_oidc
from ...services.identity_center.sso_oidc import PendingApproval
from ...services.signin import portal
from ...services.signin.portal import PortalNotFound, PortalSession
from ..oauth_pages import to_listener
from ..portal.common import device_registration_required, remember_return, session_token, start_path
from ..rendering import client_of, field, form_of, redirect, render, web_of
from .errors import error_page


def approval_path(approval_id: str) -> str:
    return f"/device/confirm?flow={quote(approval_id, safe='')}"


async def _signed_for(request: Request, pending: PendingApproval) -> PortalSession | Response:
    """The live session of the grant's portal in this browser; otherwise the way there (portal sign-in, or the
    MFA device the portal requires), which returns to this page."""
    deps = web_of(request).deps
    try:
        instance = await portal.portal(deps, pending.portal_name)
    except PortalNotFound as exc:
        return error_page(request, exc)
    signed = await portal.signed_in(deps, session_token(request), instance)
    if signed is not None and not await device_registration_required(request, signed):
        return signed
    where = (start_path(pending.portal_name) if signed is None
             else f"/portal/{quote(pending.portal_name, safe='')}/mfa?required=1")
    response = redirect(where)
    remember_return(request, response, approval_path(pending.id))
    return response


async def confirm_page(request: Request) -> Response:
    approval_id = request.query_params.get("flow", "")[:256]
    try:
        pending = await sso_oidc.approval(web_of(request).deps, approval_id)
    except (OAuthError, VestibuleError) as exc:
        return error_page(request, exc)
    signed = await _signed_for(request, pending)
    if isinstance(signed, Response):
        return signed
    return render(request, "device/confirm.html", pending=pending, portal_user=signed.user,
                  action=approval_path(pending.id))


async def decide(request: Request) -> Response:
    form = await form_of(request)
    deps = web_of(request).deps
    choice = field(form, "decision", 8)
    if choice not in ("allow", "deny"):
        return error_page(request, OAuthError("no decision"))
    try:
        pending = await sso_oidc.approval(deps, request.query_params.get("flow", "")[:256])
        signed = await _signed_for(request, pending)
        if isinstance(signed, Response):
            return signed
        decision = await sso_oidc.decide(deps, client_of(request), signed, pending.id, choice == "allow")
    except (OAuthError, VestibuleError) as exc:
        return error_page(request, exc)
    if decision.redirect_to is None:
        return render(request, "device/result.html", allowed=decision.allowed, pending=pending,
                      portal_user=signed.user)
    going_on = to_listener(request, "device/redirect.html", decision.redirect_to, allowed=decision.allowed,
                           pending=pending, portal_user=signed.user)
    return going_on if going_on is not None else error_page(request, InvalidRedirectUri("not a loopback address"))


routes = [
    Route("/device/confirm", confirm_page, methods=["GET"]),
    Route("/device/confirm", decide, methods=["POST"]),
]
