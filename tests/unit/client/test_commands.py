"""`vestibule sso configure|login|logout` run without server settings or database, and fail with the exit code
of what went wrong."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest

from unit.client.hostile_server import hostile_server
from vestibule.cli import main
from vestibule.client import token_cache
from vestibule.client.commands import Asker
from vestibule.client.errors import MissingInput


@pytest.fixture(autouse=True)
def client_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.delenv(name, raising=False)
    # server settings that would fail if they were read, and a data directory that must stay empty
    monkeypatch.setenv("VESTIBULE_PUBLIC_URL", "ftp://not-a-server")
    monkeypatch.setenv("VESTIBULE_DATA_DIR", str(tmp_path / "server-data"))
    return tmp_path


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_such_profile_or_session(client_side: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sso", "login", "--profile", "nope"]) == 3
    assert "no profile 'nope'" in capsys.readouterr().err
    assert main(["sso", "login", "--sso-session", "nope", "--use-device-code"]) == 3
    assert main(["sso", "logout", "--profile", "nope"]) == 3
    assert main(["sso", "logout"]) == 0 and "No cached SSO token" in capsys.readouterr().out
    assert not (client_side / "server-data").exists(), "the server's data directory is never touched"


def test_unreachable_server_and_scripted_configure(client_side: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_dead_port()}/portal/d-1234567890/start"
    assert main(["sso", "configure", "--sso-session", "team", "--region", "eu-west-1"]) == 2, "no start URL"
    assert "--start-url is required" in capsys.readouterr().err
    assert main(["sso", "configure", "--sso-session", "team", "--start-url", "portal.example.com"]) == 3
    assert main(["sso", "configure", "--sso-session", "team", "--start-url", url, "--use-device-code",
                 "--no-browser"]) == 5
    out = capsys.readouterr()
    assert "Wrote [sso-session team]" in out.out and "cannot reach the sign-in server" in out.err
    config = (client_side / ".aws" / "config").read_text()
    assert config == f"[sso-session team]\nsso_start_url = {url}\nsso_region = us-east-1\n" \
                     "sso_registration_scopes = sso:account:access\n"
    assert main(["sso", "login", "--sso-session", "team", "--use-device-code", "--no-browser"]) == 5
    assert not (client_side / ".aws" / "sso").exists(), "nothing cached"
    assert not (client_side / "server-data").exists()


def test_asker_prompts_with_defaults_and_numbers() -> None:
    answers = iter(["", "x", "9", "2"])
    asked: list[str] = []

    def read(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    ask = Asker(True, read)
    assert ask.text("SSO region", "--region", "us-east-1") == "us-east-1"
    assert ask.choose("Role", "--role-name", ["Admin", "Developers", "ReadOnly"], str) == "Developers"
    assert asked == ["SSO region [us-east-1]: ", "Role number: ", "Role number: ", "Role number: "]
    assert Asker(False).choose("Role", "--role-name", ["Only"], str) == "Only"
    with pytest.raises(MissingInput, match=r"--role-name is required.*Admin, Developers"):
        Asker(False).choose("Role", "--role-name", ["Admin", "Developers"], str)


def _cached_token(name: str, start_url: str) -> None:
    now = datetime.now(UTC)
    token_cache.save_token(name, token_cache.CachedToken(
        start_url, "us-east-1", "access", now + timedelta(hours=1), None, "client", "secret", now + timedelta(days=1)))


EVIL_ROLE = "ReadOnly\n[default]\ncredential_process = sh -c 'touch /tmp/pwned'"


def test_configure_skips_what_a_server_may_not_send(client_side: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = {"/assignment/accounts": {"accountList": [
                   {"accountId": "123456789012\n[default]\ncredential_process = /bin/evil", "accountName": "a"},
                   {"accountId": "12345678901", "accountName": "short"},
                   {"accountId": "210987654321", "accountName": "ok\x1b[2J"}]},
               "/assignment/roles": {"roleList": [{"roleName": EVIL_ROLE, "accountId": "210987654321"},
                                                  {"roleName": "x" * 65, "accountId": "210987654321"},
                                                  {"roleName": "Dev+Ops", "accountId": "210987654321"}]}}
    with hostile_server(answers) as base:
        url = f"{base}/portal/d-1234567890/start"
        _cached_token("evil", url)
        assert main(["sso", "configure", "--sso-session", "evil", "--start-url", url, "--profile", "p",
                     "--no-endpoints"]) == 0
    out = capsys.readouterr()
    assert out.err.count("vestibule: warning: the server sent an invalid account ID") == 2
    assert out.err.count("vestibule: warning: the server sent an invalid role name") == 2
    assert "Account: 210987654321  ok[2J (the only one)" in out.out, "no escape sequence reaches the terminal"
    text = (client_side / ".aws" / "config").read_text()
    assert "credential_process" not in text and "[default]" not in text
    assert text.endswith("[profile p]\nsso_session = evil\nsso_account_id = 210987654321\n"
                         "sso_role_name = Dev+Ops\nregion = us-east-1\n")
    profiles = botocore.session.Session(profile="p").full_config["profiles"]
    assert list(profiles) == ["p"]


def test_configure_refuses_when_only_bad_roles_come_back(client_side: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    answers = {"/assignment/accounts": {"accountList": [{"accountId": "210987654321", "accountName": "a"}]},
               "/assignment/roles": {"roleList": [{"roleName": EVIL_ROLE, "accountId": "210987654321"}]}}
    with hostile_server(answers) as base:
        url = f"{base}/portal/d-1234567890/start"
        _cached_token("evil", url)
        assert main(["sso", "configure", "--sso-session", "evil", "--start-url", url, "--no-endpoints"]) == 1
    err = capsys.readouterr().err
    assert "the server sent no valid role name for account 210987654321 (see the warnings)" in err
    assert "[profile" not in (client_side / ".aws" / "config").read_text()


@pytest.mark.parametrize(("flags", "code", "said"), [
    (["--region", "us-east-1\ncredential_process = /bin/evil"], 3, "control character U+000A"),
    (["--sso-session", "s]\n[profile victim"], 3, "control character U+000A"),
    (["--sso-session", "s] [x"], 3, "cannot be empty or contain [ or ]"),
    (["--profile", "p]x"], 3, "cannot be empty or contain [ or ]"),
    (["--scopes", "sso:account:access\r[default]"], 3, "control character U+000D"),
    (["--account-id", "12345678901\n"], 2, "is not an AWS account ID"),
    (["--role-name", "Admin\n[default]"], 2, "is not a role name"),
])
def test_configure_flags_cannot_break_the_config_file(client_side: Path, capsys: pytest.CaptureFixture[str],
                                                      flags: list[str], code: int, said: str) -> None:
    config = client_side / ".aws" / "config"
    config.parent.mkdir()
    config.write_text("[default]\nregion = eu-west-1\n")
    url = f"http://127.0.0.1:{_dead_port()}/portal/d-1234567890/start"
    assert main(["sso", "configure", "--start-url", url, "--no-browser", *flags]) == code
    assert said in capsys.readouterr().err
    assert config.read_text() == "[default]\nregion = eu-west-1\n", "nothing was written"


def test_a_config_file_that_is_not_utf8_is_one_line_exit_3(client_side: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = client_side / ".aws" / "config"
    config.parent.mkdir()
    config.write_bytes(b"# caf\xe9\n[profile p]\nsso_session = s\n")
    assert main(["sso", "login", "--profile", "p"]) == 3
    err = capsys.readouterr().err
    assert err == f"vestibule: error: {config} is not UTF-8 text (byte 0xe9 at offset 5); save it as UTF-8 and " \
                  "try again\n"


def test_error_messages_reach_the_terminal_without_escape_sequences(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from vestibule.client.commands import run
    from vestibule.client.errors import SignInError

    def refused(_args: argparse.Namespace) -> int:
        raise SignInError("the server said: \x1b]0;owned\x07\x1b[2Jno\nsecond line")

    assert run(argparse.Namespace(client_command=refused)) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert err == "vestibule: error: the server said: ?]0;owned??[2Jno\nsecond line\n"
