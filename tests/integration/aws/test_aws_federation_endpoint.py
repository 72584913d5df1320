"""The federation endpoint driven as a custom identity broker drives it: boto3 for the temporary credentials,
`GET /federation?Action=getSigninToken` for a sign-in token, `Action=login` in a browser (httpx) for the console
session; refusals of the wrong credentials, reused or stale tokens and off-site destinations."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from integration.aws.aws_world import Account, AwsWorld, Keys
from support import csrf_of
from vestibule.services import janitor
from vestibule.services.context import Client, Deps
from vestibule.services.federation import endpoint as federation
from vestibule.services.federation import failures

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def browser(world: AwsWorld) -> Iterator[httpx.Client]:
    _clear_budget(world)
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=20) as client:
        yield client
    _clear_budget(world)


def _clear_budget(world: AwsWorld) -> None:
    async def reset(deps: Deps) -> None:
        await deps.throttle.settle(federation.throttle_keys(Client(ip="127.0.0.1")), ())

    world.run(reset)


def _trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def _role_keys(world: AwsWorld, account: Account, *, session: str = "alice", duration: int = 3600,
               role: str = "broker-role") -> tuple[Keys, Keys]:
    """The broker (an IAM user allowed everything) and the role session it assumed for a user."""
    broker = world.api_user(account, f"broker-{role}", ADMIN)
    world.iam(account.root).create_role(RoleName=role, AssumeRolePolicyDocument=_trust(account.root_arn))
    out = world.sts(broker).assume_role(RoleArn=f"arn:aws:iam::{account.account_id}:role/{role}",
                                        RoleSessionName=session, DurationSeconds=duration)
    return broker, Keys.of(out["Credentials"])


def _session(keys: Keys) -> str:
    return json.dumps({"sessionId": keys.access_key_id, "sessionKey": keys.secret_access_key,
                       "sessionToken": keys.session_token})


def _get_token(browser: httpx.Client, keys: Keys, **extra: Any) -> httpx.Response:
    return browser.get("/federation", params={"Action": "getSigninToken", "Session": _session(keys), **extra})


def _login_url(world: AwsWorld, token: str, destination: str | None = None) -> str:
    params = {"Action": "login", "Issuer": "https://broker.example.com/expired",
              "Destination": f"{world.url}/console" if destination is None else destination, "SigninToken": token}
    return "/federation?" + urlencode(params)


def _token(browser: httpx.Client, keys: Keys, **extra: Any) -> str:
    answer = _get_token(browser, keys, **extra)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["content-type"].startswith("application/json")
    token = answer.json()["SigninToken"]
    assert isinstance(token, str) and len(token) >= 43
    return str(token)


def _cookie_max_age(response: httpx.Response) -> int:
    for header in response.headers.get_list("set-cookie"):
        found = re.search(r"Max-Age=(\d+)", header)
        if found and not header.startswith("vestibule_browser"):
            return int(found.group(1))
    raise AssertionError(response.headers.get_list("set-cookie"))


def _events(world: AwsWorld, account_id: str, event: str) -> list[dict[str, Any]]:
    async def read(deps: Deps) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from vestibule.store.models import AuditEvent

        async with deps.store.unit() as uow:
            rows = (await uow.db.execute(select(AuditEvent).where(
                AuditEvent.account_id == account_id, AuditEvent.event == event))).scalars().all()
        return [{"result": r.result, "principal": r.principal, "method": r.method,
                 "detail": r.detail} for r in rows]

    return world.run(read)


def test_role_session_signs_in_to_the_console_once(world: AwsWorld, account: Account,
                                                    browser: httpx.Client) -> None:
    _, keys = _role_keys(world, account)
    token = _token(browser, keys)
    signed = browser.get(_login_url(world, token, f"{world.url}/console?tab=home"))
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/console?tab=home"
    assert signed.headers["cache-control"] == "no-store"  # the answer that sets the session cookie
    assert signed.headers["referrer-policy"] == "no-referrer"
    assert 3500 < _cookie_max_age(signed) <= 3600  # as long as the credentials, no longer
    home = browser.get("/console")
    assert home.status_code == 200
    assert "broker-role/alice" in home.text and account.account_id in home.text
    assert "Role session" in home.text
    logins = _events(world, account.account_id, "ConsoleLogin")
    assert [(e["result"], e["method"]) for e in logins] == [("Success", "federation")]
    assert logins[0]["principal"] == f"arn:aws:sts::{account.account_id}:assumed-role/broker-role/alice"
    issued = _events(world, account.account_id, "GetSigninToken")
    assert [e["result"] for e in issued] == ["Success"]
    assert keys.secret_access_key not in json.dumps(issued) and token not in json.dumps(issued)
    # the token is spent: a second browser is refused with the failure page and its reference
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=20) as other:
        again = other.get(_login_url(world, token))
        assert again.status_code == 400
        assert 'data-cause="replayed"' in again.text
        found = re.search(r'<code id="reference">(F-[A-Z2-7]{16})</code>', again.text)
        assert found is not None
        assert other.get("/console").status_code == 303  # not signed in
    # the administrator reads who it was (the credentials' account and ARN) under the reference
    diagnosis = world.run(lambda deps: failures.diagnose(deps, found.group(1)))
    assert diagnosis is not None and diagnosis.door == "federation-endpoint" and diagnosis.cause == "replayed"
    assert diagnosis.account_id == account.account_id and diagnosis.provider == "https://broker.example.com/expired"
    assert diagnosis.principal == f"arn:aws:sts::{account.account_id}:assumed-role/broker-role/alice"
    assert diagnosis.admin["credential"] == keys.access_key_id
    assert [e["detail"]["reference"] for e in _events(world, account.account_id, "FederatedSignInFailed")] == [
        found.group(1)]
    # sign-out ends the federated console session
    home = browser.get("/console")
    assert home.status_code == 200
    out = browser.post("/signout", data={"csrf_token": csrf_of(home.text)}, headers={"origin": world.url})
    assert out.status_code == 303
    assert browser.get("/console").status_code == 303
    assert [e["result"] for e in _events(world, account.account_id, "ConsoleLogout")] == ["Success"]


def test_federated_user_signs_in_and_session_duration_is_refused(world: AwsWorld, account: Account,
                                                                  browser: httpx.Client) -> None:
    broker = world.api_user(account, "fed-broker", ADMIN)
    out = world.sts(broker).get_federation_token(Name="bob", DurationSeconds=1800)
    keys = Keys.of(out["Credentials"])
    refused = _get_token(browser, keys, SessionDuration="900")
    assert refused.status_code == 400 and refused.json()["Error"]["Code"] == "duration", refused.text
    token = _token(browser, keys)
    signed = browser.get(_login_url(world, token, "/console"))
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    assert 1700 < _cookie_max_age(signed) <= 1800
    home = browser.get("/console")
    assert home.status_code == 200 and "federated-user/bob" in home.text
    assert "Federated user" in home.text and "Role session" not in home.text


def test_session_duration_shortens_and_chained_sessions_are_limited(world: AwsWorld, account: Account,
                                                                     browser: httpx.Client) -> None:
    _, keys = _role_keys(world, account, duration=3600)
    token = _token(browser, keys, SessionDuration="900")
    signed = browser.get(_login_url(world, token))
    assert signed.status_code == 303 and 800 < _cookie_max_age(signed) <= 900
    # longer than the credentials: the console session still ends with them
    token = _token(browser, keys, SessionDuration="43200")
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=20) as other:
        assert _cookie_max_age(other.get(_login_url(world, token))) <= 3600
    for bad in ("899", "43201", "ten", "-900", "1e3"):
        answer = _get_token(browser, keys, SessionDuration=bad)
        assert answer.status_code == 400 and answer.json()["Error"]["Code"] == "malformed", bad
    # a role session assumed with a role session's credentials (role chaining): one hour at most
    world.iam(account.root).create_role(RoleName="second", AssumeRolePolicyDocument=_trust(
        f"arn:aws:iam::{account.account_id}:role/broker-role"))
    world.iam(account.root).attach_role_policy(RoleName="broker-role", PolicyArn=ADMIN)
    chained = Keys.of(world.sts(keys).assume_role(
        RoleArn=f"arn:aws:iam::{account.account_id}:role/second", RoleSessionName="chain")["Credentials"])
    answer = _get_token(browser, chained, SessionDuration="7200")
    assert answer.status_code == 400 and answer.json()["Error"]["Code"] == "duration", answer.text
    _token(browser, chained, SessionDuration="3600")


def test_other_credentials_are_refused(world: AwsWorld, account: Account, browser: httpx.Client) -> None:
    broker, keys = _role_keys(world, account)
    session = Keys.of(world.sts(broker).get_session_token()["Credentials"])
    for creds, code, status in (
            (session, "unsupported", 403),  # GetSessionToken
            (Keys(broker.access_key_id, broker.secret_access_key, "none"), "unsupported", 403),  # long-term keys
            (Keys(keys.access_key_id, keys.secret_access_key[:-1] + "x", keys.session_token), "invalid", 403),
            (Keys(keys.access_key_id, keys.secret_access_key, (keys.session_token or "") + "x"), "invalid", 403),
            (Keys("ASIAXXXXXXXXXXXXXXXX", keys.secret_access_key, keys.session_token), "invalid", 403)):
        answer = _get_token(browser, creds)
        assert answer.status_code == status, (creds, answer.text)
        assert answer.json()["Error"]["Code"] == code
        assert answer.headers["cache-control"] == "no-store"
    for text in ("", "not json", "[1, 2]", json.dumps({"sessionId": keys.access_key_id}),
                 json.dumps({"sessionId": 1, "sessionKey": "a", "sessionToken": "b"})):
        answer = browser.get("/federation", params={"Action": "getSigninToken", "Session": text})
        assert answer.status_code == 400 and answer.json()["Error"]["Code"] == "malformed", text
    assert browser.get("/federation", params={"Action": "other"}).status_code == 400
    assert browser.get("/federation").status_code == 400
    refused = [e for e in _events(world, account.account_id, "GetSigninToken") if e["result"] == "Failure"]
    assert len(refused) == 2  # the two refusals of real credentials are the account's


def test_destination_must_be_this_site(world: AwsWorld, account: Account, browser: httpx.Client) -> None:
    _, keys = _role_keys(world, account)
    token = _token(browser, keys)
    port = world.url.rsplit(":", 1)[1]
    for destination in ("https://evil.example/console", "//evil.example/console", "/\\evil.example",
                        f"http://127.0.0.2:{port}/console", f"https://127.0.0.1:{port}/console",
                        f"http://127.0.0.1:{int(port) + 1}/console", f"http://user@127.0.0.1:{port}/console",
                        "javascript:alert(1)", "/\t/evil.example", "\\\\evil.example", "https:evil.example",
                        f"http://127.0.0.1:{port}@evil.example/", f"http://127.0.0.1:{port}\\@evil.example/",
                        "%2F%2Fevil.example", " /console", "/console\r\nLocation: https://evil.example",
                        f"HTTP://127.0.0.1:{port}:80/console", "data:text/html,x", "\u3002/evil.example"):
        refused = browser.get(_login_url(world, token, destination))
        assert refused.status_code == 400, destination
        assert 'id="error"' in refused.text and "outside this site" in refused.text
        assert refused.headers["referrer-policy"] == "no-referrer"  # the token is in this page's URL
        assert "set-cookie" not in refused.headers or "vestibule_session" not in refused.headers["set-cookie"]
    zh = browser.get(_login_url(world, token, "https://evil.example/") + "&lang=zh-TW")
    assert "本網站以外" in zh.text
    assert browser.get("/console").status_code == 303
    # the refused destinations did not spend the token
    signed = browser.get(_login_url(world, token))
    assert signed.status_code == 303 and signed.headers["location"] == "/console"


def test_stale_tokens_and_credentials(world: AwsWorld, account: Account, browser: httpx.Client,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _, keys = _role_keys(world, account, duration=900)
    stale = _token(browser, keys)
    fresh = _token(browser, keys)
    world.shift(monkeypatch, 901)
    expired = browser.get(_login_url(world, stale))
    assert expired.status_code == 400 and 'data-cause="expired"' in expired.text
    unknown = browser.get(_login_url(world, "x" * 43))
    assert unknown.status_code == 400 and 'data-cause="malformed"' in unknown.text
    world.shift(monkeypatch, 0)
    signed = browser.get(_login_url(world, fresh))
    assert signed.status_code == 303 and _cookie_max_age(signed) <= 900
    assert browser.get("/console").status_code == 200
    world.shift(monkeypatch, 905)  # the credentials expired: so did the console session standing on them
    assert browser.get("/console").status_code == 303
    assert _get_token(browser, keys).json()["Error"]["Code"] == "invalid"
    world.shift(monkeypatch, 0)

    async def purge(deps: Deps) -> janitor.PurgeReport:
        ports = janitor.JanitorPorts(deps.store, lambda: time.time() + 86400 + 1000)
        return await janitor.run_once(ports)

    assert world.run(purge).federation_signin_tokens >= 2


def test_wrong_tokens_are_throttled_per_address(world: AwsWorld, account: Account, browser: httpx.Client) -> None:
    _, keys = _role_keys(world, account)
    # a busy broker: many right requests at once from one address, none waits for another
    barrier = threading.Barrier(12)

    def one() -> int:
        with httpx.Client(base_url=world.url, timeout=20) as own:
            barrier.wait()
            return _get_token(own, keys).status_code

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(lambda _: one(), range(12))) == [200] * 12
    statuses = [browser.get(_login_url(world, f"wrong-{n}")).status_code for n in range(12)]
    assert statuses[:5] == [400] * 5 and statuses[-1] == 429, statuses
    answer = _get_token(browser, keys)
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
