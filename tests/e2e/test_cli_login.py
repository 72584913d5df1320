"""Console credentials for the command line as a user gets them, against the live server: `vestibule login` runs as
a subprocess (its own HOME and AWS_CONFIG_FILE, no server settings, a database URL that answers nothing), Chromium
signs in to the console as an IAM user with a TOTP device and allows the command line; then the unmodified `aws`
command (awscli v1) and boto3 use the profile, botocore refreshes the credentials itself through POST /v1/token
with its own DPoP proof, an administrator's BatchRevokeSessions ends the login (the credentials stop working and
the next refresh is refused with botocore's message), `vestibule logout` cleans up, and --remote logs in with a
pasted code and logs out at the server."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pyotp
import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site, run_async
from e2e.terminal_support import Running, client_env
from vestibule.client.login import CROSS_DEVICE, SAME_DEVICE, pin_endpoint
from vestibule.runtime import Runtime
from vestibule.services import access_keys, audit

BIN = Path(sys.executable).parent
PROFILE = "dev"
PASSWORD = "Command line pass phrase 9"
REGION = "eu-central-1"


# ---- the account, its administrator and the IAM user -------------------------------------------------

@dataclass
class World:
    account_id: str
    alias: str
    user: str
    secret: str  # the user's TOTP seed
    last_step: int  # the last TOTP step used (at enrolment)
    admin: dict[str, str]  # the root user's access key: endpoint_url, region_name, keys

    @property
    def user_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{self.user}"

    def client(self, service: str) -> Any:
        made = boto3.client(service, **self.admin)
        return pin_endpoint(made, self.admin["endpoint_url"]) if service == "signin" else made


def _world(site: Site, user: str) -> World:
    """An account with an alias, its root user's access key (the administrator), and an IAM user with a console
    password, a virtual MFA device and a policy that allows command-line login only with MFA."""
    account = site.create_account(f"owner-{user}@example.com", "Owner pass phrase 1", alias=f"{user}-team")

    async def key(rt: Runtime) -> tuple[str, str]:
        async with rt.deps.store.unit() as uow:
            made = await access_keys.create(rt.deps, uow, account.account_id, f"root:{account.account_id}")
        return made.access_key_id, made.secret_access_key

    key_id, secret_key = run_async(site.settings, key)
    admin = {"endpoint_url": site.url, "region_name": REGION, "aws_access_key_id": key_id,
             "aws_secret_access_key": secret_key}
    iam = boto3.client("iam", **admin)
    iam.create_user(UserName=user)
    iam.create_login_profile(UserName=user, Password=PASSWORD, PasswordResetRequired=False)
    arn = f"arn:aws:iam::{account.account_id}:user/{user}"
    iam.put_user_policy(UserName=user, PolicyName="command-line", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"],
                       "Resource": arn, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-phone")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    totp, now = pyotp.TOTP(seed), time.time()
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"], AuthenticationCode1=totp.at(now - 30),
                          AuthenticationCode2=totp.at(now))
    return World(account.account_id, f"{user}-team", user, seed, int(now // 30), admin)


def _token_grants(site: Site, world: World) -> list[str]:
    """The account's audited CreateOAuth2Token calls, oldest first: (result) per call."""
    async def read(rt: Runtime) -> list[str]:
        async with rt.deps.store.unit() as uow:
            rows = await uow.audit.for_account(world.account_id, 500)
        return [str(audit.as_dict(row)["result"]) for row in sorted(rows, key=lambda row: row.at)
                if row.event == "CreateOAuth2Token"]

    return run_async(site.settings, read)


# ---- the user's computer -------------------------------------------------------------------------

@dataclass
class Computer:
    home: Path
    config: Path
    server: str

    def env(self) -> dict[str, str]:
        """client_env() without AWS_ENDPOINT_URL (the profile names the server), and no shared credentials file."""
        env = client_env(self.home, self.config)
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(self.home / "no-credentials")
        return env

    def cache_file(self, session_name: str) -> Path:
        return self.home / ".aws" / "login" / "cache" / f"{hashlib.sha256(session_name.encode()).hexdigest()}.json"

    def vestibule(self, *args: str) -> Running:
        return Running([sys.executable, "-m", "vestibule.cli", *args], self.env(), stdin=subprocess.PIPE)

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env=self.env(), capture_output=True, text=True, timeout=120)

    def aws_identity(self) -> subprocess.CompletedProcess[str]:
        return self.run([str(BIN / "aws"), "sts", "get-caller-identity", "--profile", PROFILE, "--output", "json"])

    def boto3_identity(self) -> subprocess.CompletedProcess[str]:
        script = (f"import boto3; print(boto3.Session(profile_name={PROFILE!r}).client('sts')"
                  ".get_caller_identity()['Arn'])")
        return self.run([sys.executable, "-c", script])


