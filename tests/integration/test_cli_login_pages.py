"""The browser step of `vestibule login` over HTTP: `GET /v1/authorize` (PKCE) signed in and not (the console's
own sign-in, then back through the return cookie), the confirmation page, Allow and Deny (same device: a page
that goes on to the loopback listener; cross device: the code to paste), every refusal as a message page with
its status and never a redirect to an unchecked address, role sessions and policy refusals, and the security
page's sessions (a command-line session after the code exchange, ended with its End button). The CLI's side
(the code exchange with a DPoP proof, refreshes) is the service, called in-process as the wire would."""

from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest

from decision_pages import decide, facts, result_of
from dpop_proofs import TOKEN_URL, DpopKey, b64url
from http_steps import (
    DEFAULT_IP,
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    notice_of,
    post_step,
    root_password,
    sign_in_iam,
    sign_in_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime
from vestibule.services import accounts, cli_login, temporary_credentials
from vestibule.services.cli_login import CROSS_DEVICE, SAME_DEVICE, LoginRefused, LoginTokens
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox
from vestibule.services.principals import Principal
from vestibule.services.signin.completion import complete_sign_in
from vestibule.web.console.cli_login import safe_return
from vestibule.web.i18n import Translator

t = Translator("en")
CLI = Client(ip="198.51.100.20", user_agent="aws-cli/2.31 botocore/1.40")  # where the terminal runs
LOOPBACK = "http://127.0.0.1:53682/oauth/callback"
CODE_PAGE = "http://testserver/v1/authorize/code"
ALLOW_CLI = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"], "Resource": "*"}]})
DENY_CLI = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "signin:AuthorizeOAuth2Access", "Resource": "*"}]})


@dataclass
class CliRequest:
    """What `vestibule login` sends the browser to, and keeps for the code exchange."""

    client_id: str
    redirect_uri: str
    state: str
    verifier: str

    @classmethod
    def new(cls, client_id: str = SAME_DEVICE, redirect_uri: str = LOOPBACK) -> CliRequest:
        return cls(client_id, redirect_uri, secrets.token_urlsafe(16), secrets.token_urlsafe(48))

    def url(self, **changes: str) -> str:
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "state": self.state, "code_challenge": b64url(hashlib.sha256(self.verifier.encode()).digest()),
                  "code_challenge_method": "SHA-256", **changes}
        return "/v1/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


async def exchange(runtime: Runtime, request: CliRequest, code: str, key: DpopKey) -> LoginTokens:
    return await cli_login.create_token(
        runtime.deps, CLI, client_id=request.client_id, grant_type="authorization_code", code=code,
        redirect_uri=request.redirect_uri, code_verifier=request.verifier, refresh_token=None, dpop=key.proof(),
        urls=[TOKEN_URL])


async def refresh(runtime: Runtime, request: CliRequest, tokens: LoginTokens, key: DpopKey) -> LoginTokens:
    return await cli_login.create_token(
        runtime.deps, CLI, client_id=request.client_id, grant_type="refresh_token", code=None, redirect_uri=None,
        code_verifier=None, refresh_token=tokens.refresh_token, dpop=key.proof(), urls=[TOKEN_URL])


async def allow_cli(runtime: Runtime, account: str, user: str, document: str = ALLOW_CLI) -> None:
    """An inline policy on the IAM user (IAM users need an Allow for command-line sign-in)."""
    async with runtime.deps.store.unit() as uow:
        acc = await accounts.require(uow, account)
        found = await uow.users.by_name(acc.id, user)
        assert found is not None
        await uow.policies.put_inline(acc.id, "user", found.id, "cli-login", document)


def set_cookies(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]


def loopback_answer(response: httpx.Response) -> dict[str, list[str]]:
    """The query the page sends the browser on with (`Refresh`, and the same address as its link)."""
    assert response.status_code == 200, response.text
    refresh_header = response.headers["refresh"]
    assert refresh_header.startswith("0; url=")
    target = refresh_header.removeprefix("0; url=")
    assert target.startswith(LOOPBACK + "?")
    assert f'href="{html.escape(target)}"' in response.text, "a link for browsers that do not follow Refresh"
    assert "location" not in response.headers
    return parse_qs(urlsplit(target).query)


