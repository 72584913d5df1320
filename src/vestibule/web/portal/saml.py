"""The portal's SAML service provider, for an instance whose identity source is an external SAML IdP
(services/identity_center/portal_saml.py): the start page's redirect to the IdP, the assertion consumer the IdP
posts to (`POST /portal/<portal>/saml`, no CSRF token: the IdP's page posts it, from the IdP's origin) and the SP
metadata (`GET /portal/<portal>/saml/metadata`)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...core.federation_failures import Cause, FederationFailure
from ...services.federation.failures import record_failure
from ...services.federation.saml import count_failure, failure_wait
from ...services.identity_center import portal_saml
from ...services.identity_center.instances import Instance
from ..federation.failure import failure_response
from ..federation.saml import throttled
from ..i18n import LOCALES
from ..rendering import client_of, redirect, render, rotate_browser_id, web_of
from ..security import issued_browser_id
from .common import instance_of, not_found, session_cookie, session_token, set_cookie, start_path

_NO_STORE = {"cache-control": "no-store"}


async def sign_in_elsewhere(request: Request, instance: Instance) -> Response | None:
    """For a portal whose users sign in at a SAML IdP: the redirect there (after a sign-out, a page that says so
    first, or the IdP would sign the user straight back in); None for any other portal."""
    source = await portal_saml.source_of(web_of(request).deps, instance)
    if source is None:
        return None
    name = request.path_params["portal"]
    if request.method == "GET" and request.query_params.get("signed_out") == "1":
        return render(request, "portal/saml_signed_out.html", portal_name=name)
    try:
        url = await portal_saml.begin(web_of(request).deps, client_of(request), instance, source)
    except FederationFailure as failure:
        return await _failed(request, instance, failure)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


async def metadata_page(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    deps = web_of(request).deps
    body = portal_saml.metadata(deps, instance, await portal_saml.source_of(deps, instance))
    return Response(body, media_type="application/samlmetadata+xml", headers=_NO_STORE)


async def _failed(request: Request, instance: Instance, failure: FederationFailure) -> Response:
    deps = web_of(request).deps
    wait = await count_failure(deps, client_of(request))
    if wait:
        return throttled(request, wait)
    source = await portal_saml.source_of(deps, instance)
    reference = await record_failure(deps, client_of(request), failure, door=portal_saml.DOOR,
                                     account_id=instance.owner_account_id,
                                     provider=source.entity_id if source is not None else "",
                                     principal=failure.admin.get("email", ""))
    return failure_response(request, failure, reference, start_over=start_path(request.path_params["portal"]))


def _browser_cookie_sent(request: Request) -> bool:
    """Whether this request carried the browser cookie this site issued (a cross-site POST does not:
    SameSite=Lax)."""
    web = web_of(request)
    return issued_browser_id(web.csrf_key, request.state.cookies.get(web.names.browser, "")) is not None


async def assertion_consumer(request: Request) -> Response:
    instance = await instance_of(request)
    if instance is None:
        return not_found(request)
    wait = await failure_wait(web_of(request).deps, client_of(request))
    if wait:
        return throttled(request, wait)
    form = await request.form(max_files=0, max_fields=10, max_part_size=64 * 1024)
    saml_response, relay_state = form.get("SAMLResponse", ""), form.get("RelayState", "")
    if not isinstance(saml_response, str) or not isinstance(relay_state, str):
        return await _failed(request, instance, FederationFailure(Cause.MALFORMED, "SAMLResponse is not a field"))
    try:
        signed = await portal_saml.accept(web_of(request).deps, client_of(request), instance, saml_response,
                                          relay_state, browser_cookie_sent=_browser_cookie_sent(request),
                                          previous_session=session_token(request))
    except FederationFailure as failure:
        return await _failed(request, instance, failure)
    # back through the start page: a same-site GET, which sees the cookies a cross-site POST was not sent (the
    # page a CLI sign-in waits on, kept in the return cookie) and goes on to it or to the portal's home
    response = redirect(start_path(request.path_params["portal"]))
    max_age = max(1, int(signed.session.expires_at - web_of(request).deps.clock()))
    set_cookie(request, response, session_cookie(request), signed.session.token, max_age)
    rotate_browser_id(request, response)
    return response


async def consumer_opened(request: Request) -> Response:
    """The consumer's address opened (the failure page's language switch, a bookmark): back to the start page,
    in the language asked for."""
    lang = request.query_params.get("lang")
    start = start_path(request.path_params["portal"])
    return redirect(f"{start}?{urlencode({'lang': lang})}" if lang in LOCALES else start)


routes = [
    Route("/portal/{portal}/saml", assertion_consumer, methods=["POST"]),
    Route("/portal/{portal}/saml", consumer_opened, methods=["GET"]),
    Route("/portal/{portal}/saml/metadata", metadata_page, methods=["GET"]),
]