@pytest.fixture
def computer(tmp_path: Path, site: Site) -> Iterator[Computer]:
    home = tmp_path / "home"
    home.mkdir()
    yield Computer(home, tmp_path / "aws-config" / "config", site.url)


def _expire(path: Path, at: datetime) -> dict[str, Any]:
    """Move the cached credentials' expiry, as time passing would; the file's new content."""
    token = dict(json.loads(path.read_text()))
    token["accessToken"]["expiresAt"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(token))
    return token


# ---- the browser -----------------------------------------------------------------------------------

def _sign_in_and_allow(site: Site, page: Page, world: World, url: str) -> None:
    """The URL the CLI printed, signed out: the console's IAM user sign-in with the TOTP code, back to the
    confirmation page, Allow."""
    page.goto(url)
    page.wait_for_url(f"{site.url}/")
    assert page.locator("#sign-in-to-allow").is_visible()
    page.check("input[name=user_type][value=iam]")
    page.fill("input[name=account]", world.alias)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(f"{site.url}/{world.alias}/console")
    page.fill("input[name=username]", world.user)
    page.fill("input[name=password]", PASSWORD)
    site.solve_captcha_if_shown(page)
    site.shot(page, "login-iam-sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=mfa_code]")
    # a code of the step after those used at enrolment (codes are accepted once per step, one step either side)
    page.fill("input[name=mfa_code]", pyotp.TOTP(world.secret).at((world.last_step + 1) * 30))
    site.shot(page, "login-mfa")
    page.get_by_role("button", name="Submit").click()
    _allow(site, page, world, "login")


def _allow(site: Site, page: Page, world: World, step: str) -> None:
    page.wait_for_url(re.compile(r"/v1/authorize/confirm\?request="))
    assert page.locator("#principal-arn").inner_text() == world.user_arn
    site.shot(page, f"{step}-confirm")
    page.click("#allow")