async def confirm_path(client: httpx.AsyncClient, request: CliRequest) -> str:
    """A signed-in browser opens the CLI's URL: straight on to the confirmation page."""
    r = await client.get(request.url())
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert re.fullmatch(r"/v1/authorize/confirm\?request=[A-Za-z0-9_%-]+", location), location
    return location


@pytest.fixture
async def acme(runtime: Runtime) -> str:
    account = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await allow_cli(runtime, "acme", "alice")
    return account


# ---- the whole way, as an IAM user who is not signed in yet --------------------------------------

async def test_not_signed_in_signs_in_then_comes_back_allows_and_the_cli_session_can_be_ended(
        client: httpx.AsyncClient, runtime: Runtime, acme: str) -> None:
    request = CliRequest.new()
    r = await client.get(request.url())
    assert r.status_code == 303 and r.headers["location"] == "/"
    [cookie] = set_cookies(r, "vestibule_console_return")
    assert "Max-Age=600" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    start = await client.get("/")
    assert 'id="sign-in-to-allow"' in start.text
    form = await client.get("/acme/console")
    assert 'id="sign-in-to-allow"' in form.text
    r = await iam_password(client, "acme", "alice", "user password 1")
    assert r.status_code == 303
    confirm = r.headers["location"]
    assert confirm.startswith("/v1/authorize/confirm?request="), confirm
    assert any("Max-Age=0" in c for c in set_cookies(r, "vestibule_console_return")), "the cookie is used once"
    page = await client.get(confirm)
    assert page.status_code == 200
    assert t("cli_login.confirm_title") in html.unescape(page.text)
    shown = facts(page.text)
    assert shown["principal-arn"] == f"arn:aws:iam::{acme}:user/alice"
    assert shown["account"].startswith(f"{acme[:4]}-{acme[4:8]}-{acme[8:]}") and "acme" in shown["account"]
    assert shown["requested-from"] == DEFAULT_IP  # the browser the CLI opened asked
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", shown["requested-at"])
    assert shown["expires-in"] == t("cli_login.expires_in", minutes=10)
    for header, value in (("x-frame-options", "DENY"), ("cache-control", "no-store"),
                          ("x-content-type-options", "nosniff")):
        assert page.headers[header] == value
    assert "form-action 'self'" in page.headers["content-security-policy"]
    # the next sign-in has no return waiting: the console home
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    answer = loopback_answer(r)
    assert result_of(r.text) == "allowed"
    assert answer["state"] == [request.state] and len(answer["code"]) == 1 and "error" not in answer
    key = DpopKey()
    tokens = await exchange(runtime, request, answer["code"][0], key)
    assert tokens.principal_arn == f"arn:aws:iam::{acme}:user/alice"
    # the security page lists this browser and the command-line session, which End ends
    security = await client.get("/console/security")
    assert security.status_code == 200
    rows = re.findall(r'<tr class="session" data-kind="(cli|console)" data-current="([01])">(.*?)</tr>',
                      security.text, re.DOTALL)
    assert [(kind, current) for kind, current, _ in rows] == [("console", "1"), ("cli", "0")], rows
    cli_row = html.unescape(re.sub(r"\s+", " ", rows[1][2]))
    assert "Signed in on the command line from 198.51.100.20, last used " in cli_row
    assert tokens.session_arn in rows[1][2]
    assert "aws-cli/2.31" in cli_row
    r = await client.post("/console/sessions/end", data={"session": tokens.session_arn})
    assert r.status_code == 403, "End is a CSRF-checked form"
    assert len(re.findall(r'data-kind="cli"', (await client.get("/console/security")).text)) == 1
    r = await client.post("/console/sessions/end", data={"csrf_token": csrf_of(security.text),
                                                         "session": tokens.session_arn})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=session.ended"
    security = await client.get(r.headers["location"])
    assert notice_of(security.text) == t("notice.session.ended")
    assert 'data-kind="cli"' not in security.text
    with pytest.raises(LoginRefused) as refused:
        await refresh(runtime, request, tokens, key)
    assert refused.value.reason == "USER_CREDENTIALS_CHANGED"
    # ending it again is harmless; an ARN that names no session of this user's is a message
    r = await client.post("/console/sessions/end", data={"csrf_token": csrf_of(security.text),
                                                         "session": tokens.session_arn})
    assert r.status_code == 303
    for other in (f"arn:aws:signin::{acme}:session/{secrets.token_hex(16)}", "not an arn", ""):
        r = await client.post("/console/sessions/end", data={"csrf_token": csrf_of(security.text),
                                                             "session": other})
        assert r.status_code == 404 and error_of(r.text) == t("signin.session_not_found"), other
    assert (await client.get("/console")).status_code == 200, "this browser is still signed in"


