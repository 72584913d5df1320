"""Sign-in from the terminal as a user does it, against the live server: `vestibule sso configure` and
`vestibule sso login` run as subprocesses (their own HOME and AWS_CONFIG_FILE, no server settings, a database URL
that answers nothing), approved in Chromium (portal sign-in, the user code, Allow) or, for the PKCE flow, by an
HTTP client holding the browser's portal cookies that follows /authorize to the loopback listener; then the
unmodified `aws` command (awscli v1) and boto3 use the cached token, botocore refreshes it through CreateToken,
and `vestibule sso logout` ends it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import httpx
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from playwright.sync_api import Page

from e2e.browser_support import Site, identity_center_admin, run_async
from e2e.terminal_support import Running, client_env
from support import csrf_of
from vestibule.client.token_cache import token_key
from vestibule.runtime import Runtime
from vestibule.services.identity_center import instances, portal_users
from vestibule.services.identity_center import settings as ic_settings

PASSWORD = "Terminal pass phrase 4"
BIN = Path(sys.executable).parent
SESSION = "team"  # the [sso-session] name
PROFILE = "dev"


@dataclass
class World:
    account_id: str
    store: str
    user: str
    start_url: str


def _world(site: Site, user: str) -> World:
    """An account with an Identity Center instance (no MFA prompt: the portal's MFA is tested elsewhere), a
    directory user with a one-time password, and the permission set Developers assigned to them."""

    account_id, sso, ids = identity_center_admin(site, user)
    instance = sso.create_instance(Name="cli")["InstanceArn"]
    store = sso.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    user_id = ids.create_user(IdentityStoreId=store, UserName=user, DisplayName=user.title(),
                              Name={"GivenName": user, "FamilyName": "Tester"},
                              Emails=[{"Value": f"{user}@example.com", "Primary": True}])["UserId"]
    ps = sso.create_permission_set(InstanceArn=instance, Name="Developers", SessionDuration="PT1H")
    ps_arn = ps["PermissionSet"]["PermissionSetArn"]
    sso.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps_arn,
                                                ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sso.create_account_assignment(InstanceArn=instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=ps_arn, PrincipalType="USER", PrincipalId=user_id)

    async def prepare(rt: Runtime) -> None:
        async with rt.deps.store.unit() as uow:
            row = await instances.require(uow, instance_arn=instance)
            current = instances.of_row(row).settings
            await instances.set_settings(uow, row, ic_settings.changed(current, mfa_prompt="NEVER"))

    run_async(site.settings, prepare)
    return World(account_id, store, user, f"{site.url}/portal/{store}/start")


def _one_time_password(site: Site, world: World) -> str:
    async def otp(rt: Runtime) -> str:
        return await portal_users.reset_with_one_time_password(rt.deps, world.store, world.user)

    return run_async(site.settings, otp)


# ---- the user's computer -------------------------------------------------------------------------

@dataclass
class Computer:
    home: Path
    config: Path
    server: str

    def env(self, endpoint: bool = True) -> dict[str, str]:
        """client_env() with AWS_ENDPOINT_URL pointing at the server unless `endpoint` is off."""
        env = client_env(self.home, self.config)
        if endpoint:
            env["AWS_ENDPOINT_URL"] = self.server
        return env

    @property
    def token_file(self) -> Path:
        return self.home / ".aws" / "sso" / "cache" / f"{token_key(SESSION)}.json"

    def token(self) -> dict[str, Any]:
        return dict(json.loads(self.token_file.read_text()))

    def vestibule(self, *args: str) -> Running:
        return Running([sys.executable, "-m", "vestibule.cli", "sso", *args], self.env())

    def run(self, args: list[str], endpoint: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env=self.env(endpoint), capture_output=True, text=True, timeout=120)

    def aws_identity(self, endpoint: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run([str(BIN / "aws"), "sts", "get-caller-identity", "--profile", PROFILE, "--output", "json"],
                        endpoint)


@pytest.fixture
def computer(tmp_path: Path, site: Site) -> Iterator[Computer]:
    home = tmp_path / "home"
    home.mkdir()
    yield Computer(home, tmp_path / "aws-config" / "config", site.url)


# ---- the browser -----------------------------------------------------------------------------------

def _sign_in_and_allow(site: Site, page: Page, world: World, one_time: str, step: str) -> None:
    """From a page that sent the browser to the portal's sign-in: one-time password, a new one, back to the
    confirmation page, Allow."""
    page.wait_for_url(re.compile(rf"/portal/{world.store}/start"))
    page.fill("input[name=username]", world.user)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.fill("input[name=password]", one_time)
    site.solve_captcha_if_shown(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=new_password]")
    page.fill("input[name=new_password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    page.get_by_role("button", name="Set password").click()
    _allow(site, page, step)


def _allow(site: Site, page: Page, step: str, allow: bool = True) -> None:
    page.wait_for_url(re.compile(r"/device/confirm\?flow="))
    site.shot(page, f"{step}-confirm")
    page.click("#allow" if allow else "#deny")
    page.wait_for_selector("#result")
    assert page.locator("#result").get_attribute("data-result") == ("allowed" if allow else "denied")
    site.shot(page, f"{step}-result")


def _play_browser(site: Site, page: Page, authorize_url: str, decision: str = "allow") -> httpx.Response:
    """What a browser does with the PKCE URL, by an HTTP client holding the Chromium profile's cookies: /authorize
    -> the confirmation page -> Allow (or Deny) -> the page that goes on (`Refresh`) to the loopback listener."""
    jar = httpx.Cookies()
    for cookie in page.context.cookies():
        jar.set(cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"])
    with httpx.Client(cookies=jar, follow_redirects=False, timeout=30) as browser:
        r = browser.get(authorize_url)
        assert r.status_code in (302, 303) and "/device/confirm?flow=" in r.headers["location"], r.text
        confirm = f"{site.url}{r.headers['location']}"
        page_html = browser.get(confirm)
        assert page_html.status_code == 200 and 'id="allow"' in page_html.text, page_html.text
        form = re.search(r'<form method="post" action="([^"]+)"', page_html.text)
        assert form, page_html.text
        action = unescape(form.group(1))
        answer = browser.post(f"{site.url}{action}" if action.startswith("/") else action,
                              data={"csrf_token": csrf_of(page_html.text), "decision": decision})
        assert answer.status_code == 200, answer.text
        refresh = answer.headers["refresh"]
        loopback = refresh.split("url=", 1)[1]
        assert loopback.startswith("http://127.0.0.1:") and "/oauth/callback?" in loopback
        return browser.get(loopback)


# ---- the tests ---------------------------------------------------------------------------------------

_ARN = r"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Developers_[0-9a-f]{{16}}/{user}"


@pytest.mark.browser
def test_configure_login_aws_cli_refresh_logout(site: Site, computer: Computer) -> None:
    world = _world(site, "terry")
    one_time = _one_time_password(site, world)
    computer.config.parent.mkdir()
    computer.config.write_text("# mine\n[profile other]\nregion = eu-west-1\n")

    # 1. configure with the device flow: the code is approved in Chromium after the portal sign-in
    wizard = computer.vestibule("configure", "--sso-session", SESSION, "--start-url", world.start_url,
                                "--region", "us-east-1", "--profile", PROFILE, "--use-device-code", "--no-browser")
    link = wizard.wait_for(r"open (http://\S+/device\?user_code=([A-Z]{4}-[A-Z]{4})) directly")
    assert f"{site.url}/device\n" in "".join(wizard.out), "the verification URI is shown"
    page = site.new_browser()
    page.goto(link.group(1))
    _sign_in_and_allow(site, page, world, one_time, "configure")
    assert wizard.finish() == 0, wizard.text
    assert "Account: " in wizard.text and "Role: Developers (the only one)" in wizard.text
    config = computer.config.read_text()
    assert config.startswith("# mine\n[profile other]\nregion = eu-west-1\n"), config
    assert (f"[sso-session {SESSION}]\nsso_start_url = {world.start_url}\nsso_region = us-east-1\n"
            "sso_registration_scopes = sso:account:access\n") in config
    assert (f"[profile {PROFILE}]\nsso_session = {SESSION}\nsso_account_id = {world.account_id}\n"
            f"sso_role_name = Developers\nregion = us-east-1\nservices = {SESSION}\n") in config
    token = computer.token()
    assert set(token) == {"startUrl", "region", "accessToken", "expiresAt", "refreshToken", "clientId",
                          "clientSecret", "registrationExpiresAt"}
    assert token["startUrl"] == world.start_url and token["region"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", token["expiresAt"])
    assert oct(computer.token_file.stat().st_mode & 0o777) == "0o600"

    # 2. the unmodified aws command: with AWS_ENDPOINT_URL, and with only the profile's [services] section
    arn = _ARN.format(account=world.account_id, user=world.user)
    for endpoint in (True, False):
        done = computer.aws_identity(endpoint)
        assert done.returncode == 0, done.stderr
        assert re.fullmatch(arn, json.loads(done.stdout)["Arn"]), done.stdout

    # 3. login again with the device flow; the browser is signed in already: type the code, Allow
    login = computer.vestibule("login", "--profile", PROFILE, "--use-device-code", "--no-browser")
    code = login.wait_for(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})").group(1)
    page.goto("/device")
    page.fill("input[name=user_code]", code.lower().replace("-", ""))  # RFC 8628 6.1: case and dash do not matter
    site.shot(page, "login-code")
    page.click("#next")
    _allow(site, page, "login")
    assert login.finish() == 0, login.text
    second = computer.token()
    assert second["accessToken"] != token["accessToken"]
    assert second["clientId"] == token["clientId"], "the registration is reused until it expires"

    # 4. login with PKCE: the test plays the browser, following /authorize to the loopback listener
    pkce = computer.vestibule("login", "--profile", PROFILE, "--no-browser")
    url = pkce.wait_for(r"(http://\S+/authorize\?\S+)").group(1)
    assert "code_challenge_method=S256" in url and "response_type=code" in url
    landed = _play_browser(site, page, url)
    assert landed.status_code == 200 and "return to your terminal" in landed.text
    assert pkce.finish() == 0, pkce.text
    third = computer.token()
    assert third["accessToken"] not in (token["accessToken"], second["accessToken"])
    done = computer.aws_identity()
    assert done.returncode == 0 and re.fullmatch(arn, json.loads(done.stdout)["Arn"]), done.stderr

    # 5. near expiry: boto3 (botocore's SSOTokenProvider) refreshes the token through CreateToken
    third["expiresAt"] = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    computer.token_file.write_text(json.dumps(third))
    script = (f"import boto3; print(boto3.Session(profile_name={PROFILE!r}).client('sts')"
              ".get_caller_identity()['Arn'])")
    done = computer.run([sys.executable, "-c", script])
    assert done.returncode == 0 and re.fullmatch(arn, done.stdout.strip()), done.stderr
    refreshed = computer.token()
    assert refreshed["accessToken"] != third["accessToken"]
    assert refreshed["refreshToken"] != third["refreshToken"], "refresh tokens rotate"
    assert datetime.fromisoformat(refreshed["expiresAt"].replace("Z", "+00:00")) > datetime.now(UTC) + timedelta(
        minutes=30)

    # 6. logout: the server revokes the token, the cache file goes, and the tools say to sign in again
    out = computer.vestibule("logout", "--profile", PROFILE)
    assert out.finish() == 0, out.text
    assert "Signed out of [sso-session team]" in out.text and not computer.token_file.exists()
    portal = boto3.client("sso", endpoint_url=site.url, region_name="us-east-1",
                          config=botocore.config.Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError) as refused:
        portal.get_role_credentials(roleName="Developers", accountId=world.account_id,
                                    accessToken=refreshed["accessToken"])
    assert refused.value.response["Error"]["Code"] == "UnauthorizedException"
    done = computer.aws_identity()
    assert done.returncode != 0 and "Token for team does not exist" in done.stderr, done.stderr
    computer.token_file.write_text(json.dumps(refreshed))  # the revoked token, as another copy would hold it
    done = computer.aws_identity()
    assert done.returncode != 0, done.stdout
    assert "SSO session associated with this profile has expired or is otherwise invalid" in done.stderr
    assert "sso login" in done.stderr, done.stderr
    page.goto(f"/portal/{world.store}/")
    page.wait_for_url(re.compile(rf"/portal/{world.store}/start"))  # Logout ended the portal session as well
    site.shot(page, "portal-after-logout")


@pytest.mark.browser
def test_denied_wrong_start_url_and_no_profile(site: Site, computer: Computer) -> None:
    world = _world(site, "dana")
    one_time = _one_time_password(site, world)
    computer.config.parent.mkdir()
    wrong = f"{site.url}/portal/d-0000000000/start"
    computer.config.write_text(
        f"[profile {PROFILE}]\nsso_session = {SESSION}\nsso_account_id = {world.account_id}\n"
        f"sso_role_name = Developers\nregion = us-east-1\n"
        f"[sso-session {SESSION}]\nsso_start_url = {world.start_url}\nsso_region = us-east-1\n"
        f"[sso-session nowhere]\nsso_start_url = {wrong}\nsso_region = us-east-1\n")

    for flow in ([], ["--use-device-code"]):
        run = computer.vestibule("login", "--sso-session", "nowhere", "--no-browser", *flow)
        assert run.finish() == 4, run.text
        assert "no access portal at" in run.text and "sso_start_url of [sso-session nowhere]" in run.text

    missing = computer.vestibule("login", "--profile", "nobody")
    assert missing.finish() == 3 and "no profile 'nobody'" in missing.text

    # the device flow, denied in the browser
    login = computer.vestibule("login", "--profile", PROFILE, "--use-device-code", "--no-browser")
    link = login.wait_for(r"open (http://\S+/device\?user_code=[A-Z]{4}-[A-Z]{4}) directly").group(1)
    page = site.new_browser()
    page.goto(link)
    page.wait_for_url(re.compile(rf"/portal/{world.store}/start"))
    page.fill("input[name=username]", world.user)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/signin\?flow="))
    page.fill("input[name=password]", one_time)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=new_password]")
    page.fill("input[name=new_password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    page.get_by_role("button", name="Set password").click()
    _allow(site, page, "deny-device", allow=False)
    assert login.finish() == 6, login.text
    assert "denied in the browser" in login.text and not computer.token_file.exists()

    # the PKCE flow, denied
    pkce = computer.vestibule("login", "--profile", PROFILE, "--no-browser")
    url = pkce.wait_for(r"(http://\S+/authorize\?\S+)").group(1)
    landed = _play_browser(site, page, url, decision="deny")
    assert landed.status_code == 200 and "You chose Deny" in landed.text
    assert pkce.finish() == 6, pkce.text
    assert not computer.token_file.exists()
