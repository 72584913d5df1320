"""The page of a mailed link (reset or invitation): choose a password, then sign in at the portal."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import VestibuleError
from ...services.identity_center import identity_sources, portal_users
from ...services.identity_center.instances import Instance
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .common import instance_of, not_found, start_path


async def _page(request: Request, token: str, error: str = "", status: int = 200) -> Response:
    opened = await portal_users.open_link(web_of(request).deps, token)
    name = request.path_params["portal"]
    if opened is None:
        return render(request, "portal/password_link.html", 410, portal_name=name, dead=True,
                      error=translator(request)("portal.link_dead"))
    return render(request, "portal/password_link.html", status, portal_name=name, token=token, error=error,
                  username=opened.user.user_name, invitation=opened.flow.payload.invitation)


async def link_page(request: Request) -> Response:
    if await instance_of(request) is None:
        return not_found(request)
    return await _page(request, request.query_params.get("token", ""))


async def link_submit(request: Request) -> Response:
    if await instance_of(request) is None:
        return not_found(request)
    form = await form_of(request)
    token = field(form, "token", 100)
    try:
        done = await portal_users.set_password_from_link(web_of(request).deps, client_of(request), token,
                                                         field(form, "new_password"), field(form, "confirm_password"))
    except VestibuleError as exc:
        return await _page(request, token, message_for(exc, translator(request)), status_for(exc, 400))
    if not done:
        return await _page(request, token)
    return render(request, "portal/password_done.html", portal_name=request.path_params["portal"],
                  start=start_path(request.path_params["portal"]))


routes = [
    Route("/portal/{portal}/password", link_page, methods=["GET"]),
    Route("/portal/{portal}/password", link_submit, methods=["POST"]),
]


async def _forgot_form(request: Request, error: str = "", status: int = 200, username: str = "") -> Response:
    await web_of(request).captcha.issue(client_of(request).browser_hash)
    name = request.path_params["portal"]
    return render(request, "portal/forgot.html", status, portal_name=name, error=error, username=username,
                  action=f"/portal/{name}/forgot")


async def _directory_password(request: Request, instance: Instance) -> Response | None:
    """An LDAP identity source keeps the passwords: the page says who resets them (no mail is sent). A SAML
    identity provider's users have no password here: the federated password help says who resets theirs."""
    kind = await identity_sources.kind_of(web_of(request).deps, instance.arn)
    if kind == identity_sources.SAML:
        return redirect("/help/federated-password")
    if kind != identity_sources.LDAP:
        return None
    return render(request, "portal/forgot_ldap.html", portal_name=request.path_params["portal"])


async def forgot_page(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    return await _directory_password(request, instance) or await _forgot_form(request)


async def forgot_submit(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    form = await form_of(request)
    if (elsewhere := await _directory_password(request, instance)) is not None:
        return elsewhere
    username = field(form, "username", 128)
    web = web_of(request)
    try:
        await portal_users.forgot_password(web.deps, client_of(request), web.captcha, instance, username,
                                           field(form, "captcha", 32))
    except VestibuleError as exc:
        return await _forgot_form(request, message_for(exc, translator(request)), 400, username)
    return render(request, "portal/forgot_sent.html", portal_name=request.path_params["portal"])


forgot_routes = [
    Route("/portal/{portal}/forgot", forgot_page, methods=["GET"]),
    Route("/portal/{portal}/forgot", forgot_submit, methods=["POST"]),
]
