"""Privacy & data (`/profile/privacy`): request a copy of the profile's data (prepared in the background, mailed
as a link), download it from that link while signed in, and delete the profile."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import CaptchaInvalid, CaptchaRequired, InvalidCode, InvalidCredentials, VestibuleError
from ...services.profiles import deletion, export
from ...services.profiles.signin import signin_keys
from ...services.signin import gate
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of
from .cookies import clear_session, clear_trust, remember_return
from .guard import ProfileSignedIn, requires_profile, signed_in
from .home import notice_of

PAGE = "/profile/privacy"
_NOTICES = {"export_requested": "profile_privacy.notice_requested"}
_DISCLAIMERS = tuple((name, f"profile_privacy.disclaimer_{name}") for name in deletion.DISCLAIMERS)


async def _privacy(request: Request, who: ProfileSignedIn, error: str = "", status: int = 200) -> Response:
    exports = await export.of_profile(web_of(request).deps, who.profile.id)
    return render(request, "profile/privacy.html", status, me=who, nav="privacy",
                  latest=exports[0] if exports else None, error=error,
                  notice="" if error else notice_of(request, _NOTICES))


@requires_profile
async def privacy_page(request: Request, who: ProfileSignedIn) -> Response:
    return await _privacy(request, who)


@requires_profile
async def request_export(request: Request, who: ProfileSignedIn) -> Response:
    await form_of(request)
    try:
        await export.request(web_of(request).deps, client_of(request), who.profile.id)
    except VestibuleError as exc:
        return await _privacy(request, who, message_for(exc, translator(request)), 429)
    return redirect(f"{PAGE}?notice=export_requested")


def _unavailable(request: Request) -> Response:
    t = translator(request)
    return render(request, "profile/privacy_link_invalid.html", 410, error=t("profile_privacy.export_unavailable"))


def _sign_in_first(request: Request, export_id: str, token: str) -> Response:
    """Signed out: a page saying to sign in first, and the link remembered so the sign-in lands back on it."""
    response = render(request, "profile/privacy_signin_first.html", 401)
    remember_return(request, response, f"/profile/privacy/export?{urlencode({'id': export_id, 'token': token})}")
    return response


async def export_page(request: Request) -> Response:
    """The mailed link: signed in as its profile, a Download button; signed out, a page saying to sign in first."""
    who = await signed_in(request)
    export_id = request.query_params.get("id", "")[:32]
    token = request.query_params.get("token", "")[:100]
    if who is None:
        return _sign_in_first(request, export_id, token)
    try:
        view = await export.check_link(web_of(request).deps, who.profile.id, export_id, token)
    except export.ExportUnavailable:
        return _unavailable(request)
    return render(request, "profile/privacy_export.html", me=who, nav="privacy", view=view, token=token)


async def download(request: Request) -> Response:
    who = await signed_in(request)
    form = await form_of(request)
    export_id = field(form, "id", 32)
    if who is None:
        return _sign_in_first(request, export_id, field(form, "token", 100))
    try:
        content = await export.download(web_of(request).deps, client_of(request), who.profile.id, export_id,
                                        field(form, "token", 100))
    except export.ExportUnavailable:
        return _unavailable(request)
    day = datetime.fromtimestamp(web_of(request).deps.clock(), UTC).strftime("%Y-%m-%d")
    return Response(content, media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="personal-profile-data-{day}.zip"',
        "cache-control": "no-store"})


async def _delete_form(request: Request, who: ProfileSignedIn, error: str = "", status: int = 200,
                       accepted: frozenset[str] = frozenset(), use_code: bool | None = None) -> Response:
    """The key's form (a passkey or security key) or, when the profile has an authenticator app and asked for it
    (`?with=code`) or has no key, the code's: one form, with the CAPTCHA when one is due."""
    web = web_of(request)
    client = client_of(request)
    if use_code is None:
        use_code = request.query_params.get("with") == "code"
    factors = await deletion.factors(web.deps, client, who.session.id_hash, who.profile.id)
    captcha = (await gate.risk(web.deps, signin_keys(who.profile.email, client))).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "profile/privacy_delete.html", status, me=who, nav="privacy", error=error,
                  disclaimers=_DISCLAIMERS, accepted=accepted, captcha=captcha,
                  factors=factors, use_code=use_code and factors.totp)


@requires_profile
async def delete_page(request: Request, who: ProfileSignedIn) -> Response:
    return await _delete_form(request, who)


@requires_profile
async def delete_submit(request: Request, who: ProfileSignedIn) -> Response:
    form = await form_of(request)
    web = web_of(request)
    t = translator(request)
    accepted = frozenset(str(v) for v in form.getlist("disclaimer") if str(v) in deletion.DISCLAIMERS)
    code = field(form, "with", 8) == "code"  # the code's form was submitted: shown again on an error
    try:
        await deletion.delete(web.deps, client_of(request), web.captcha, who.profile.id, accepted=accepted,
                              password=field(form, "password"), mfa_code=field(form, "mfa_code", 16),
                              webauthn_response=field(form, "webauthn_response", 65536),
                              session_hash=who.session.id_hash, captcha_answer=field(form, "captcha", 32))
    except InvalidCredentials:
        return await _delete_form(request, who, t("profile_privacy.wrong_password"), 400, accepted, code)
    except InvalidCode:
        return await _delete_form(request, who, t("profile_privacy.wrong_code"), 400, accepted, code)
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await _delete_form(request, who, message_for(exc, t), 400, accepted, code)
    except VestibuleError as exc:
        return await _delete_form(request, who, message_for(exc, t), status_for(exc, 400), accepted, code)
    response = render(request, "profile/privacy_deleted.html")
    clear_session(request, response)
    clear_trust(request, response)
    return response


routes = [
    Route(PAGE, privacy_page, methods=["GET"]),
    Route("/profile/privacy/export/request", request_export, methods=["POST"]),
    Route("/profile/privacy/export", export_page, methods=["GET"]),
    Route("/profile/privacy/export/download", download, methods=["POST"]),
    Route("/profile/privacy/delete", delete_page, methods=["GET"]),
    Route("/profile/privacy/delete", delete_submit, methods=["POST"]),
]
