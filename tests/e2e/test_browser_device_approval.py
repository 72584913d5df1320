"""The CLI sign-in's approval pages in Chromium against the live server, the grants started with unsigned boto3
`sso-oidc` clients as the CLI starts them: the complete verification URI -> portal sign-in (password, mailed code,
the MFA device the instance requires) -> back to the confirmation -> Allow -> CreateToken gives a token the SSO
portal API accepts; a typed code -> Deny -> AccessDeniedException; and `/authorize` (PKCE) -> Allow -> the
browser lands on a loopback listener with the code and state, which CreateToken exchanges. Screenshots are saved
as artifacts."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import botocore.config
import pyotp
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from playwright.sync_api import Page

from e2e.browser_support import Site, identity_center_admin, run_async
from vestibule.core import oauth
from vestibule.runtime import Runtime
from vestibule.services.identity_center import directory, instances
from vestibule.services.identity_center import settings as ic_settings

PASSWORD = "Device approval pass 4"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REGION = "us-east-1"


@dataclass
class World:
    account_id: str
    store: str
    user: str
    email: str
    start_url: str
    oidc: Any  # unsigned boto3 sso-oidc client
    portal: Any  # unsigned boto3 sso client


def _unsigned(site: Site, service: str) -> Any:
    config = botocore.config.Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 1})
    return boto3.client(service, endpoint_url=site.url, region_name=REGION, config=config)


def _world(site: Site, user: str, *, require_device: bool) -> World:
    """An account with an Identity Center instance (made through boto3), a user with a password, assigned a
    permission set in the account; `require_device`: the instance's default, a user registers an MFA device
    first; otherwise a mailed code is the second step."""

    account_id, sso, ids = identity_center_admin(site, user, REGION)
    instance = sso.create_instance(Name="cli")["InstanceArn"]
    store = sso.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    email = f"{user}@example.com"
    user_id = ids.create_user(IdentityStoreId=store, UserName=user, DisplayName=user.title(),
                              Name={"GivenName": user, "FamilyName": "Tester"},
                              Emails=[{"Value": email, "Primary": True}])["UserId"]
    ps_arn = sso.create_permission_set(InstanceArn=instance, Name="Developers",
                                       SessionDuration="PT1H")["PermissionSet"]["PermissionSetArn"]
    sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn,
                                                ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sso.create_account_assignment(InstanceArn=instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=ps_arn, PrincipalType="USER", PrincipalId=user_id)

    async def password_and_settings(rt: Runtime) -> None:
        async with rt.deps.store.unit() as uow:
            await directory.set_password(uow, store, user_id, rt.deps.hasher.hash(PASSWORD), must_change=False,
                                         now=rt.deps.clock())
            if not require_device:
                row = await instances.require(uow, instance_arn=instance)
                current = instances.of_row(row).settings
                await instances.set_settings(uow, row, ic_settings.changed(current, no_mfa_device="EMAIL_CODE"))

    run_async(site.settings, password_and_settings)
    return World(account_id, store, user, email, f"{site.url}/portal/{store}/start", _unsigned(site, "sso-oidc"),
                 _unsigned(site, "sso"))


def _sign_in_to_approve(site: Site, page: Page, world: World, step: str) -> None:
    """On the portal's sign-in page the approval sent the browser to: user name, password, the mailed code."""
    page.wait_for_url(re.compile(rf"/portal/{world.store}/start$"))
    assert page.locator("#sign-in-to-approve").is_visible()
    page.fill("input[name=username]", world.user)
    site.shot(page, f"{step}-portal-sign-in")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.fill("input[name=password]", PASSWORD)
    site.solve_captcha_if_shown(page)
    mails = len(site.smtp.messages)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=verification_code]")
    _, code = site.smtp.wait_for(world.email, r"verification code is: (\d{6})", after=mails)
    page.fill("input[name=verification_code]", code)
    site.shot(page, f"{step}-mailed-code")
    page.get_by_role("button", name="Submit").click()


def _register_required_device(site: Site, page: Page, step: str) -> None:
    page.wait_for_url(re.compile(r"/mfa\?required=1"))
    assert page.locator("#mfa-required").is_visible()
    site.shot(page, f"{step}-mfa-required")
    page.click("#register-mfa")
    page.wait_for_url(re.compile(r"/mfa\?flow="))
    totp = pyotp.TOTP(page.locator("#mfa-secret").get_attribute("data-secret") or "")
    page.fill("input[name=device_name]", "phone")
    page.fill("input[name=mfa_code]", totp.at(time.time() - 30))
    page.fill("input[name=mfa_code_2]", totp.now())
    site.shot(page, f"{step}-register-totp")
    page.get_by_role("button", name=re.compile(".")).last.click()


def _confirmation(site: Site, page: Page, client_name: str, step: str) -> None:
    page.wait_for_url(re.compile(r"/device/confirm\?flow="))
    assert page.locator("#client-name").inner_text() == client_name
    assert page.locator("#scopes").inner_text() == "sso:account:access"
    assert page.locator("#requested-from").inner_text() == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", page.locator("#requested-at").inner_text())
    site.shot(page, f"{step}-confirm")