async def test_other_console_sessions_are_listed_and_ended(runtime: Runtime, captcha: CaptchaAnswers,
                                                           acme: str) -> None:
    async with browser(runtime, captcha) as laptop, browser(runtime, captcha, ip="192.0.2.44") as phone, \
            browser(runtime, captcha, ip="192.0.2.45") as mallory:
        await sign_in_iam(laptop)
        await sign_in_iam(phone)
        await make_user(runtime, "acme", "mallory")
        await sign_in_iam(mallory, username="mallory")
        security = await laptop.get("/console/security")
        rows = re.findall(r'<tr class="session" data-kind="(console)" data-current="([01])">(.*?)</tr>',
                          security.text, re.DOTALL)
        assert [current for _, current, _ in rows] == ["1", "0"], "this browser first, then the other one"
        other = html.unescape(re.sub(r"\s+", " ", rows[1][2]))
        assert "Signed in to the console from 192.0.2.44, last used " in other
        arn = re.search(r'name="session" value="([^"]+)"', rows[1][2])
        assert arn and re.fullmatch(r"arn:aws:signin::\d{12}:session/[0-9a-f]{32}", arn.group(1))
        # mallory cannot end alice's session by its ARN
        page = await mallory.get("/console/security")
        r = await mallory.post("/console/sessions/end", data={"csrf_token": csrf_of(page.text),
                                                              "session": arn.group(1)})
        assert r.status_code == 404 and error_of(r.text) == t("signin.session_not_found")
        assert (await phone.get("/console")).status_code == 200
        r = await laptop.post("/console/sessions/end", data={"csrf_token": csrf_of(security.text),
                                                             "session": arn.group(1)})
        assert r.status_code == 303
        assert (await phone.get("/console")).status_code == 303, "the phone's session ended at once"
        assert (await laptop.get("/console")).status_code == 200


# ---- a root user already signed in; Deny; single use --------------------------------------------

async def test_root_signed_in_goes_straight_to_confirm_and_denies_once(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, acme: str) -> None:
    await sign_in_root(client, mailbox)
    request = CliRequest.new()
    confirm = await confirm_path(client, request)
    page = await client.get(confirm)
    assert facts(page.text)["principal-arn"] == f"arn:aws:iam::{acme}:root"
    # without the CSRF token nothing is decided
    r = await client.post(confirm, data={"decision": "allow"})
    assert r.status_code == 403
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "maybe"})
    assert r.status_code == 400
    assert (await client.get(confirm)).status_code == 200, "still waiting"
    r = await decide(client, confirm, "deny")
    answer = loopback_answer(r)
    assert result_of(r.text) == "denied"
    assert answer["error"] == ["access_denied"] and answer["state"] == [request.state] and "code" not in answer
    # answered: opening or deciding again says so, with the page an unknown request gets
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    assert r.status_code == 404 and error_of(r.text) == t("cli_login.not_pending")
    assert "refresh" not in r.headers and "location" not in r.headers
    again = await client.get(confirm)
    unknown = await client.get("/v1/authorize/confirm?request=" + secrets.token_urlsafe(24))
    assert again.status_code == unknown.status_code == 404
    assert error_of(again.text) == error_of(unknown.text) == t("cli_login.not_pending")


