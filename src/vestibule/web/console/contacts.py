"""Account contact details and the root email (root user only): `/console/contacts` shows both; the email
change mails a code to the new address (`/console/email/verify?flow=`); the old address's undo link opens
`/email/undo`, which needs no session (the owner may have lost every way in)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.contacts import FIELDS, ContactDetails
from ...core.flows import FlowError, FlowNotFound
from ...errors import (
    CaptchaInvalid,
    CaptchaRequired,
    CodeExpired,
    InvalidContactDetails,
    InvalidCredentials,
    PermissionDenied,
    TooManyAttempts,
    VestibuleError,
)
from ...services import account_contacts, root_email
from ..guard import SignedIn, requires_session
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .reauth import reauthenticated

PAGE = "/console/contacts"
_NOTICES = {"saved", "email_changed"}


def _root_only(request: Request, who: SignedIn) -> Response | None:
    if who.principal.kind == "root":
        return None
    return render(request, "flow_error.html", 403, who=who, error=translator(request)("contact.root_only"))


async def _page(request: Request, who: SignedIn, *, details: ContactDetails | None = None,
                problems: dict[str, str] | None = None, error: str = "", status: int = 200,
                new_email: str = "") -> Response:
    deps = web_of(request).deps
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(who.principal.account_id)
        stored = await account_contacts.of_account(uow, who.principal.account_id)
    t = translator(request)
    key = request.query_params.get("notice", "")
    notice = t(f"contact.notice.{key}") if key in _NOTICES and status == 200 else ""
    return render(request, "console/contacts.html", status, who=who, root_email=account.root_email if account else "",
                  details=details or stored, problems=problems or {}, error=error, notice=notice,
                  new_email=new_email)


def _details_of(form: FormData) -> ContactDetails:
    return ContactDetails(**{name: field(form, name, 300) for name in FIELDS})


@requires_session
async def contacts_page(request: Request, who: SignedIn) -> Response:
    return _root_only(request, who) or await _page(request, who)


@requires_session
async def contacts_submit(request: Request, who: SignedIn) -> Response:
    if (refused := _root_only(request, who)) is not None:
        return refused
    form = await form_of(request)
    details = _details_of(form)
    proof = await reauthenticated(request, who, form, action="PutContactInformation", action_path=PAGE,
                                  keep=details.as_dict())
    if isinstance(proof, Response):
        return proof
    deps = web_of(request).deps
    t = translator(request)
    try:
        async with deps.store.unit() as uow:
            await account_contacts.put(uow, who.principal.account_id, details, now=deps.clock(),
                                       client=client_of(request), principal=who.principal.arn)
    except InvalidContactDetails as exc:
        problems = {name: t(key) for name, key in exc.problems}
        return await _page(request, who, details=details, problems=problems, error=t("contact.invalid"),
                           status=400)
    return redirect(f"{PAGE}?notice=saved")


@requires_session
async def email_submit(request: Request, who: SignedIn) -> Response:
    if (refused := _root_only(request, who)) is not None:
        return refused
    form = await form_of(request)
    new_email = field(form, "email", 300)
    proof = await reauthenticated(request, who, form, action="UpdateRootEmail", action_path="/console/email",
                                  keep={"email": new_email})
    if isinstance(proof, Response):
        return proof
    try:
        flow = await root_email.start(web_of(request).deps, client_of(request), who.principal, proof, new_email)
    except VestibuleError as exc:
        return await _page(request, who, error=message_for(exc, translator(request)), status=status_for(exc, 400),
                           new_email=new_email)
    return redirect(f"/console/email/verify?flow={flow.id}")


async def _verify_page(request: Request, who: SignedIn, flow_id: str, error: str = "", status: int = 200,
                       notice: str = "") -> Response:
    web = web_of(request)
    flow = await root_email.load(web.deps, client_of(request), who.principal, who.session.id_hash, flow_id)
    return render(request, "console/root_email_verify.html", status, who=who, flow=flow,
                  new_email=flow.payload.new_email, resend_in=flow.payload.resend_in(web.deps.clock()),
                  error=error, notice=notice)


@requires_session
async def verify_page(request: Request, who: SignedIn) -> Response:
    t = translator(request)
    try:
        return _root_only(request, who) or await _verify_page(request, who, request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), who=who, error=message_for(exc, t))


@requires_session
async def verify_submit(request: Request, who: SignedIn) -> Response:
    if (refused := _root_only(request, who)) is not None:
        return refused
    form = await form_of(request)
    web = web_of(request)
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    client = client_of(request)
    try:
        if field(form, "step", 16) == "resend":
            await root_email.resend(web.deps, client, who.principal, who.session.id_hash, flow_id)
            return await _verify_page(request, who, flow_id, notice=t("contact.code_resent"))
        await root_email.verify(web.deps, client, who.principal, who.session.id_hash, flow_id,
                                field(form, "verification_code", 16))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), who=who, error=message_for(exc, t))
    except VestibuleError as exc:
        try:
            return await _verify_page(request, who, flow_id, error=message_for(exc, t), status=status_for(exc, 400))
        except FlowError as again:  # the last attempt was used
            return render(request, "flow_error.html", status_for(again), who=who, error=message_for(exc, t))
    return redirect(f"{PAGE}?notice=email_changed")


# ---- the undo link (no session needed) -----------------------------------------------------------------

async def undo_page(request: Request) -> Response:
    """`?token=` is exchanged for a flow bound to this browser and left at once (the token is in one request's
    URL only); `?flow=` shows what the undo does and asks to confirm (a GET never changes anything)."""
    web = web_of(request)
    t = translator(request)
    token = request.query_params.get("token")
    if token is not None:
        flow = await root_email.open_undo(web.deps, client_of(request), token[:100])
        if flow is None:
            return render(request, "flow_error.html", 410, error=t("contact.undo_invalid"))
        return redirect(f"/email/undo?flow={flow.id}")
    try:
        flow, offer = await root_email.undo_offer(web.deps, client_of(request), request.query_params.get("flow", ""))
    except (FlowNotFound, CodeExpired):
        return render(request, "flow_error.html", 410, error=t("contact.undo_invalid"))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    return render(request, "console/root_email_undo.html", flow_id=flow.id, offer=offer)


async def _undo_form(request: Request, flow_id: str, error: str, status: int, captcha: bool = False) -> Response:
    web = web_of(request)
    flow, offer = await root_email.undo_offer(web.deps, client_of(request), flow_id)
    if captcha:
        await web.captcha.issue(client_of(request).browser_hash)
    return render(request, "console/root_email_undo.html", status, flow_id=flow.id, offer=offer, error=error,
                  captcha=captcha)


async def undo_submit(request: Request) -> Response:
    form = await form_of(request)
    t = translator(request)
    web = web_of(request)
    flow_id = request.query_params.get("flow", "")
    try:
        try:
            offer = await root_email.undo(web.deps, client_of(request), flow_id, field(form, "password", 1024),
                                          web.captcha, field(form, "captcha", 32))
        except (CaptchaRequired, CaptchaInvalid) as exc:
            return await _undo_form(request, flow_id, message_for(exc, t), 400, captcha=True)
        except TooManyAttempts as exc:
            return await _undo_form(request, flow_id, message_for(exc, t), 429)
        except InvalidCredentials:
            return await _undo_form(request, flow_id, t("reauth.wrong_password"), 400)
    except (FlowNotFound, CodeExpired):
        return render(request, "flow_error.html", 410, error=t("contact.undo_invalid"))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except (PermissionDenied, VestibuleError) as exc:
        return render(request, "flow_error.html", 409, error=message_for(exc, t))
    return render(request, "console/root_email_undone.html", offer=offer)


routes = [
    Route(PAGE, contacts_page, methods=["GET"]),
    Route(PAGE, contacts_submit, methods=["POST"]),
    Route("/console/email", email_submit, methods=["POST"]),
    Route("/console/email/verify", verify_page, methods=["GET"]),
    Route("/console/email/verify", verify_submit, methods=["POST"]),
    Route("/email/undo", undo_page, methods=["GET"]),
    Route("/email/undo", undo_submit, methods=["POST"]),
]