def _register(world: World, name: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("grantTypes", [DEVICE_GRANT, "refresh_token"])
    registered: dict[str, Any] = world.oidc.register_client(clientName=name, clientType="public",
                                                            scopes=["sso:account:access"],
                                                            issuerUrl=world.start_url, **kw)
    return registered


def _error_code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


@pytest.mark.browser
def test_device_code_allow_after_sign_in_and_required_mfa_device(site: Site) -> None:
    world = _world(site, "dora", require_device=True)
    app = _register(world, "dora-laptop")
    started = world.oidc.start_device_authorization(clientId=app["clientId"], clientSecret=app["clientSecret"],
                                                    startUrl=world.start_url)
    assert started["verificationUri"] == f"{site.url}/device"
    with pytest.raises(ClientError) as pending:
        world.oidc.create_token(clientId=app["clientId"], clientSecret=app["clientSecret"], grantType=DEVICE_GRANT,
                                deviceCode=started["deviceCode"])
    assert _error_code(pending.value) == "AuthorizationPendingException"
    page = site.new_browser()
    page.goto(started["verificationUriComplete"])  # what the CLI opens or prints
    _sign_in_to_approve(site, page, world, "device")
    _register_required_device(site, page, "device")
    _confirmation(site, page, "dora-laptop", "device")
    assert page.locator("#user-code").inner_text() == started["userCode"]
    assert page.locator("#portal-user").inner_text() == "Dora"
    page.click("#allow")
    page.wait_for_selector("#result[data-result=allowed]")
    site.shot(page, "device-allowed")
    time.sleep(started["interval"])  # a polite poll, as the CLI waits between polls
    token = world.oidc.create_token(clientId=app["clientId"], clientSecret=app["clientSecret"],
                                    grantType=DEVICE_GRANT, deviceCode=started["deviceCode"])
    assert token["tokenType"] == "Bearer" and token["refreshToken"]
    listed = world.portal.list_accounts(accessToken=token["accessToken"])["accountList"]
    assert [a["accountId"] for a in listed] == [world.account_id]
    # the code was used: the page says so when the link is opened again
    page.goto(started["verificationUriComplete"])
    assert page.locator("#error").inner_text() != "" and page.locator("input[name=user_code]").count() == 1
    site.shot(page, "device-code-used")


@pytest.mark.browser
def test_typed_code_deny(site: Site) -> None:
    world = _world(site, "erin", require_device=False)
    app = _register(world, "erin-laptop")
    started = world.oidc.start_device_authorization(clientId=app["clientId"], clientSecret=app["clientSecret"],
                                                    startUrl=world.start_url)
    page = site.new_browser()
    page.goto("/device")
    site.shot(page, "deny-enter-code")
    page.fill("input[name=user_code]", "BCDF-BCDF" if started["userCode"] != "BCDF-BCDF" else "GHJK-GHJK")
    page.get_by_role("button", name="Next").click()
    assert page.locator("#error").is_visible()  # a wrong code: the form again with a message
    site.shot(page, "deny-wrong-code")
    page.fill("input[name=user_code]", started["userCode"].lower().replace("-", ""))
    page.get_by_role("button", name="Next").click()
    _sign_in_to_approve(site, page, world, "deny")
    _confirmation(site, page, "erin-laptop", "deny")
    page.click("#deny")
    page.wait_for_selector("#result[data-result=denied]")
    site.shot(page, "deny-denied")
    time.sleep(started["interval"])
    with pytest.raises(ClientError) as denied:
        world.oidc.create_token(clientId=app["clientId"], clientSecret=app["clientSecret"], grantType=DEVICE_GRANT,
                                deviceCode=started["deviceCode"])
    assert _error_code(denied.value) == "AccessDeniedException"


class _Listener:
    """The CLI's loopback listener: records the callback's query and answers a page."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/oauth/callback":
                    outer.queries.append(parse_qs(parts.query))
                body = b"<!doctype html><title>CLI</title><p id=cli-done>You may close this window.</p>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    served = _Listener()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.mark.browser
def test_authorize_pkce_allow_lands_on_the_loopback_listener(site: Site, listener: _Listener) -> None:
    world = _world(site, "fay", require_device=False)
    app = _register(world, "fay-cli-v2", grantTypes=["authorization_code", "refresh_token"],
                    redirectUris=["http://127.0.0.1/oauth/callback"])
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    redirect_uri = f"http://127.0.0.1:{listener.port}/oauth/callback"
    query = urlencode({"response_type": "code", "client_id": app["clientId"], "redirect_uri": redirect_uri,
                       "state": state, "code_challenge_method": "S256", "scopes": "sso:account:access",
                       "code_challenge": oauth.s256_challenge(verifier)})
    page = site.new_browser()
    page.goto(f"/authorize?{query}")
    _sign_in_to_approve(site, page, world, "pkce")
    _confirmation(site, page, "fay-cli-v2", "pkce")
    assert page.locator("#user-code").count() == 0
    page.click("#allow")
    page.wait_for_url(re.compile(rf"^http://127\.0\.0\.1:{listener.port}/oauth/callback\?"))
    page.wait_for_selector("#cli-done")
    site.shot(page, "pkce-loopback")
    assert len(listener.queries) == 1 and listener.queries[0]["state"] == [state]
    token = world.oidc.create_token(clientId=app["clientId"], clientSecret=app["clientSecret"],
                                    grantType="authorization_code", code=listener.queries[0]["code"][0],
                                    redirectUri=redirect_uri, codeVerifier=verifier)
    listed = world.portal.list_accounts(accessToken=token["accessToken"])["accountList"]
    assert [a["accountId"] for a in listed] == [world.account_id]
