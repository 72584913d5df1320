"""`vestibule sso configure|login|logout` run without server settings or database, and fail with the exit code
of what went wrong."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from vestibule.cli import main
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
