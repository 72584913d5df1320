"""The browser step of `vestibule login` in Chromium against the live server: the CLI's URL opened while signed
out -> the console's IAM user sign-in -> back to the confirmation page -> Allow -> the browser goes on to the
CLI's loopback listener (`client/loopback.LoopbackListener`), which receives the code and the state; the code
exchange (with a DPoP proof, through the service as the wire calls it) makes a command-line session that the
security page lists and its End button ends (the next refresh is refused). Screenshots are saved as artifacts."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from urllib.parse import urlencode

import pytest

from dpop_proofs import DpopKey, b64url
from e2e.browser_support import Site, run_async
from support import on_live_server
from vestibule.client.loopback import LoopbackListener
from vestibule.runtime import Runtime
from vestibule.services import accounts, cli_login
from vestibule.services.cli_login import SAME_DEVICE, LoginRefused, LoginTokens
from vestibule.services.context import Client

PASSWORD = "Cli login pass phrase 7"
ALLOW_CLI = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"], "Resource": "*"}]})
CLI = Client(ip="127.0.0.1", user_agent="aws-cli/2.31 botocore/1.40")


def _user_who_may_use_the_cli(site: Site, user: str) -> str:
    account = site.create_account(f"owner-{user}@example.com", "Owner pass phrase 1", alias=f"{user}-corp")
    site.create_iam_user(account, user, PASSWORD, reset_required=False)

    async def allow(rt: Runtime) -> None:
        async with rt.deps.store.unit() as uow:
            acc = await accounts.require(uow, account.account_id)
            found = await uow.users.by_name(acc.id, user)
            assert found is not None
            await uow.policies.put_inline(acc.id, "user", found.id, "cli-login", ALLOW_CLI)

    run_async(site.settings, allow)
    return account.account_id


@pytest.mark.browser
def test_signed_out_sign_in_allow_loopback_then_end_the_cli_session(site: Site) -> None:
    account_id = _user_who_may_use_the_cli(site, "gus")
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with LoopbackListener(state) as listener:
        query = urlencode({"response_type": "code", "client_id": SAME_DEVICE, "redirect_uri": listener.redirect_uri,
                           "state": state, "code_challenge_method": "SHA-256",
                           "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest())})
        page = site.new_browser()
        page.goto(f"/v1/authorize?{query}")  # what `vestibule login` opens
        page.wait_for_url(f"{site.url}/")
        assert page.locator("#sign-in-to-allow").is_visible()
        site.shot(page, "cli-sign-in-start")
        page.check("input[name=user_type][value=iam]")
        page.fill("input[name=account]", "gus-corp")
        page.get_by_role("button", name="Next").click()
        page.wait_for_url(f"{site.url}/gus-corp/console")
        assert page.locator("#sign-in-to-allow").is_visible()
        page.fill("input[name=username]", "gus")
        page.fill("input[name=password]", PASSWORD)
        site.solve_captcha_if_shown(page)
        site.shot(page, "cli-iam-sign-in")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/v1/authorize/confirm\?request="))
        assert page.locator("#principal-arn").inner_text() == f"arn:aws:iam::{account_id}:user/gus"
        assert page.locator("#requested-from").inner_text() == "127.0.0.1"
        assert page.locator("#expires-in").inner_text() == "in 10 min"
        site.shot(page, "cli-confirm")
        page.click("#allow")
        page.wait_for_url(re.compile(rf"^http://127\.0\.0\.1:{listener.port}/oauth/callback\?"))
        site.shot(page, "cli-loopback")
        callback = listener.wait(10)
    assert callback is not None and callback.error is None and callback.code

    key = DpopKey()
    token_url = f"{site.url}/v1/token"

    async def exchange() -> LoginTokens:
        return await cli_login.create_token(
            site.live.runtime.deps, CLI, client_id=SAME_DEVICE, grant_type="authorization_code", code=callback.code,
            redirect_uri=listener.redirect_uri, code_verifier=verifier, refresh_token=None,
            dpop=key.proof(token_url), urls=[token_url])

    tokens = on_live_server(site.live, exchange())
    assert tokens.principal_arn == f"arn:aws:iam::{account_id}:user/gus"

    page.goto("/console/security")
    cli_row = page.locator("tr.session[data-kind=cli]")
    assert cli_row.count() == 1
    assert "Signed in on the command line from 127.0.0.1, last used " in cli_row.inner_text()
    assert page.locator("tr.session[data-kind=console][data-current='1']").count() == 1
    site.shot(page, "cli-sessions")
    cli_row.get_by_role("button", name="End").click()
    page.wait_for_url(re.compile(r"/console/security\?notice=session\.ended$"))
    assert page.locator("tr.session[data-kind=cli]").count() == 0
    site.shot(page, "cli-session-ended")

    async def refresh() -> LoginTokens:
        return await cli_login.create_token(
            site.live.runtime.deps, CLI, client_id=SAME_DEVICE, grant_type="refresh_token", code=None,
            redirect_uri=None, code_verifier=None, refresh_token=tokens.refresh_token, dpop=key.proof(token_url),
            urls=[token_url])

    with pytest.raises(LoginRefused) as refused:
        on_live_server(site.live, refresh())
    assert refused.value.reason == "USER_CREDENTIALS_CHANGED"
