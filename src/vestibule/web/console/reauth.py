"""The password prompt before a credential change (`services/reauthentication.py`): a credential form posted by
a session that has not confirmed its password in the last minutes is answered with this prompt, which posts the
same form again with the password; `/console/confirm` is the prompt on its own (then back to Security
credentials)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import (
    CaptchaInvalid,
    CaptchaRequired,
    InvalidCredentials,
    ReauthenticationRequired,
    TooManyAttempts,
)
from ...services import reauthentication
from ...services.reauthentication import Reauthenticated
from ..guard import SignedIn, requires_session
from ..messages import message_for, status_for
from ..rendering import client_of, field, form_of, redirect, render, translator, web_of

CONFIRM_PATH = "/console/confirm"


async def prompt(request: Request, who: SignedIn, action_path: str, keep: Mapping[str, str], *, error: str = "",
                 status: int = 403, captcha: bool | None = None) -> Response:
    """The password prompt: posts `keep` (the original form's fields) and the password to `action_path`."""
    web = web_of(request)
    client = client_of(request)
    if captcha is None:
        captcha = (await reauthentication.risk(web.deps, who.principal, client)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    return render(request, "console/reauth.html", status, who=who, error=error, action_path=action_path,
                  keep=sorted(keep.items()), captcha=captcha, refresh_path=CONFIRM_PATH)


async def reauthenticated(request: Request, who: SignedIn, form: FormData, *, action: str, action_path: str,
                          keep: Mapping[str, str] | None = None) -> Reauthenticated | Response:
    """The proof a credential change needs, or the page to answer with instead (the prompt, with an error after
    a wrong password, a missing CAPTCHA or while throttled)."""
    web = web_of(request)
    kept = dict(keep or {})
    t = translator(request)
    try:
        return await reauthentication.require(web.deps, client_of(request), who.principal, who.session,
                                              field(form, "password", 1024), web.captcha,
                                              field(form, "captcha", 32), action=action)
    except ReauthenticationRequired:
        return await prompt(request, who, action_path, kept)
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await prompt(request, who, action_path, kept, error=message_for(exc, t), status=400, captcha=True)
    except TooManyAttempts as exc:
        return await prompt(request, who, action_path, kept, error=message_for(exc, t), status=status_for(exc))
    except InvalidCredentials:
        return await prompt(request, who, action_path, kept, error=t("reauth.wrong_password"), status=400)


@requires_session
async def confirm_page(request: Request, who: SignedIn) -> Response:
    return await prompt(request, who, CONFIRM_PATH, {}, status=200)


@requires_session
async def confirm_submit(request: Request, who: SignedIn) -> Response:
    form = await form_of(request)
    proof = await reauthenticated(request, who, form, action="Confirm", action_path=CONFIRM_PATH)
    if isinstance(proof, Response):
        return proof
    return redirect("/console/security?notice=reauth.confirmed")


routes = [
    Route(CONFIRM_PATH, confirm_page, methods=["GET"]),
    Route(CONFIRM_PATH, confirm_submit, methods=["POST"]),
]
