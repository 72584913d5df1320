"""The portal's pages once signed in: Accounts (with roles and their access keys) and Applications."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.pagination import PageRequest
from ...errors import InvalidMarker, PermissionDenied
from ...services.identity_center import portal as portal_view
from ...services.signin.portal import PortalSession
from ..rendering import (
    client_of,
    field,
    form_of,
    previous_session,
    redirect,
    render,
    set_session_cookie,
    translator,
    web_of,
)
from .common import (
    current,
    device_registration_required,
    instance_of,
    not_found,
    session_cookie,
    set_cookie,
    start_path,
)


async def _signed(request: Request, *, device_required: bool = True) -> PortalSession | Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    signed = await current(request, instance)
    if signed is None:
        response = redirect(start_path(request.path_params["portal"]))
        if request.state.cookies.get(session_cookie(request)):
            set_cookie(request, response, session_cookie(request), "", 0)
        return response
    if device_required and await device_registration_required(request, signed):
        # the instance requires a device: a user without one registers it before anything else
        return redirect(f"/portal/{request.path_params['portal']}/mfa?required=1")
    return signed


ACCOUNTS_PAGE = 50  # accounts a page shows; "More accounts" continues after the last one (a signed key)


async def home(request: Request) -> Response:
    signed = await _signed(request)
    if isinstance(signed, Response):
        return signed
    tab = "applications" if request.query_params.get("tab") == "applications" else "accounts"
    accounts, next_after = [], None
    if tab == "accounts":
        after = request.query_params.get("after") or None
        try:
            page = await portal_view.accounts_page(web_of(request).deps, signed.instance, signed.user,
                                                   PageRequest(after, ACCOUNTS_PAGE))
        except InvalidMarker:  # not a link this user's pages made: their first page
            return redirect(f"/portal/{request.path_params['portal']}/?tab=accounts")
        accounts, next_after = page.items, page.next_marker
    apps = (await portal_view.applications_for(web_of(request).deps, signed.instance, signed.user)
            if tab == "applications" else [])
    return render(request, "portal/home.html", portal_name=request.path_params["portal"], portal_user=signed.user,
                  tab=tab, accounts=accounts, applications=apps, next_after=next_after,
                  paged=request.query_params.get("after") is not None)


async def credentials(request: Request) -> Response:
    """Issued by POST (CSRF-checked, never cached, never in a URL)."""
    signed = await _signed(request)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    try:
        creds = await portal_view.role_credentials(web_of(request).deps, client_of(request), signed.instance,
                                                   signed.user, field(form, "account_id", 12),
                                                   field(form, "permission_set_arn", 200))
    except PermissionDenied:
        return render(request, "portal/home.html", 403, portal_name=request.path_params["portal"],
                      portal_user=signed.user, tab="accounts", accounts=[],
                      error=translator(request)("portal.no_such_role"))
    response = render(request, "portal/credentials.html", portal_name=request.path_params["portal"],
                      portal_user=signed.user, creds=creds, profile=f"{creds.account_id}_{creds.role_name}",
                      expires=datetime.fromtimestamp(creds.expires_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    response.headers["cache-control"] = "no-store"
    return response


async def console(request: Request) -> Response:
    """Management console: a console session as the role, then /console."""
    signed = await _signed(request)
    if isinstance(signed, Response):
        return signed
    form = await form_of(request)
    try:
        opened = await portal_view.open_console(
            web_of(request).deps, client_of(request), signed.instance, signed.user, field(form, "account_id", 12),
            field(form, "permission_set_arn", 200), previous_session(request), signed.session.mfa_used)
    except PermissionDenied:
        return render(request, "portal/home.html", 403, portal_name=request.path_params["portal"],
                      portal_user=signed.user, tab="accounts", accounts=[],
                      error=translator(request)("portal.no_such_role"))
    response = redirect("/console")
    set_session_cookie(request, response, opened.session.token,
                       max(1, int(opened.session.expires_at - web_of(request).deps.clock())))
    return response


routes = [
    Route("/portal/{portal}/", home, methods=["GET"]),
    Route("/portal/{portal}/credentials", credentials, methods=["POST"]),
    Route("/portal/{portal}/console", console, methods=["POST"]),
]