async def test_root_sign_in_with_the_mailed_code_comes_back_to_the_request(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, acme: str) -> None:
    request = CliRequest.new()
    r = await client.get(request.url())
    assert r.headers["location"] == "/" and set_cookies(r, "vestibule_console_return")
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url, "the mailed code comes first"
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, "owner@example.com"))
    assert r.status_code == 303 and r.headers["location"].startswith("/v1/authorize/confirm?request=")
    answer = loopback_answer(await decide(client, r.headers["location"], "allow"))
    tokens = await exchange(runtime, request, answer["code"][0], DpopKey())
    assert tokens.principal_arn == f"arn:aws:iam::{acme}:root"


async def test_allowed_twice_is_refused_and_the_code_works_once(
        client: httpx.AsyncClient, runtime: Runtime, acme: str) -> None:
    await sign_in_iam(client)
    request = CliRequest.new()
    confirm = await confirm_path(client, request)
    page = await client.get(confirm)
    first = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    code = loopback_answer(first)["code"][0]
    second = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    assert second.status_code == 404 and "refresh" not in second.headers
    await exchange(runtime, request, code, DpopKey())
    with pytest.raises(LoginRefused):
        await exchange(runtime, request, code, DpopKey())


async def test_expired_request_is_a_clear_page(client: httpx.AsyncClient, runtime: Runtime, acme: str) -> None:
    clock = use_clock(runtime)
    await sign_in_iam(client)
    confirm = await confirm_path(client, CliRequest.new())
    page = await client.get(confirm)
    assert facts(page.text)["expires-in"] == t("cli_login.expires_in", minutes=10)
    clock.advance(cli_login.REQUEST_LIFETIME - 90)
    assert facts((await client.get(confirm)).text)["expires-in"] == t("cli_login.expires_in", minutes=2)
    clock.advance(91)
    r = await client.get(confirm)
    assert r.status_code == 410 and error_of(r.text) == t("cli_login.expired")
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    assert r.status_code == 410 and "refresh" not in r.headers


# ---- refusals: who may allow -----------------------------------------------------------------------

async def test_policy_that_forbids_cli_login_is_named(client: httpx.AsyncClient, runtime: Runtime,
                                                      acme: str) -> None:
    await make_user(runtime, "acme", "bob")  # no policy: IAM users need an Allow
    await make_user(runtime, "acme", "carol")
    await allow_cli(runtime, "acme", "carol")
    await allow_cli(runtime, "acme", "carol", DENY_CLI)  # the same policy name: now an explicit Deny
    for user in ("bob", "carol"):
        async with browser(runtime, CaptchaAnswers()) as b:
            await sign_in_iam(b, username=user)
            request = CliRequest.new()
            confirm = await confirm_path(b, request)
            r = await decide(b, confirm, "allow")
            assert r.status_code == 403, r.text
            assert error_of(r.text) == (
                "Your administrator does not allow command-line sign-in for you: "
                "signin:AuthorizeOAuth2Access is denied.")
            assert "refresh" not in r.headers and "location" not in r.headers
            # the request still waits: the page's Deny tells the terminal
            deny = re.search(r'<form method="post" action="([^"]+)" class="inline" id="deny-form">', r.text)
            assert deny and html.unescape(deny.group(1)) == confirm
            answer = loopback_answer(await b.post(confirm, data={"csrf_token": csrf_of(r.text), "decision": "deny"}))
            assert answer["error"] == ["access_denied"] and answer["state"] == [request.state]


async def _role_session(runtime: Runtime, account_id: str) -> str:
    """A console session as an assumed role (what the access portal opens): its cookie value."""
    deps = runtime.deps
    arn = f"arn:aws:sts::{account_id}:assumed-role/Developers/ivan"
    async with deps.store.unit() as uow:
        issued = await temporary_credentials.issue(deps, uow, account_id=account_id, kind="assumed-role",
                                                   source_principal_key=f"root:{account_id}", arn=arn, user_id="",
                                                   duration=3600, role_id="AROAEXAMPLEROLE00001",
                                                   session_name="ivan")
        account = await uow.accounts.get(account_id)
    assert account is not None
    principal = Principal(PrincipalRef.role(issued.access_key_id), account_id, account.name, account.alias,
                          "Developers/ivan", arn)
    signed = await complete_sign_in(deps.session_ports, principal=principal, client=CLI, method="portal",
                                    mfa_used=False, lifetime=3600)
    return signed.session.token


