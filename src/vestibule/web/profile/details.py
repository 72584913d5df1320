"""My details (`/profile/details`, the profile's home): the profile (name, nickname) and the contact information
(email), each with its Edit page; saving shows the green confirmation at the top. The email change asks for the
password again, then the code mailed to the new address (`/profile/details/email/verify?flow=`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...errors import VestibuleError
from ...services.profiles import details
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .guard import ProfileSignedIn, requires_profile
from .home import HOME, notice_of
from .security import reauthenticated

EDIT = "/profile/details/edit"
EMAIL = "/profile/details/email"
VERIFY = "/profile/details/email/verify"
NOTICES = {"welcome": "profile.notice_welcome", "signed_in": "profile.notice_signed_in",
           "saved": "profile_settings.notice_saved", "email_changed": "profile_settings.notice_email_changed"}


@requires_profile
async def details_page(request: Request, who: ProfileSignedIn) -> Response:
    return render(request, "profile/details.html", me=who, nav="details", notice=notice_of(request, NOTICES))


@requires_profile
async def edit_page(request: Request, who: ProfileSignedIn) -> Response:
    return render(request, "profile/details_edit.html", me=who, nav="details", name=who.profile.name,
                  nickname=who.profile.nickname or "")


@requires_profile
async def edit_submit(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    name, nickname = field(form, "name", 300), field(form, "nickname", 300)
    try:
        await details.update_names(web_of(request).deps, client_of(request), who.profile.id, name, nickname)
    except VestibuleError as exc:
        return render(request, "profile/details_edit.html", status_for(exc, 400), me=who, nav="details", name=name,
                      nickname=nickname, error=message_for(exc, translator(request)))
    return redirect(f"{HOME}?notice=saved")


@requires_profile
async def email_page(request: Request, who: ProfileSignedIn) -> Response:
    return render(request, "profile/details_email.html", me=who, nav="details", email="")


@requires_profile
async def email_submit(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    new_email = field(form, "email", 300)
    proof = await reauthenticated(request, who, form, action="ProfileEmailChangeRequested", action_path=EMAIL,
                                  keep={"email": new_email}, back=HOME)
    if isinstance(proof, Response):
        return proof
    try:
        flow = await details.start_email_change(web_of(request).deps, client_of(request), who.profile.id, proof,
                                                new_email)
    except VestibuleError as exc:
        return render(request, "profile/details_email.html", status_for(exc, 400), me=who, nav="details",
                      email=new_email, error=message_for(exc, translator(request)))
    return redirect(f"{VERIFY}?flow={flow.id}")


async def _verify_page(request: Request, who: ProfileSignedIn, flow_id: str, error: str = "", status: int = 200,
                       notice: str = "") -> Response:
    deps = web_of(request).deps
    flow = await details.load_email_change(deps, client_of(request), who.profile.id, who.session.id_hash, flow_id)
    return render(request, "profile/details_email_verify.html", status, me=who, nav="details", flow_id=flow.id,
                  new_email=flow.payload.new_email, resend_in=details.resend_in(flow, deps.clock()), error=error,
                  notice=notice)


@requires_profile
async def verify_page(request: Request, who: ProfileSignedIn) -> Response:
    try:
        return await _verify_page(request, who, request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "profile/flow_error.html", status_for(exc), error=message_for(exc, translator(request)),
                      start_over=HOME)


@requires_profile
async def verify_submit(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    deps = web_of(request).deps
    t = translator(request)
    flow_id = request.query_params.get("flow", "")
    client = client_of(request)
    try:
        if field(form, "step", 16) == "resend":
            await details.resend_code(deps, client, who.profile.id, who.session.id_hash, flow_id)
            return await _verify_page(request, who, flow_id, notice=t("profile_settings.code_resent"))
        await details.verify_code(deps, client, who.profile.id, who.session.id_hash, flow_id,
                                  field(form, "verification_code", 16))
    except FlowError as exc:
        return render(request, "profile/flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        try:
            return await _verify_page(request, who, flow_id, error=message_for(exc, t), status=status_for(exc, 400))
        except FlowError as again:  # the last attempt was used, or the change is done
            return render(request, "profile/flow_error.html", status_for(again), error=message_for(exc, t))
    return redirect(f"{HOME}?notice=email_changed")


routes = [
    Route(HOME, details_page, methods=["GET"]),
    Route(EDIT, edit_page, methods=["GET"]),
    Route(EDIT, edit_submit, methods=["POST"]),
    Route(EMAIL, email_page, methods=["GET"]),
    Route(EMAIL, email_submit, methods=["POST"]),
    Route(VERIFY, verify_page, methods=["GET"]),
    Route(VERIFY, verify_submit, methods=["POST"]),
]
