"""The client side of `vestibule sso login|logout|configure` (src/vestibule/client/) against the live server,
in process: the device flow's polling (slow_down makes it wait 5 s longer, pending keeps it waiting, an expired
code ends it with exit 7), the registration cache (reused; a registration the server no longer knows is replaced
once), logout of a token the server already ended, and the configure wizard's choices among several accounts and
roles. Waiting is the one seam: the flow's `sleep` moves the server's clock instead of the test sleeping."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.sso_cli_world import SsoWorld, raised
from vestibule.cli import main
from vestibule.client import token_cache
from vestibule.client.aws_config import ConfigFile, SsoSession
from vestibule.client.commands import Asker, _configure
from vestibule.client.errors import AuthorizationExpired, MissingInput, SignInError
from vestibule.client.sso_login import LoggedOut, SignIn, logout


@pytest.fixture
def computer(world: AwsWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's side: HOME and AWS_CONFIG_FILE in tmp_path, AWS_ENDPOINT_URL at the live server."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.url)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def sso(world: AwsWorld, account: Account, computer: Path) -> SsoWorld:
    return SsoWorld(world, account)


def _signed_in_user(sso: SsoWorld, name: str) -> str:
    user = sso.user(name)
    sso.assign(sso.permission_set(f"Dev{name.title()}"), user)
    return sso.sign_in(name)


class Waits:
    """The flow's sleep: records what it was asked to wait and moves the server's clock by that much (or not at
    all for the calls listed in `too_soon`); `then` runs before the n-th wait returns."""

    def __init__(self, world: AwsWorld, too_soon: tuple[int, ...] = (),
                 then: dict[int, Callable[[], None]] | None = None) -> None:
        self.world, self.too_soon, self.then = world, too_soon, then or {}
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        if len(self.asked) not in self.too_soon:
            self.world.clock.offset += seconds
        if len(self.asked) in self.then:
            self.then[len(self.asked)]()


def test_device_flow_waits_longer_after_slow_down(sso: SsoWorld) -> None:
    session_token = _signed_in_user(sso, "sam")
    said: list[str] = []
    session = SsoSession("team", sso.start_url, "us-east-1")

    def approve() -> None:
        code = re.search(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})", "\n".join(said))
        assert code, said
        sso.decide(session_token, code.group(1))

    waits = Waits(sso.world, too_soon=(2,), then={4: approve})
    token = SignIn(session, said.append, sleep=waits).device_code(open_browser=False)
    # 1: pending; 2: polled at once -> SlowDown, the interval grows by 5 s; 3: pending; 4: approved
    assert waits.asked == [5, 5, 10, 10]
    assert token_cache.load_token("team") == token and token.refresh_token
    assert "Signed in to" in said[-1]


def test_device_code_expires_while_waiting(sso: SsoWorld) -> None:
    _signed_in_user(sso, "eve")
    waits = Waits(sso.world, then={1: lambda: setattr(sso.world.clock, "offset", sso.world.clock.offset + 600)})
    with pytest.raises(AuthorizationExpired, match="expired before it was approved") as raised:
        SignIn(SsoSession("team", sso.start_url, "us-east-1"), lambda _: None, sleep=waits).device_code(False)
    assert raised.value.exit_code == 7
    assert token_cache.load_token("team") is None


def test_registration_is_reused_and_replaced_when_the_server_forgets_it(sso: SsoWorld) -> None:
    session_token = _signed_in_user(sso, "reg")
    session = SsoSession("team", sso.start_url, "us-east-1")
    flow = SignIn(session, lambda _: None)
    first = flow.registration()
    assert flow.registration() == first, "cached"
    key = token_cache.registration_key(sso.start_url, "us-east-1", ("sso:account:access",), "team")
    cached = json.loads((token_cache.cache_dir() / f"{key}.json").read_text())
    assert cached["clientId"] == first.client_id
    assert datetime.fromisoformat(cached["expiresAt"].replace("Z", "+00:00")) > datetime.now(UTC) + timedelta(days=89)

    forgotten = token_cache.Registration("unknown-client", "nope", first.expires_at, first.scopes)
    token_cache.save_registration(key, forgotten)
    said: list[str] = []

    def approve() -> None:
        code = re.search(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})", "\n".join(said))
        assert code
        sso.decide(session_token, code.group(1))

    token = SignIn(session, said.append, sleep=Waits(sso.world, then={1: approve})).device_code(False)
    assert token.client_id not in ("unknown-client", first.client_id), "registered again after InvalidClient"
    assert token_cache.load_registration(key, datetime.now(UTC)) is not None


def test_logout_of_a_token_the_server_already_ended(sso: SsoWorld, capsys: pytest.CaptureFixture[str]) -> None:
    session_token = _signed_in_user(sso, "lou")
    said: list[str] = []
    session = SsoSession("team", sso.start_url, "us-east-1")

    def approve() -> None:
        code = re.search(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})", "\n".join(said))
        assert code
        sso.decide(session_token, code.group(1))

    SignIn(session, said.append, sleep=Waits(sso.world, then={1: approve})).device_code(False)
    sso.sign_out(session_token)  # signing out of the portal ends the CLI's tokens too
    config = ConfigFile.load()
    config.set_section("sso-session team", {"sso_start_url": sso.start_url, "sso_region": "us-east-1"})
    config.save()
    capsys.readouterr()
    assert main(["sso", "logout", "--sso-session", "team"]) == 8, "the exit code of a refused token"
    out = capsys.readouterr().out
    assert "refused the token of [sso-session team] and its refresh token, so it could not be told" in out
    assert f"sign out in the access portal: {sso.start_url}" in out and "Signed out of" not in out
    assert token_cache.load_token("team") is None, "the cached token is removed all the same"
    assert logout(session, said.append) is LoggedOut.NOTHING, "nothing left"


def test_logout_after_the_access_token_expired_refreshes_and_ends_the_sign_in(
        sso: SsoWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    session_token = _signed_in_user(sso, "rita")
    said: list[str] = []
    session = SsoSession("team", sso.start_url, "us-east-1")

    def approve() -> None:
        code = re.search(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})", "\n".join(said))
        assert code
        sso.decide(session_token, code.group(1))

    token = SignIn(session, said.append, sleep=Waits(sso.world, then={1: approve})).device_code(False)
    portal_page = f"{sso.world.url}/portal/{sso.store}/"
    assert httpx.get(portal_page, cookies={sso.session_cookie: session_token}).status_code == 200
    sso.world.clock.offset += (token.expires_at - datetime.now(UTC)).total_seconds() + 60
    assert raised(sso.portal.list_accounts, accessToken=token.access_token).response["Error"]["Code"] == \
        "UnauthorizedException", "the cached access token has expired at the server"

    removed: list[token_cache.CachedToken | None] = []
    remove = token_cache.remove_token

    def remove_seen(name: str) -> bool:  # what the file held just before logout removed it
        removed.append(token_cache.load_token(name))
        return remove(name)

    monkeypatch.setattr(token_cache, "remove_token", remove_seen)
    result = logout(session, said.append)
    page = httpx.get(portal_page, cookies={sso.session_cookie: session_token}, follow_redirects=False)
    assert page.status_code != 200, "the portal session has ended"
    assert result is LoggedOut.ENDED
    assert "had expired; a refreshed one ended the sign-in at the server" in said[-1]
    assert token_cache.load_token("team") is None
    refreshed = removed[0]
    assert refreshed is not None and refreshed.access_token != token.access_token
    client = {"clientId": token.client_id, "clientSecret": token.client_secret}
    assert refreshed.refresh_token and refreshed.refresh_token != token.refresh_token
    refused = raised(sso.refresh, client=client, refresh_token=refreshed.refresh_token)
    assert refused.response["Error"]["Code"] == "InvalidGrantException", "the refresh family has ended"
    assert raised(sso.portal.list_accounts, accessToken=refreshed.access_token).response["Error"]["Code"] == \
        "UnauthorizedException"


def test_configure_chooses_among_accounts_and_roles(world: AwsWorld, account: Account, computer: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    world.new_organization(account)  # before the instance: an organization instance reaches member accounts
    member = world.new_member_account(account)[0]
    sso = SsoWorld(world, account)
    user = sso.user("cat")
    for name in ("Admins", "Readers"):
        ps = sso.permission_set(name)
        sso.assign(ps, user)
        sso.assign(ps, user, member)
    session_token = sso.sign_in("cat")
    session = SsoSession("team", sso.start_url, "us-east-1")
    said: list[str] = []

    def approve() -> None:
        code = re.search(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})", "\n".join(said))
        assert code
        sso.decide(session_token, code.group(1))

    SignIn(session, said.append, sleep=Waits(sso.world, then={1: approve})).device_code(False)

    def args(**kw: str | bool | None) -> argparse.Namespace:
        base: dict[str, str | bool | None] = dict(
            profile=None, sso_session="team", start_url=sso.start_url, region="us-east-1", account_id=None,
            role_name=None, scopes=None, no_endpoints=True, use_device_code=True, no_browser=True)
        return argparse.Namespace(**{**base, **kw})

    with pytest.raises(MissingInput, match=f"--account-id is required.*{sso.account.account_id}.*") as missing:
        _configure(args(), Asker(False))
    assert member in str(missing.value) and missing.value.exit_code == 2
    with pytest.raises(SignInError, match="account 000000000000 is not assigned to you"):
        _configure(args(account_id="000000000000"), Asker(False))
    with pytest.raises(SignInError, match=r"you have no role 'Nope'.*Admins, Readers"):
        _configure(args(account_id=member, role_name="Nope"), Asker(False))

    capsys.readouterr()
    answers = iter(["2", "2", ""])  # the second account, Readers, the proposed profile name
    assert _configure(args(), Asker(True, lambda prompt: next(answers))) == 0
    shown = capsys.readouterr().out
    listed = re.findall(r"^  (\d)\. (\d{12})", shown, re.MULTILINE)
    assert sorted(a for _, a in listed) == sorted([sso.account.account_id, member]), shown
    second = dict(listed)["2"]
    assert "  1. Admins\n  2. Readers\n" in shown
    profile = ConfigFile.load().sso_profile(f"Readers-{second}")
    assert (profile.sso_session, profile.account_id, profile.role_name) == ("team", second, "Readers")
    assert "Wrote [profile Readers-" in shown
    text = (computer / "config").read_text()
    assert "[services" not in text, "--no-endpoints"
