"""Every state-changing form needs this browser's CSRF token, and cross-site POSTs are refused."""

from __future__ import annotations

import re

import httpx

from http_steps import (
    ROOT_PASSWORD,
    browser,
    make_account,
    sign_in_root,
    start_root,
)
from support import CaptchaAnswers, csrf_of
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")


async def _signed_in_setup(client: httpx.AsyncClient, runtime: Runtime,
                           mailbox: DevMailbox) -> dict[str, dict[str, str]]:
    """Sign the root user in and collect one realistic form per POST endpoint (without the token)."""
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    # a sign-in flow and a sign-up flow that belong to this browser
    async with runtime.deps.store.unit() as uow:
        from vestibule.core.flows import console_signin, signup
        from vestibule.core.flows.email_codes import EmailCode
        from vestibule.services import flows

        signin_flow = await flows.create(uow, console_signin.SPEC, "x", runtime.deps.clock(),
                                         console_signin.ConsoleSignIn(console_signin.Audience.ROOT, "a@example.com"))
        signup_flow = await flows.create(uow, signup.SPEC, "x", runtime.deps.clock(),
                                         signup.SignUp("b@example.com", "n", "hash", EmailCode("code-hash", 0.0)))
    return {
        "/": {"user_type": "root", "email": "owner@example.com"},
        f"/signin?flow={signin_flow.id}": {"step": "password", "password": ROOT_PASSWORD},
        "/acme/console": {"username": "alice", "password": "whatever pw"},
        "/signup": {"email": "new@example.com", "account_name": "n", "password": "long password 1",
                    "confirm_password": "long password 1", "captcha": "ABCDEF"},
        f"/signup/verify?flow={signup_flow.id}": {"verification_code": "123456"},
        "/recovery": {"email": "owner@example.com", "captcha": "ABCDEF"},
        "/recovery/reset": {"token": "x" * 43, "new_password": "another password",
                            "confirm_password": "another password"},
        "/console/password": {"password": ROOT_PASSWORD, "new_password": "changed password 1",
                              "confirm_password": "changed password 1"},
        "/console/mfa/new": {},
        "/console/mfa/remove": {"serial": "arn:aws:iam::123456789012:mfa/phone", "password": ROOT_PASSWORD},
        "/signout": {},
    }


async def test_every_form_refuses_a_missing_or_foreign_csrf_token(client: httpx.AsyncClient, runtime: Runtime,
                                                                 mailbox: DevMailbox) -> None:
    forms = await _signed_in_setup(client, runtime, mailbox)
    async with browser(runtime, CaptchaAnswers()) as other:
        foreign = csrf_of((await other.get("/")).text)
    own = await client.get("/console")
    assert foreign != csrf_of(own.text)
    for path, fields in forms.items():
        for label, token in (("missing", None), ("empty", ""), ("foreign", foreign), ("garbage", "ab" * 32)):
            data = dict(fields)
            if token is not None:
                data["csrf_token"] = token
            r = await client.post(path, data=data)
            assert r.status_code == 403, f"{path} with {label} token gave {r.status_code}"
            assert t("csrf.failed").replace("'", "&#39;") in r.text, path
    # nothing happened: still signed in, password unchanged, no MFA flow, no mail beyond the sign-in code
    assert (await client.get("/console")).status_code == 200
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.by_email("owner@example.com")
        assert account is not None
        assert runtime.deps.hasher.verify(account.root_password_hash, ROOT_PASSWORD)
    assert len(mailbox.messages) == 1


async def test_csrf_token_works_only_in_the_browser_it_was_given_to(client: httpx.AsyncClient,
                                                                    runtime: Runtime) -> None:
    await make_account(runtime)
    page = await client.get("/")
    token = csrf_of(page.text)
    async with browser(runtime, CaptchaAnswers()) as other:
        r = await other.post("/", data={"csrf_token": token, "user_type": "root", "email": "owner@example.com"})
        assert r.status_code == 403
    r = await client.post("/", data={"csrf_token": token, "user_type": "root", "email": "owner@example.com"})
    assert r.status_code == 303


async def test_cross_site_origin_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                            mailbox: DevMailbox) -> None:
    forms = await _signed_in_setup(client, runtime, mailbox)
    csrf = csrf_of((await client.get("/console")).text)
    for origin in ("https://evil.example", "http://testserver.evil.example", "null", "https://testserver",
                   "http://testserver:8080"):
        for path, fields in forms.items():
            r = await client.post(path, data={"csrf_token": csrf, **fields}, headers={"origin": origin})
            assert r.status_code == 403, f"{path} from {origin} gave {r.status_code}"
    assert (await client.get("/console")).status_code == 200, "the cross-site sign-out did nothing"


async def test_same_origin_post_is_accepted(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    page = await client.get("/")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                     "email": "owner@example.com"}, headers={"origin": "http://testserver"})
    assert r.status_code == 303 and re.match(r"^/signin\?flow=", r.headers["location"])


async def test_cross_site_origin_cannot_sign_in(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    flow_url = await start_root(client)
    page = await client.get(flow_url)
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": ROOT_PASSWORD}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    # the flow is untouched and still at the password step
    page = await client.get(flow_url)
    assert page.status_code == 200 and 'name="password"' in page.text


async def test_oversized_form_is_refused(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                     "email": "a" * (70 * 1024) + "@example.com"})
    assert r.status_code == 413


async def test_iam_start_never_redirects_off_site(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    for account in ("//evil.example", "https://evil.example/x", "/\\evil.example", "acme/../../x"):
        r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "iam", "account": account})
        location = r.headers.get("location", "")
        if r.status_code == 303:
            assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
            assert location.endswith("/console") and location.count("/") == 2, location