async def test_role_session_is_told_it_is_for_root_and_iam_users(client: httpx.AsyncClient, runtime: Runtime,
                                                                 acme: str) -> None:
    client.cookies.set("vestibule_session", await _role_session(runtime, acme))
    assert (await client.get("/console")).status_code == 200
    request = CliRequest.new()
    confirm = await confirm_path(client, request)
    page = await client.get(confirm)
    assert page.status_code == 403 and 'id="role-session"' in page.text
    assert 'id="allow"' not in page.text
    assert t("cli_login.role_title") in html.unescape(page.text)
    r = await client.post(confirm, data={"csrf_token": csrf_of(page.text), "decision": "allow"})
    assert r.status_code == 403 and 'id="role-session"' in r.text and "refresh" not in r.headers
    # the security page shows no sessions section for a role session (and does not fail)
    security = await client.get("/console/security")
    assert security.status_code == 200 and 'id="sessions"' not in security.text
    # the request is still waiting for a root or IAM user
    assert (await cli_login.pending(runtime.deps, parse_qs(urlsplit(confirm).query)["request"][0])).id


# ---- bad requests and open redirects ------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "status", "key"), [
    ({"client_id": "arn:aws:signin:::devtools/other"}, 400, "cli_login.client_invalid"),
    ({"client_id": "https://evil.example/"}, 400, "cli_login.client_invalid"),
    ({"redirect_uri": "https://evil.example/cb"}, 400, "cli_login.redirect_invalid"),
    ({"redirect_uri": "http://127.0.0.1.evil.example/cb"}, 400, "cli_login.redirect_invalid"),
    ({"redirect_uri": "http://user@127.0.0.1:5000/cb"}, 400, "cli_login.redirect_invalid"),
    ({"redirect_uri": "//evil.example/cb"}, 400, "cli_login.redirect_invalid"),
    ({"redirect_uri": "javascript:alert(1)"}, 400, "cli_login.redirect_invalid"),
    ({"client_id": CROSS_DEVICE, "redirect_uri": LOOPBACK}, 400, "cli_login.redirect_invalid"),
    ({"client_id": CROSS_DEVICE, "redirect_uri": "https://evil.example/v1/authorize/code"}, 400,
     "cli_login.redirect_invalid"),
    ({"response_type": "token"}, 400, "cli_login.request_invalid"),
    ({"code_challenge_method": "plain"}, 400, "cli_login.request_invalid"),
    ({"code_challenge": ""}, 400, "cli_login.request_invalid"),
    ({"state": "line\nbreak"}, 400, "cli_login.request_invalid"),
])
async def test_bad_requests_get_a_message_page_and_no_redirect(client: httpx.AsyncClient, runtime: Runtime,
                                                               acme: str, changes: dict[str, str], status: int,
                                                               key: str) -> None:
    for signed_in in (False, True):
        if signed_in:
            await sign_in_iam(client)
        r = await client.get(CliRequest.new().url(**changes))
        assert r.status_code == status, (changes, r.status_code, r.text)
        assert error_of(r.text) == t(key), r.text
        assert "location" not in r.headers and "refresh" not in r.headers
        assert not set_cookies(r, "vestibule_console_return"), "nothing waits behind a sign-in"


async def test_s256_is_accepted_as_well(client: httpx.AsyncClient, runtime: Runtime, acme: str) -> None:
    await sign_in_iam(client)
    r = await client.get(CliRequest.new().url(code_challenge_method="S256"))
    assert r.status_code == 303 and r.headers["location"].startswith("/v1/authorize/confirm?request=")


def test_only_same_origin_authorize_paths_are_returned_to() -> None:
    assert safe_return("/v1/authorize/confirm?request=abc") == "/v1/authorize/confirm?request=abc"
    assert safe_return("/v1/authorize") == "/v1/authorize"
    for refused in ("", "/", "/console", "/v1/authorizeX", "/v1/authorized/confirm", "//evil.example/v1/authorize",
                    "https://evil.example/v1/authorize", "/\\evil.example", "/v1/authorize\\@evil.example",
                    "/v1/authorize/confirm?request=a\r\nSet-Cookie: x=1", "http:/v1/authorize",
                    "/device/confirm?flow=x", " /v1/authorize"):
        assert safe_return(refused) is None, refused


