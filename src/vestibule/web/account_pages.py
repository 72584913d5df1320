"""Sign-up, password recovery, the CAPTCHA media and the dev mailbox."""

from __future__ import annotations

import asyncio

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.flows import FlowError
from ..errors import CodeExpired, VestibuleError
from ..services import recovery, signup
from .messages import message_for, status_for
from .rendering import (
    client_of,
    end_previous_session,
    field,
    form_of,
    redirect,
    render,
    set_session_cookie,
    translator,
    web_of,
)

_image = ImageCaptcha(width=220, height=80)
_audio = AudioCaptcha()


# ---- sign-up -----------------------------------------------------------------------------------

async def _signup_form(request: Request, error: str = "", status: int = 200, **values: str) -> Response:
    web = web_of(request)
    if not web.deps.settings.signup_enabled:
        return render(request, "signup_closed.html", 404)
    await web.captcha.issue(client_of(request).browser_hash)
    return render(request, "signup.html", status, error=error, captcha=True, **values)


async def signup_page(request: Request) -> Response:
    return await _signup_form(request)


async def signup_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    if not web.deps.settings.signup_enabled:
        return render(request, "signup_closed.html", 404)
    email, name = field(form, "email", 300), field(form, "account_name", 100)
    try:
        flow = await signup.start(web.deps, client_of(request), web.captcha, email=email, account_name=name,
                                  password=field(form, "password"), confirm=field(form, "confirm_password"),
                                  captcha_answer=field(form, "captcha", 32))
    except VestibuleError as exc:
        return await _signup_form(request, message_for(exc, translator(request)), status_for(exc, 400),
                                  email=email, account_name=name)
    return redirect(f"/signup/verify?flow={flow.id}")


async def verify_page(request: Request, error: str = "", status: int = 200) -> Response:
    web = web_of(request)
    try:
        flow = await signup.load(web.deps, client_of(request), request.query_params.get("flow", ""))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, translator(request)))
    return render(request, "signup_verify.html", status, flow=flow, email=flow.data["email"], error=error)


async def verify_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    t = translator(request)
    try:
        outcome, _created = await signup.verify(web.deps, client_of(request), request.query_params.get("flow", ""),
                                                field(form, "verification_code", 16))
    except FlowError as exc:
        return render(request, "flow_error.html", status_for(exc), error=message_for(exc, t))
    except VestibuleError as exc:
        return await verify_page(request, message_for(exc, t), 400)
    await end_previous_session(request)
    response = redirect("/console?welcome=1")
    assert outcome.session is not None
    set_session_cookie(response, web, outcome.session.token, web.deps.settings.session_absolute_seconds)
    return response


# ---- recovery ----------------------------------------------------------------------------------

async def recovery_page(request: Request, error: str = "", status: int = 200, email: str = "") -> Response:
    if request.query_params.get("type") == "iam":
        return render(request, "recovery_iam.html", account=request.query_params.get("account", ""))
    await web_of(request).captcha.issue(client_of(request).browser_hash)
    return render(request, "recovery.html", status, error=error, email=email, captcha=True)


async def recovery_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    email = field(form, "email", 300)
    try:
        await recovery.request_reset(web.deps, client_of(request), web.captcha, email, field(form, "captcha", 32))
    except VestibuleError as exc:
        return await recovery_page(request, message_for(exc, translator(request)), 400, email)
    return render(request, "recovery_sent.html")


async def reset_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    if not await recovery.check_link(web_of(request).deps, token):
        return render(request, "flow_error.html", 410, error=translator(request)("recovery.link_invalid"))
    return render(request, "recovery_reset.html", token=token)


async def reset_submit(request: Request) -> Response:
    web = web_of(request)
    form = await form_of(request)
    token = field(form, "token", 100)
    t = translator(request)
    try:
        await recovery.reset_password(web.deps, client_of(request), token, field(form, "new_password"),
                                      field(form, "confirm_password"))
    except CodeExpired:
        return render(request, "flow_error.html", 410, error=t("recovery.link_invalid"))
    except VestibuleError as exc:
        return render(request, "recovery_reset.html", 400, token=token, error=message_for(exc, t))
    response = render(request, "recovery_done.html")
    return response


# ---- CAPTCHA media -----------------------------------------------------------------------------

async def _captcha_text(request: Request) -> str:
    web = web_of(request)
    browser = client_of(request).browser_hash
    text = await web.captcha.current_text(browser)
    if text is None:
        await web.captcha.issue(browser)
        text = await web.captcha.current_text(browser)
    assert text is not None
    return text


async def captcha_image(request: Request) -> Response:
    text = await _captcha_text(request)
    data = await asyncio.to_thread(lambda: _image.generate(text).getvalue())
    return Response(data, media_type="image/png", headers={"cache-control": "no-store"})


async def captcha_audio(request: Request) -> Response:
    text = await _captcha_text(request)
    data = await asyncio.to_thread(lambda: bytes(_audio.generate(text)))
    return Response(data, media_type="audio/wav", headers={"cache-control": "no-store"})


# ---- dev mailbox -------------------------------------------------------------------------------

async def dev_mail(request: Request) -> Response:
    web = web_of(request)
    if not web.dev_mailbox_enabled:
        return render(request, "not_found.html", 404)
    from ..services.mail import DevMailbox

    mailbox = web.deps.mailer
    messages = list(reversed(mailbox.messages)) if isinstance(mailbox, DevMailbox) else []
    return render(request, "dev_mail.html", messages=messages)


routes = [
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup_submit, methods=["POST"]),
    Route("/signup/verify", verify_page, methods=["GET"]),
    Route("/signup/verify", verify_submit, methods=["POST"]),
    Route("/recovery", recovery_page, methods=["GET"]),
    Route("/recovery", recovery_submit, methods=["POST"]),
    Route("/recovery/reset", reset_page, methods=["GET"]),
    Route("/recovery/reset", reset_submit, methods=["POST"]),
    Route("/captcha/image", captcha_image, methods=["GET"]),
    Route("/captcha/audio", captcha_audio, methods=["GET"]),
    Route("/_dev/mail", dev_mail, methods=["GET"]),
]
