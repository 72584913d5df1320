"""The `vestibule` command against the test database: JSON output, exit codes 0/1/2, identifier rules,
and the audit trail (`vestibule events --json`) of sign-ins and credential changes made through the pages."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pyotp
import pytest

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    browser,
    error_of,
    make_account,
    make_user,
    post_step,
    root_password,
    sign_in_iam,
    sign_in_root,
    sign_out,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.cli import main
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("VESTIBULE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VESTIBULE_MASTER_KEY", settings.master_key)
    monkeypatch.setenv("VESTIBULE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VESTIBULE_PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("VESTIBULE_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("VESTIBULE_ARGON2_TIME_COST", "1")
    monkeypatch.delenv("VESTIBULE_REDIS_URL", raising=False)
    monkeypatch.delenv("VESTIBULE_SIGNUP", raising=False)
    return settings



def first_group(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found"
    return match.group(1)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: usage errors and --help
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> dict[str, Any]:
        code, out, err = self(*argv)
        assert code == 0, err
        parsed: dict[str, Any] = json.loads(out)
        return parsed

    def fails(self, *argv: str, code: int = 1) -> str:
        got, out, err = self(*argv)
        assert got == code, (got, out, err)
        assert out == ""
        lines = err.strip().splitlines()
        if code == 1:
            assert len(lines) == 1 and lines[0].startswith("vestibule: "), err
        else:
            assert lines and lines[-1].startswith("vestibule: "), err
        assert "Traceback" not in err
        return lines[-1]


@pytest.fixture
def cli(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def test_account_create_prints_json(cli: Cli) -> None:
    data = cli.ok("account", "create", "--email", "Boss@Example.com", "--password", "cli password 1",
                  "--alias", "my-team", "--name", "My Team")
    assert re.fullmatch(r"[0-9]{12}", data["AccountId"])
    assert data["Alias"] == "my-team" and data["RootEmail"] == "boss@example.com"
    other = cli.ok("account", "create", "--email", "second@example.com", "--password", "cli password 1")
    assert other["AccountId"] != data["AccountId"] and other["Alias"] is None


def test_account_create_domain_failures_exit_1(cli: Cli) -> None:
    cli.ok("account", "create", "--email", "a@example.com", "--password", "cli password 1", "--alias", "taken")
    message = cli.fails("account", "create", "--email", "A@EXAMPLE.com", "--password", "cli password 1")
    assert "email" in message.lower()
    message = cli.fails("account", "create", "--email", "b@example.com", "--password", "cli password 1",
                        "--alias", "taken")
    assert "alias" in message.lower()
    cli.fails("account", "create", "--email", "c@example.com", "--password", "short")
    # a plus-tag is a different address
    cli.ok("account", "create", "--email", "a+tag@example.com", "--password", "cli password 1")


BAD_EMAILS = ["no-at-sign", "a@b", "two@@example.com", "a b@example.com", "@example.com", "a@example.123",
              "a@-example.com", ("x" * 65) + "@example.com"]
BAD_ALIASES = ["ab", "-team", "team-", "Team", "team_one", "123456", "1111-2222-3333", "x" * 64, "tëam",
               "static", "console"]  # the last ones: /static/console would not reach the sign-in page
GOOD_ALIASES = ["abc", "my-team-1", "a1b", "x" * 63, "team42"]


def test_email_rules(cli: Cli) -> None:
    for email in BAD_EMAILS:
        message = cli.fails("account", "create", f"--email={email}", "--password", "cli password 1")
        assert "email" in message.lower(), email


def test_alias_rules(cli: Cli) -> None:
    for alias in BAD_ALIASES:
        message = cli.fails("account", "create", "--email", "a@example.com", "--password", "cli password 1",
                            f"--alias={alias}")
        assert "alias" in message.lower(), alias
    for n, alias in enumerate(GOOD_ALIASES):
        assert cli.ok("account", "create", "--email", f"a{n}@example.com", "--password", "cli password 1",
                      "--alias", alias)["Alias"] == alias


def test_set_alias(cli: Cli) -> None:
    first = cli.ok("account", "create", "--email", "a@example.com", "--password", "cli password 1",
                   "--alias", "first")
    cli.ok("account", "create", "--email", "b@example.com", "--password", "cli password 1", "--alias", "second")
    assert cli.ok("account", "set-alias", "--account", first["AccountId"], "--alias", "renamed")["Alias"] == "renamed"
    cli.fails("account", "set-alias", "--account", "renamed", "--alias", "second")
    cli.fails("account", "set-alias", "--account", "renamed", "--alias", "Bad_Alias")
    assert cli.ok("account", "set-alias", "--account", "renamed", "--alias", "")["Alias"] is None
    # the old alias is free again
    cli.ok("account", "create", "--email", "c@example.com", "--password", "cli password 1", "--alias", "first")
    cli.fails("account", "set-alias", "--account", "999999999999", "--alias", "whatever")


def test_usage_errors_exit_2(cli: Cli) -> None:
    cli.fails("account", "create", "--password", "cli password 1", code=2)
    cli.fails("account", "create", "--email", "a@example.com", code=2)
    cli.fails("no-such-command", code=2)
    cli.fails("account", code=2)
    cli.fails("events", code=2)
    cli.fails("account", "password-policy", "--account", "x", "--minimum-length", "seven", code=2)
    code, out, _ = cli("--help")
    assert code == 0 and "account" in out
    code, out, _ = cli("account", "create", "--help")
    assert code == 0 and "--email" in out


def test_password_policy(cli: Cli) -> None:
    account = cli.ok("account", "create", "--email", "a@example.com", "--password", "cli password 1")["AccountId"]
    shown = cli.ok("account", "password-policy", "--account", account)
    assert shown["PasswordPolicy"]["MinimumPasswordLength"] == 8
    changed = cli.ok("account", "password-policy", "--account", account, "--minimum-length", "12",
                     "--require-symbols", "--max-password-age", "90", "--password-reuse-prevention", "3",
                     "--hard-expiry", "--no-allow-users-to-change-password")
    policy = changed["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireSymbols"] is True
    assert policy["MaxPasswordAge"] == 90 and policy["ExpirePasswords"] is True
    assert policy["PasswordReusePrevention"] == 3 and policy["HardExpiry"] is True
    assert policy["AllowUsersToChangePassword"] is False
    for flag, value in (("--minimum-length", "5"), ("--minimum-length", "129"), ("--max-password-age", "1096"),
                        ("--password-reuse-prevention", "25"), ("--max-password-age", "-1")):
        cli.fails("account", "password-policy", "--account", account, flag, value, code=2)
    # an invalid value changed nothing
    assert cli.ok("account", "password-policy", "--account", account)["PasswordPolicy"] == policy
    off = cli.ok("account", "password-policy", "--account", account, "--max-password-age", "0",
                 "--password-reuse-prevention", "0")["PasswordPolicy"]
    assert off["ExpirePasswords"] is False and "PasswordReusePrevention" not in off
    assert cli.ok("account", "password-policy", "--account", account, "--delete") == {"PasswordPolicy": None}


def test_iam_users(cli: Cli) -> None:
    account = cli.ok("account", "create", "--email", "a@example.com", "--password", "cli password 1",
                     "--alias", "acme")["AccountId"]
    user = cli.ok("iam-user", "create", "--account", "acme", "--name", "alice", "--password", "alice pw 1",
                  "--password-reset-required")
    assert user["Arn"] == f"arn:aws:iam::{account}:user/alice" and user["PasswordResetRequired"] is True
    assert user["SignInUrl"].endswith("/acme/console") and user["UserId"].startswith("AIDA")
    message = cli.fails("iam-user", "create", "--account", account, "--name", "alice")
    assert "alice" in message and "exists" in message
    cli.fails("iam-user", "create", "--account", account, "--name", "ALICE")
    cli.fails("iam-user", "create", "--account", account, "--name", "bad name")
    cli.fails("iam-user", "create", "--account", account, "--name", "x" * 65)
    cli.fails("iam-user", "create", "--account", "nosuch", "--name", "bob")
    cli.fails("iam-user", "create", "--account", account, "--name", "bob", "--password", "short")
    assert cli.ok("iam-user", "create", "--account", account, "--name", "bob+ops=1,x.y@z_w-v")["UserName"]
    listed = cli.ok("iam-user", "list", "--account", "acme")
    assert sorted(u["UserName"] for u in listed["Users"]) == ["alice", "bob+ops=1,x.y@z_w-v"]
    assert cli.ok("iam-user", "set-password", "--account", "acme", "--name", "alice", "--password",
                  "another pw 2")["PasswordResetRequired"] is False
    cli.fails("iam-user", "set-password", "--account", "acme", "--name", "nobody", "--password", "another pw 2")
    cli.fails("iam-user", "set-password", "--account", "acme", "--name", "alice", code=2)
    assert cli.ok("iam-user", "deactivate-mfa", "--account", "acme", "--name", "alice") == {"Removed": 0}
    assert cli.ok("iam-user", "deactivate-mfa", "--account", "acme", "--root") == {"Removed": 0}
    cli.fails("iam-user", "deactivate-mfa", "--account", "acme", code=2)


def test_events_of_unknown_account_fail(cli: Cli) -> None:
    cli.fails("events", "--account", "123456789012")


async def _cli_in_thread(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command runs its own event loop, so it runs in a thread from async tests."""
    return await asyncio.to_thread(Cli(capsys), *argv)


