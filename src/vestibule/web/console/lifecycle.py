"""Closing the account (root user only: password and MFA again, or a code mailed to the root email), and the
pages of an account that cannot be used: suspended, closed (with "reopen" for its root user), closed for good."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...core.flows import FlowError
from ...core.principals import PrincipalKind
from ...errors import (
    CaptchaInvalid,
    CaptchaRequired,
    InvalidCredentials,
    TooManyAttempts,
    VestibuleError,
)
from ...services import account_lifecycle, reauthentication
from ...services.account_lifecycle import REOPEN_WINDOW, AccountUnavailable
from ..guard import SignedIn, requires_session
from ..messages import message_for, status_for
from ..rendering import clear_session_cookie, client_of, field, form_of, render, translator, web_of

CLOSE_PATH = "/console/close"


def unavailable_page(request: Request, exc: AccountUnavailable) -> Response:
    """Shown only after the right password: what the account's standing is and whom to contact."""
    return render(request, "console/account_unavailable.html", 403, state=exc.state,
                  standing=exc.state.standing.value)


async def _form(request: Request, who: SignedIn, *, error: str = "", status: int = 200,
                captcha: bool | None = None) -> Response:
    web = web_of(request)
    client = client_of(request)
    if captcha is None:
        captcha = (await reauthentication.risk(web.deps, who.principal, client)).captcha_required
    if captcha:
        await web.captcha.issue(client.browser_hash)
    needs_code = await account_lifecycle.closure_needs_code(web.deps, who.principal.key)
    return render(request, "console/close_account.html", status, who=who, error=error, captcha=captcha,
                  needs_code=needs_code, days=REOPEN_WINDOW // 86400)


def _code_form(request: Request, who: SignedIn, *, error: str = "", status: int = 200) -> Response:
    return render(request, "console/close_account_code.html", status, who=who, error=error)


def _closed(request: Request) -> Response:
    response = render(request, "console/account_closed.html", days=REOPEN_WINDOW // 86400)
    clear_session_cookie(response, web_of(request))
    return response


@requires_session
async def close_page(request: Request, who: SignedIn) -> Response:
    if who.principal.ref.kind != PrincipalKind.ROOT:
        return render(request, "console/close_account.html", 403, who=who, not_root=True)
    return await _form(request, who)


@requires_session
async def close_submit(request: Request, who: SignedIn) -> Response:
    if who.principal.ref.kind != PrincipalKind.ROOT:
        return render(request, "console/close_account.html", 403, who=who, not_root=True)
    web = web_of(request)
    client = client_of(request)
    form = await form_of(request)
    t = translator(request)
    account_id = who.principal.account_id
    if field(form, "step", 10) == "code":
        try:
            await account_lifecycle.close_with_code(web.deps, client, account_id, who.session.id_hash,
                                                    field(form, "verification_code", 16))
        except (VestibuleError, FlowError) as exc:
            return _code_form(request, who, error=message_for(exc, t), status=status_for(exc, 400))
        return _closed(request)
    if form.get("confirm") != "on":
        return await _form(request, who, error=t("lifecycle.confirm_required"), status=400)
    try:
        await reauthentication.confirm_password(web.deps, client, who.principal, who.session.id_hash,
                                                field(form, "password", 1024), web.captcha,
                                                field(form, "captcha", 32), action="CloseAccount")
    except (CaptchaRequired, CaptchaInvalid) as exc:
        return await _form(request, who, error=message_for(exc, t), status=400, captcha=True)
    except TooManyAttempts as exc:
        return await _form(request, who, error=message_for(exc, t), status=429)
    except InvalidCredentials:
        return await _form(request, who, error=t("reauth.wrong_password"), status=400)
    try:
        if await account_lifecycle.closure_needs_code(web.deps, who.principal.key):
            try:
                await account_lifecycle.send_closure_code(web.deps, client, account_id, who.session.id_hash)
            except TooManyAttempts as exc:  # the code already mailed still works: its form, with the wait
                return _code_form(request, who, error=t("lifecycle.code_wait", seconds=exc.retry_after), status=429)
            return _code_form(request, who)
        await account_lifecycle.close_with_mfa(web.deps, client, account_id, field(form, "mfa_code", 16))
    except VestibuleError as exc:
        return await _form(request, who, error=message_for(exc, t), status=status_for(exc, 400))
    return _closed(request)



routes = [
    Route(CLOSE_PATH, close_page, methods=["GET"]),
    Route(CLOSE_PATH, close_submit, methods=["POST"]),
]