# ---- the test ------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_login_aws_cli_boto3_refresh_revoke_logout_and_remote(site: Site, computer: Computer) -> None:
    world = _world(site, "alice")
    computer.config.parent.mkdir()
    computer.config.write_text("# mine\n[profile other]\nregion = eu-west-1\n")

    # 1. login: the browser signs in with TOTP and allows; the code comes back to the loopback listener
    login = computer.vestibule("login", "--profile", PROFILE, "--no-browser", "--endpoint-url", site.url,
                               "--region", REGION)
    url = login.wait_for(r"(http://\S+/v1/authorize\?\S+)").group(1)
    assert "code_challenge_method=SHA-256" in url and "client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device" \
        in url and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url, url
    page = site.new_browser()
    _sign_in_and_allow(site, page, world, url)
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/oauth/callback\?"))
    assert "return to your terminal" in page.content()
    site.shot(page, "login-loopback")
    assert login.finish() == 0, login.text
    assert f"Signed in as {world.user_arn} (account {world.account_id})." in login.text, login.text
    assert re.search(r"The login session lasts until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", login.text), login.text

    cache = computer.cache_file(world.user_arn)
    token = json.loads(cache.read_text())
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    assert set(token) == {"accessToken", "refreshToken", "dpopKey", "clientId", "signInRegion", "sessionArn",
                          "endpointUrl"}
    assert token["accessToken"]["accountId"] == world.account_id and token["clientId"] == SAME_DEVICE
    assert token["signInRegion"] == REGION and token["endpointUrl"] == site.url
    assert re.fullmatch(rf"arn:aws:signin::{world.account_id}:session/[0-9a-f]{{32}}", token["sessionArn"])
    assert token["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert computer.config.read_text() == (
        "# mine\n[profile other]\nregion = eu-west-1\n\n"
        f"[profile {PROFILE}]\nlogin_session = {world.user_arn}\nregion = {REGION}\nendpoint_url = {site.url}\n")

    # 2. the unmodified aws command and boto3 are the IAM user (no access key of theirs anywhere)
    done = computer.aws_identity()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == world.user_arn and json.loads(done.stdout)["Account"] == world.account_id
    done = computer.boto3_identity()
    assert done.returncode == 0 and done.stdout.strip() == world.user_arn, done.stderr
    assert _token_grants(site, world) == ["Success"], "no refresh while the credentials are fresh"

    # the administrator sees the login session among the user's
    signin = world.client("signin")
    listed = signin.list_sessions(principalArn=world.user_arn)["items"]
    ours = [s for s in listed if s["sessionArn"] == token["sessionArn"]]
    assert len(ours) == 1 and ours[0]["status"] == "ACTIVE" and ours[0].get("clientId") == SAME_DEVICE, listed

    # 3. near expiry: botocore refreshes through POST /v1/token with a DPoP proof of the cached key
    before = _expire(cache, datetime.now(UTC) + timedelta(minutes=2))
    done = computer.boto3_identity()
    assert done.returncode == 0 and done.stdout.strip() == world.user_arn, done.stderr
    refreshed = json.loads(cache.read_text())
    assert refreshed["refreshToken"] != before["refreshToken"], "refresh tokens rotate"
    assert refreshed["accessToken"]["accessKeyId"] != before["accessToken"]["accessKeyId"]
    assert refreshed["dpopKey"] == before["dpopKey"] and refreshed["sessionArn"] == before["sessionArn"]
    assert datetime.fromisoformat(refreshed["accessToken"]["expiresAt"].replace("Z", "+00:00")) > datetime.now(
        UTC) + timedelta(minutes=10)
    assert _token_grants(site, world) == ["Success", "Success"]
    done = computer.aws_identity()  # and the aws command takes the refreshed credentials as they are
    assert done.returncode == 0 and json.loads(done.stdout)["Arn"] == world.user_arn, done.stderr

    # 4. the administrator ends the login: its credentials stop working at once, and the next refresh is refused
    revoked = signin.batch_revoke_sessions(sessionArns=[token["sessionArn"]], reason="laptop lost")
    assert [s["sessionArn"] for s in revoked["revokedSessions"]] == [token["sessionArn"]], revoked
    done = computer.aws_identity()
    assert done.returncode != 0, done.stdout
    _expire(cache, datetime.now(UTC) - timedelta(minutes=1))
    done = computer.aws_identity()
    assert done.returncode != 0, done.stdout
    assert "Your session has expired or credentials have changed. Please reauthenticate using 'aws login'." \
        in done.stderr, done.stderr

    # 5. logout after that: the server says it has ended; the cache file and login_session go
    out = computer.vestibule("logout", "--profile", PROFILE)
    assert out.finish() == 0, out.text
    assert f"The login session of {world.user_arn} had already ended at the server" in out.text, out.text
    assert not cache.exists()
    assert computer.config.read_text().endswith(f"[profile {PROFILE}]\nregion = {REGION}\nendpoint_url = {site.url}\n")

    # 6. --remote: the browser (still signed in to the console) allows and shows a code, pasted into the terminal
    remote = computer.vestibule("login", "--profile", PROFILE, "--remote")  # the server from the profile
    url = remote.wait_for(r"(http://\S+/v1/authorize\?\S+)").group(1)
    assert "client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device" in url and \
        f"redirect_uri={site.url.replace(':', '%3A').replace('/', '%2F')}%2Fv1%2Fauthorize%2Fcode" in url, url
    remote.wait_for(r"Paste the code shown in the browser")
    page.goto(url)
    _allow(site, page, world, "remote")
    page.wait_for_selector("#login-code")
    code = page.locator("#login-code").inner_text().strip()
    site.shot(page, "remote-code")
    remote.type(code + "\n")
    assert remote.finish() == 0, remote.text
    assert f"Signed in as {world.user_arn}" in remote.text
    second = json.loads(cache.read_text())
    assert second["clientId"] == CROSS_DEVICE and second["sessionArn"] != token["sessionArn"]
    done = computer.aws_identity()
    assert done.returncode == 0 and json.loads(done.stdout)["Arn"] == world.user_arn, done.stderr

    # 7. logout of a live login: ended at the server, and a copy of the credentials is refused afterwards
    out = computer.vestibule("logout", "--profile", PROFILE)
    assert out.finish() == 0, out.text
    assert f"Signed out: the login session of {world.user_arn} has ended at the server." in out.text, out.text
    assert not cache.exists() and "login_session" not in computer.config.read_text()
    assert signin.get_session(sessionArn=second["sessionArn"])["status"] == "REVOKED"
    cache.write_text(json.dumps(second))  # what another copy of the file would still hold
    computer.config.write_text(computer.config.read_text().replace(
        f"[profile {PROFILE}]\n", f"[profile {PROFILE}]\nlogin_session = {world.user_arn}\n"))
    done = computer.aws_identity()
    assert done.returncode != 0, done.stdout