async def test_every_sign_in_attempt_and_credential_change_is_an_event(
        cli_env: Settings, capsys: pytest.CaptureFixture[str], client: httpx.AsyncClient, runtime: Runtime,
        mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")

    # root: a wrong password, a wrong mailed code, then success
    flow_url, r = await root_password(client, ROOT_EMAIL, "wrong password 1")
    assert error_of(r.text)
    r = await post_step(client, flow_url, "password", password=ROOT_PASSWORD)
    assert r.status_code == 303
    r = await post_step(client, flow_url, "email_code", verification_code="000000")
    assert r.status_code == 200
    code = last_code(mailbox, ROOT_EMAIL)
    r = await post_step(client, flow_url, "email_code", verification_code=code)
    assert r.headers["location"] == "/console"
    # credential changes: password, an MFA device added and removed
    csrf = csrf_of((await client.get("/console/security")).text)
    r = await client.post("/console/password", data={"csrf_token": csrf, "password": ROOT_PASSWORD,
                                                     "new_password": "changed root pw 2",
                                                     "confirm_password": "changed root pw 2"})
    assert r.status_code == 303
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf, "password": "changed root pw 2"})
    enrol = r.headers["location"]
    page = await client.get(enrol)
    secret = first_group(r'data-secret="([A-Z2-7]+)"', page.text)
    first = pyotp.TOTP(secret).at(clock.now)
    clock.advance(30)
    r = await client.post(enrol, data={"csrf_token": csrf, "device_name": "phone", "mfa_code": first,
                                       "mfa_code_2": pyotp.TOTP(secret).at(clock.now)})
    assert r.status_code == 303
    serial = f"arn:aws:iam::{account_id}:mfa/phone"
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf, "serial": serial,
                                                       "password": "changed root pw 2", "confirm_last": "1"})
    assert r.status_code == 303
    await sign_out(client)
    # IAM user, from another address (this one now needs a CAPTCHA): wrong password, then success
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.20") as other:
        page = await other.get("/acme/console")
        r = await other.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                    "password": "wrong password 2"})
        assert error_of(r.text)
        await sign_in_iam(other)

    code_, out, err = await _cli_in_thread(capsys, "events", "--account", account_id, "--json")
    assert code_ == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    summary = [(e["event"], e["result"], e["principal"], e["method"]) for e in events]
    root = f"arn:aws:iam::{account_id}:root"
    alice = f"arn:aws:iam::{account_id}:user/alice"
    expected = [
        ("ConsoleLogin", "Failure", root, "password"),
        ("ConsoleLogin", "Failure", root, "email_code"),
        ("ConsoleLogin", "Success", root, "password+email_code"),
        ("PasswordChanged", "Success", root, "console"),
        ("EnableMFADevice", "Success", root, "console"),
        ("DeactivateMFADevice", "Success", root, "console"),
        ("ConsoleLogout", "Success", root, ""),
        ("ConsoleLogin", "Failure", alice, "password"),
        ("ConsoleLogin", "Success", alice, "password"),
    ]
    position = 0
    for wanted in expected:
        while position < len(summary) and summary[position] != wanted:
            position += 1
        assert position < len(summary), f"missing or out of order: {wanted} in {summary}"
        position += 1
    for e in events:
        if e["event"] == "ConsoleLogin":
            assert e["client_ip"] == ("198.51.100.20" if e["principal"] == alice else "203.0.113.7")
            assert e["user_agent"].startswith("python-httpx")
            assert isinstance(e["mfa_used"], bool) and e["time"].endswith("Z")
    # secrets never appear
    for secret_text in (ROOT_PASSWORD, "changed root pw 2", "wrong password 1", "wrong password 2", code, secret,
                        "user password 1"):
        assert secret_text not in out
    # the plain listing works too
    code_, out, err = await _cli_in_thread(capsys, "events", "--account", "acme")
    assert code_ == 0 and "ConsoleLogin" in out and "PasswordChanged" in out