async def test_a_forged_return_cookie_is_ignored(client: httpx.AsyncClient, runtime: Runtime, acme: str) -> None:
    for forged in ("//evil.example/", "https://evil.example/v1/authorize", "/console/security", "/\\evil.example"):
        async with browser(runtime, CaptchaAnswers()) as b:
            b.cookies.set("vestibule_console_return", quote(forged, safe=""))
            r = await iam_password(b, "acme", "alice", "user password 1")
            assert r.status_code == 303 and r.headers["location"] == "/console", forged


async def test_signed_in_start_page_goes_back_to_the_waiting_request(client: httpx.AsyncClient, runtime: Runtime,
                                                                     acme: str) -> None:
    request = CliRequest.new()
    r = await client.get(request.url())
    assert r.headers["location"] == "/"
    async with browser(runtime, CaptchaAnswers()) as other:
        await sign_in_iam(other)
        client.cookies.set("vestibule_session", other.cookies["vestibule_session"])
    r = await client.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/v1/authorize/confirm?request=")


async def test_confirm_page_without_a_session_sends_to_sign_in_and_back(client: httpx.AsyncClient,
                                                                        runtime: Runtime, acme: str) -> None:
    async with browser(runtime, CaptchaAnswers()) as signed:
        await sign_in_iam(signed)
        confirm = await confirm_path(signed, CliRequest.new())
    r = await client.get(confirm)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert set_cookies(r, "vestibule_console_return")
    r = await iam_password(client, "acme", "alice", "user password 1")
    assert r.headers["location"] == confirm


# ---- cross device ---------------------------------------------------------------------------------------

async def test_cross_device_shows_the_code_to_paste(client: httpx.AsyncClient, runtime: Runtime,
                                                    acme: str) -> None:
    await sign_in_iam(client)
    request = CliRequest.new(CROSS_DEVICE, CODE_PAGE)
    confirm = await confirm_path(client, request)
    page = await client.get(confirm)
    assert t("cli_login.confirm_title_remote") in html.unescape(page.text)
    r = await decide(client, confirm, "allow")
    assert r.status_code == 200 and "refresh" not in r.headers and "location" not in r.headers
    assert result_of(r.text) == "allowed"
    code = re.search(r'<code id="login-code">([^<]+)</code>', r.text)
    assert code, r.text
    tokens = await exchange(runtime, request, html.unescape(code.group(1)), DpopKey())
    assert tokens.principal_arn == f"arn:aws:iam::{acme}:user/alice"
    # Deny: no code
    denied_request = CliRequest.new(CROSS_DEVICE, CODE_PAGE)
    r = await decide(client, await confirm_path(client, denied_request), "deny")
    assert r.status_code == 200 and result_of(r.text) == "denied" and 'id="login-code"' not in r.text


async def test_the_code_page_opened_by_hand_explains_itself_and_echoes_nothing(client: httpx.AsyncClient,
                                                                               runtime: Runtime) -> None:
    r = await client.get("/v1/authorize/code?code=PASTE-ME-EVIL&state=s&error=x")
    assert r.status_code == 200 and 'id="code-page"' in r.text
    shown = r.text.split("<main>", 1)[1]  # (the language link keeps the query, as on every page)
    assert "PASTE-ME-EVIL" not in shown and 'id="login-code"' not in shown
    assert t("cli_login.code_page_title") in html.unescape(r.text)


async def test_pages_in_traditional_chinese(client: httpx.AsyncClient, runtime: Runtime, acme: str) -> None:
    await sign_in_iam(client)
    confirm = await confirm_path(client, CliRequest.new())
    page = await client.get(confirm + "&lang=zh-TW")
    assert page.status_code == 200
    assert Translator("zh-TW")("cli_login.confirm_title") in html.unescape(page.text)
    security = await client.get("/console/security")
    assert Translator("zh-TW")("security.sessions") in html.unescape(security.text)
