"""The console's SAML service provider: `POST /saml` (the identity provider's HTTP-POST of a response; no CSRF
token or Origin can come with it, see web/security.py's CROSS_SITE_POST_PATHS), `GET /saml/continue` (the
same-site hand-over, bound to this browser), `GET|POST /saml/choose` (the role chooser) and `GET /saml/metadata`
(what the identity provider imports)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.federation_failures import Cause, FederationFailure
from ...core.flows.base import FlowError
from ...core.saml_sp import EMAIL_ADDRESS, sp_metadata
from ...services.federation import console_saml, failures
from ...services.federation.saml import count_failure, failure_wait, sp_url
from ..i18n import LOCALES
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
from ..security import MAX_BODY
from .failure import failure_response

_STALE = FederationFailure(Cause.STATE_MISMATCH, "the SAML sign-in's flow is unknown, spent, expired or another "
                           "browser's")


def throttled(request: Request, wait: int) -> Response:
    """This address's refused SAML responses are over their budget: a wait, nothing verified or recorded."""
    t = translator(request)
    return render(request, "flow_error.html", 429, error=t("throttle.wait", seconds=wait))


async def _failed(request: Request, failure: FederationFailure) -> Response:
    deps = web_of(request).deps
    wait = await count_failure(deps, client_of(request))
    if wait:
        return throttled(request, wait)
    # the account is a registered provider's (`provider_arn` is only ever set to one), never read from the
    # response's own Issuer, which an unauthenticated POST may set to any ARN-looking text
    registered = failure.admin.get("provider_arn", "")
    provider = registered or failure.admin.get("issuer", "")
    account = registered.split(":")[4] if registered.startswith("arn:") and registered.count(":") >= 5 else None
    reference = await failures.record_failure(deps, client_of(request), failure, door="saml",
                                              account_id=account or None, provider=provider,
                                              principal=failure.admin.get("name_id", ""))
    return failure_response(request, failure, reference, status=403 if failure.cause is Cause.NO_TRUSTED_ROLE
                            else 400)


async def receive(request: Request) -> Response:
    """The identity provider's POST: verified here, once; then a redirect to this site's own GET, which the
    browser sends with its cookies."""
    wait = await failure_wait(web_of(request).deps, client_of(request))
    if wait:
        return throttled(request, wait)
    form = await request.form(max_files=0, max_fields=10, max_part_size=MAX_BODY)
    response, relay = form.get("SAMLResponse", ""), form.get("RelayState", "")
    try:
        handoff = await console_saml.receive(web_of(request).deps, response if isinstance(response, str) else "",
                                             relay if isinstance(relay, str) else "")
    except FederationFailure as failure:
        return await _failed(request, failure)
    return redirect(f"/saml/continue?flow={handoff}")


async def consumer_opened(request: Request) -> Response:
    """`/saml` opened with GET (the failure page's language switch, a bookmark): the start page, in the language
    asked for."""
    lang = request.query_params.get("lang")
    return redirect(f"/?{urlencode({'lang': lang})}" if lang in LOCALES else "/")


async def _signed_in(request: Request, chosen: console_saml.Chosen) -> Response:
    response = redirect(chosen.relay_state or "/console")
    session = chosen.signed_in.session
    set_session_cookie(request, response, session.token,
                       max(1, int(session.expires_at - web_of(request).deps.clock())))
    return response


async def _choose(request: Request, flow_id: str, role_arn: str) -> Response:
    try:
        chosen = await console_saml.choose(web_of(request).deps, client_of(request), flow_id, role_arn,
                                           previous_session=previous_session(request))
    except FlowError:
        return await _failed(request, _STALE)
    except FederationFailure as failure:
        return await _failed(request, failure)
    return await _signed_in(request, chosen)


async def continue_signin(request: Request) -> Response:
    """The hand-over, claimed by this browser: one role -> the console; several -> the chooser."""
    deps = web_of(request).deps
    try:
        choosing = await console_saml.claim(deps, client_of(request), request.query_params.get("flow", "")[:64])
    except FlowError:
        return await _failed(request, _STALE)
    if len(choosing.roles) == 1:
        return await _choose(request, choosing.flow_id, choosing.roles[0].role_arn)
    return redirect(f"/saml/choose?flow={choosing.flow_id}")


async def chooser(request: Request) -> Response:
    deps = web_of(request).deps
    flow_id = request.query_params.get("flow", "")[:64]
    try:
        _flow, choosing = await console_saml.choosing(deps, client_of(request), flow_id)
    except FlowError:
        return await _failed(request, _STALE)
    accounts: dict[str, list[console_saml.RoleChoice]] = {}
    for role in choosing.roles:
        accounts.setdefault(role.account_shown, []).append(role)
    return render(request, "federation/saml_choose.html", flow=choosing.flow_id, accounts=accounts,
                  session_name=choosing.session_name, issuer=choosing.issuer)


async def choose(request: Request) -> Response:
    form = await form_of(request)
    return await _choose(request, field(form, "flow", 64), field(form, "role", 2048))


# the console takes any NameID format (the NameID is only the session's subject); these are the ones IdPs send
NAME_ID_FORMATS = ("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                   "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", EMAIL_ADDRESS,
                   "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")


async def metadata(request: Request) -> Response:
    """Entity ID and assertion consumer URL `<public URL>/saml` (HTTP-POST), signed assertions wanted."""
    acs = sp_url(web_of(request).deps)
    return Response(sp_metadata(acs, acs, NAME_ID_FORMATS), media_type="application/samlmetadata+xml",
                    headers={"content-disposition": 'inline; filename="vestibule-saml-metadata.xml"'})


routes = [
    Route("/saml", receive, methods=["POST"]),
    Route("/saml", consumer_opened, methods=["GET"]),
    Route("/saml/continue", continue_signin, methods=["GET"]),
    Route("/saml/choose", chooser, methods=["GET"]),
    Route("/saml/choose", choose, methods=["POST"]),
    Route("/saml/metadata", metadata, methods=["GET"]),
]
