"""The unmodified `aws` command (awscli, with its own vendored botocore: a second, independent
client) against a live server, configured only through environment variables."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyotp
import pytest

from integration.aws.aws_world import Account, AwsWorld, Keys

AWS = Path(sys.executable).parent / "aws"  # the `awscli` package is a test dependency (pyproject.toml)


def _service_error_rc() -> int:
    """The exit code for an error answered by the service: 255 in AWS CLI v1 (the `awscli` package,
    `clidriver.ServiceOperation` -> `ClientError` -> 255), 254 in AWS CLI v2."""
    import awscli

    return 255 if awscli.__version__.startswith("1.") else 254


SERVICE_ERROR = _service_error_rc()


class Cli:
    def __init__(self, world: AwsWorld, home: Path) -> None:
        self.world = world
        self.home = home
        config = home / "config"
        config.write_text("[default]\noutput = json\n")
        self.base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_ENDPOINT_URL": world.url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "PYTHONWARNINGS": "ignore",
        }

    def run(self, keys: Keys, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**self.base, "AWS_ACCESS_KEY_ID": keys.access_key_id, "AWS_SECRET_ACCESS_KEY": keys.secret_access_key}
        if keys.session_token:
            env["AWS_SESSION_TOKEN"] = keys.session_token
        return subprocess.run([str(AWS), *args], env=env, capture_output=True, text=True, timeout=60, check=False,
                              cwd=self.home)

    def ok(self, keys: Keys, *args: str) -> Any:
        done = self.run(keys, *args)
        assert done.returncode == 0, f"aws {' '.join(args)}: exit {done.returncode}\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def cli(world: AwsWorld, tmp_path: Path) -> Cli:
    return Cli(world, tmp_path)


def test_cli_end_to_end(world: AwsWorld, account: Account, cli: Cli, tmp_path: Path) -> None:
    root = account.root
    me = cli.ok(root, "sts", "get-caller-identity")
    assert me == {"UserId": account.account_id, "Account": account.account_id, "Arn": account.root_arn}

    user = cli.ok(root, "iam", "create-user", "--user-name", "cli-user", "--tags", "Key=made-by,Value=cli")["User"]
    assert user["Arn"] == account.user_arn("cli-user") and user["UserId"].startswith("AIDA")
    profile = cli.ok(root, "iam", "create-login-profile", "--user-name", "cli-user", "--password",
                     "cli password 1", "--password-reset-required")["LoginProfile"]
    assert profile["UserName"] == "cli-user" and profile["PasswordResetRequired"] is True
    key = cli.ok(root, "iam", "create-access-key", "--user-name", "cli-user")["AccessKey"]
    assert key["UserName"] == "cli-user" and key["Status"] == "Active" and key["AccessKeyId"].startswith("AKIA")
    user_keys = Keys.of(key)
    assert cli.ok(user_keys, "sts", "get-caller-identity")["Arn"] == account.user_arn("cli-user")

    # virtual MFA: the seed (and the QR code) written to files by the CLI, then two codes from pyotp
    seed_file = tmp_path / "seed.txt"
    device = cli.ok(root, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "cli-user",
                    "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{account.account_id}:mfa/cli-user"
    totp = pyotp.TOTP(seed_file.read_text().strip())
    png_file = tmp_path / "qr.png"
    cli.ok(root, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "spare",
           "--outfile", str(png_file), "--bootstrap-method", "QRCodePNG")
    assert png_file.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # the codes of this step and the one before; the session below takes the next step's code: each stays within
    # the server's window of one step either side even when a step ends while the CLI starts (about 2 s)
    now = world.clock()
    cli.ok(root, "iam", "enable-mfa-device", "--user-name", "cli-user", "--serial-number", serial,
           "--authentication-code1", totp.at(now - 30), "--authentication-code2", totp.at(now))
    devices = cli.ok(root, "iam", "list-mfa-devices", "--user-name", "cli-user")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [serial]

    code = totp.at(now + 30)
    session = cli.ok(user_keys, "sts", "get-session-token", "--serial-number", serial,
                     "--token-code", code, "--duration-seconds", "900")["Credentials"]
    assert session["AccessKeyId"].startswith("ASIA") and session["SessionToken"] and session["Expiration"]
    session_keys = Keys.of(session)
    assert cli.ok(session_keys, "sts", "get-caller-identity")["Arn"] == account.user_arn("cli-user")
    replay = cli.run(user_keys, "sts", "get-session-token", "--serial-number", serial, "--token-code", code)
    assert replay.returncode == SERVICE_ERROR and "AccessDenied" in replay.stderr

    # a role trusting the user, assumed from the CLI
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": account.user_arn("cli-user")}, "Action": "sts:AssumeRole"}]}))
    role = cli.ok(root, "iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document",
                  f"file://{trust}", "--max-session-duration", "7200")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account.account_id}:role/cli-role" and role["MaxSessionDuration"] == 7200
    cli.ok(root, "iam", "attach-role-policy", "--role-name", "cli-role", "--policy-arn",
           "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assumed = cli.ok(user_keys, "sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "from-cli",
                     "--duration-seconds", "7200")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.account_id}:assumed-role/cli-role/from-cli"
    role_keys = Keys.of(assumed["Credentials"])
    assert cli.ok(role_keys, "sts", "get-caller-identity")["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    users = cli.ok(role_keys, "iam", "list-users")["Users"]
    assert [u["UserName"] for u in users] == ["cli-user"]
    too_long = cli.run(user_keys, "sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "x1",
                       "--duration-seconds", "7201")
    assert too_long.returncode == SERVICE_ERROR and "ValidationError" in too_long.stderr


def test_cli_access_denied_for_a_user_without_permissions(world: AwsWorld, account: Account, cli: Cli) -> None:
    keys = world.api_user(account, "powerless")
    done = cli.run(keys, "iam", "list-users")
    assert done.returncode == SERVICE_ERROR, done
    assert "An error occurred (AccessDenied) when calling the ListUsers operation" in done.stderr
    assert (f"User: {account.user_arn('powerless')} is not authorized to perform: iam:ListUsers on resource: "
            f"arn:aws:iam::{account.account_id}:user/") in done.stderr
    done = cli.run(keys, "iam", "create-user", "--user-name", "other")
    assert done.returncode == SERVICE_ERROR
    assert f"iam:CreateUser on resource: {account.user_arn('other')}" in done.stderr
    # and errors of the signature check
    wrong = cli.run(Keys(keys.access_key_id, "w" * 40), "sts", "get-caller-identity")
    assert wrong.returncode == SERVICE_ERROR and "SignatureDoesNotMatch" in wrong.stderr
    unknown = cli.run(Keys("AKIA" + "Y" * 16, "w" * 40), "sts", "get-caller-identity")
    assert unknown.returncode == SERVICE_ERROR and "InvalidClientTokenId" in unknown.stderr


def _pages(cli: Cli, keys: Keys, key: str, *args: str) -> list[list[Any]]:
    """Every page of a paginated command: `--max-items` on each call, then `--starting-token` from the last."""
    pages, token = [], None
    while True:
        answer = cli.ok(keys, *args, *(("--starting-token", token) if token else ()))
        pages.append(answer[key])
        token = answer.get("NextToken")
        if token is None:
            return pages
        assert len(pages) < 20, "the pages never end"


def test_cli_pages_users_and_local_policies_with_max_items_and_starting_token(world: AwsWorld, account: Account,
                                                                             cli: Cli) -> None:
    root, iam = account.root, world.iam(account.root)
    names = [f"pager-{i}" for i in range(5)]
    for name in names:
        iam.create_user(UserName=name, Path="/pager/")
    pages = _pages(cli, root, "Users", "iam", "list-users", "--path-prefix", "/pager/", "--max-items", "2")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [u["UserName"] for page in pages for u in page] == names
    # a page size below --max-items: the CLI makes several calls per page, the pages stay the same
    assert _pages(cli, root, "Users", "iam", "list-users", "--path-prefix", "/pager/", "--max-items", "2",
                  "--page-size", "1") == pages
    everything = cli.ok(root, "iam", "list-users", "--path-prefix", "/pager/")
    assert [u["UserName"] for u in everything["Users"]] == names and "NextToken" not in everything

    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    for name in ("local-a", "local-b"):
        iam.create_policy(PolicyName=name, PolicyDocument=document)
    pages = _pages(cli, root, "Policies", "iam", "list-policies", "--scope", "Local", "--max-items", "1")
    assert [[p["PolicyName"] for p in page] for page in pages] == [["local-a"], ["local-b"]]
    assert all(p["Arn"].startswith(f"arn:aws:iam::{account.account_id}:policy/") for page in pages for p in page)
    aws_managed = cli.ok(root, "iam", "list-policies", "--scope", "AWS", "--max-items", "1")
    assert aws_managed["Policies"][0]["Arn"].startswith("arn:aws:iam::aws:policy/") and aws_managed["NextToken"]


def test_cli_an_invalid_marker_is_a_validation_error(world: AwsWorld, account: Account, cli: Cli) -> None:
    root = account.root
    world.iam(root).create_user(UserName="marked")
    # a starting token the CLI decodes (base64 JSON) into a Marker no page ever gave
    forged = base64.b64encode(json.dumps({"Marker": "bogus"}).encode()).decode()
    done = cli.run(root, "iam", "list-users", "--max-items", "1", "--starting-token", forged)
    assert done.returncode == SERVICE_ERROR, done
    assert "An error occurred (ValidationError) when calling the ListUsers operation" in done.stderr
    assert ("1 validation error detected: Value 'bogus' at 'marker' failed to satisfy constraint: Member must be a "
            "marker from an earlier page") in done.stderr
    done = cli.run(root, "iam", "list-users", "--marker", "-1", "--no-paginate")
    assert done.returncode == SERVICE_ERROR and "(ValidationError)" in done.stderr and "'-1'" in done.stderr
    # a token that is not base64 JSON is sent as the Marker itself (botocore's older token form)
    done = cli.run(root, "iam", "list-users", "--starting-token", "not a token")
    assert done.returncode == SERVICE_ERROR and "Value 'not a token' at 'marker'" in done.stderr, done