async def test_events_record_mfa_sign_in_and_recovery(cli_env: Settings, capsys: pytest.CaptureFixture[str],
                                                      client: httpx.AsyncClient, runtime: Runtime,
                                                      mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    csrf = csrf_of((await client.get("/console/security")).text)
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf, "password": ROOT_PASSWORD})
    enrol = r.headers["location"]
    page = await client.get(enrol)
    secret = first_group(r'data-secret="([A-Z2-7]+)"', page.text)
    first = pyotp.TOTP(secret).at(clock.now)
    clock.advance(30)
    await client.post(enrol, data={"csrf_token": csrf, "device_name": "phone", "mfa_code": first,
                                   "mfa_code_2": pyotp.TOTP(secret).at(clock.now)})
    await sign_out(client)
    clock.advance(60)
    flow_url, _ = await root_password(client)
    r = await post_step(client, flow_url, "mfa", mfa_code=pyotp.TOTP(secret).at(clock.now))
    assert r.headers["location"] == "/console"
    await sign_out(client)

    # root password recovery
    page = await client.get("/recovery")
    await client.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": ROOT_EMAIL,
                                         "captcha": captcha.latest})
    token = first_group(r"token=([A-Za-z0-9_-]+)", mailbox.messages[-1].body)
    flow_url = (await client.get(f"/recovery/reset?token={token}")).headers["location"]
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "new_password": "recovered pw 3",
                                          "confirm_password": "recovered pw 3"})
    assert r.status_code == 200

    code_, out, _ = await _cli_in_thread(capsys, "events", "--account", account_id, "--json")
    assert code_ == 0
    events = [json.loads(line) for line in out.splitlines()]
    logins = [e for e in events if e["event"] == "ConsoleLogin" and e["result"] == "Success"]
    assert logins[-1]["mfa_used"] is True and logins[-1]["method"] == "password+mfa"
    assert logins[0]["mfa_used"] is False
    names = [e["event"] for e in events]
    assert "PasswordRecoveryRequested" in names and "PasswordRecovered" in names
    assert names.index("PasswordRecoveryRequested") < names.index("PasswordRecovered")
    assert token not in out and "recovered pw 3" not in out and secret not in out
