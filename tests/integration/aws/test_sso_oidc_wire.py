"""SSO-OIDC through real, unsigned boto3 `sso-oidc` clients against the live server: RegisterClient,
StartDeviceAuthorization and CreateToken (device code, refresh token, authorization code with PKCE), and every
error the CLI reacts to, raised by botocore as the model's exception with the OAuth `error` member."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.sso_cli_world import BROWSER, DEVICE_GRANT, SsoWorld, raised, status_of
from vestibule.core import oauth
from vestibule.services.context import Deps
from vestibule.services.identity_center import sso_oidc
from vestibule.services.signin import portal as portal_signin


@pytest.fixture
def sso(world: AwsWorld, account: Account) -> SsoWorld:
    return SsoWorld(world, account)


def _oauth(exc: object, code: str, error: str, status: int = 400) -> None:
    """botocore raised `code` (from x-amzn-ErrorType) and parsed the model's OAuth members."""
    from botocore.exceptions import ClientError

    assert isinstance(exc, ClientError)
    assert exc.response["Error"]["Code"] == code and type(exc).__name__ == code, exc.response
    assert exc.response["error"] == error and exc.response["error_description"], exc.response
    assert status_of(exc) == status


def test_register_client_answers_a_secret_that_expires_in_90_days(sso: SsoWorld) -> None:
    before = int(time.time())
    client = sso.register(clientName="my laptop")
    assert client["clientId"] and client["clientSecret"] and client["clientId"] != client["clientSecret"]
    assert before - 5 <= client["clientIdIssuedAt"] <= before + 5
    assert client["clientSecretExpiresAt"] - client["clientIdIssuedAt"] == 90 * 86400
    origin = sso.world.deps.settings.public_origin
    assert client["authorizationEndpoint"] == f"{origin}/authorize"
    assert client["tokenEndpoint"] == f"{origin}/token"
    assert sso.register()["clientId"] != client["clientId"], "every registration is a new client"


def test_register_client_refusals(sso: SsoWorld) -> None:
    _oauth(raised(sso.oidc.register_client, clientName="x", clientType="confidential"),
           "InvalidClientMetadataException", "invalid_client_metadata")
    _oauth(raised(sso.oidc.register_client, clientName="x", clientType="public",
                  grantTypes=["authorization_code"], redirectUris=["https://evil.example/cb"],
                  issuerUrl=sso.start_url), "InvalidRedirectUriException", "invalid_redirect_uri")
    _oauth(raised(sso.oidc.register_client, clientName="x", clientType="public", scopes=["s3:everything"]),
           "InvalidScopeException", "invalid_scope")


def test_device_flow_pending_slow_down_then_tokens_and_the_code_is_single_use(sso: SsoWorld) -> None:
    user = sso.user("grace")
    sso.assign(sso.permission_set("Developers"), user)
    session = sso.sign_in("grace")
    client = sso.register()
    started = sso.start(client)
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["userCode"])
    origin = sso.world.deps.settings.public_origin
    assert started["verificationUri"] == f"{origin}/device"
    assert started["verificationUriComplete"] == f"{origin}/device?user_code={started['userCode']}"
    assert 0 < started["expiresIn"] <= 600 and started["interval"] == oauth.POLL_INTERVAL
    assert len(started["deviceCode"]) >= 32
    _oauth(raised(sso.poll, client=client, device_code=started["deviceCode"]),
           "AuthorizationPendingException", "authorization_pending")
    _oauth(raised(sso.poll, client=client, device_code=started["deviceCode"]), "SlowDownException", "slow_down")
    sso.decide(session, started["userCode"])
    sso.world.clock.offset = started["interval"] + 10.0  # a polite client waits (interval + the slow_down 5 s)
    token = sso.poll(client, started["deviceCode"])
    assert token["tokenType"] == "Bearer" and token["accessToken"] and token["refreshToken"]
    assert 0 < token["expiresIn"] <= 3600
    assert sso.portal.list_accounts(accessToken=token["accessToken"])["accountList"][0]["accountId"] == (
        sso.account.account_id)
    sso.world.clock.offset += 30
    _oauth(raised(sso.poll, client=client, device_code=started["deviceCode"]), "InvalidGrantException",
           "invalid_grant")


def test_denied_expired_and_unknown_device_codes(sso: SsoWorld) -> None:
    sso.user("heidi")
    session = sso.sign_in("heidi")
    client = sso.register()
    denied = sso.start(client)
    sso.decide(session, denied["userCode"], allow=False)
    _oauth(raised(sso.poll, client=client, device_code=denied["deviceCode"]), "AccessDeniedException",
           "access_denied")
    _oauth(raised(sso.poll, client=client, device_code="no-such-device-code"), "InvalidGrantException",
           "invalid_grant")
    late = sso.start(client)
    sso.world.clock.offset = late["expiresIn"] + 1.0
    _oauth(raised(sso.poll, client=client, device_code=late["deviceCode"]), "ExpiredTokenException",
           "expired_token")


def test_a_wrong_client_secret_is_invalid_client_401(sso: SsoWorld) -> None:
    client = sso.register()
    wrong = {**client, "clientSecret": client["clientSecret"][:-2] + "xx"}
    _oauth(raised(sso.start, client=wrong), "InvalidClientException", "invalid_client", 401)
    started = sso.start(client)
    _oauth(raised(sso.poll, client=wrong, device_code=started["deviceCode"]), "InvalidClientException",
           "invalid_client", 401)
    unknown = {**client, "clientId": "no-such-client"}
    _oauth(raised(sso.start, client=unknown), "InvalidClientException", "invalid_client", 401)
    other = sso.register()  # another client's device code is no grant of this one
    _oauth(raised(sso.poll, client=other, device_code=started["deviceCode"]), "InvalidGrantException",
           "invalid_grant")


def test_unknown_start_url_and_unsupported_grant_type(sso: SsoWorld) -> None:
    client = sso.register()
    _oauth(raised(sso.oidc.start_device_authorization, clientId=client["clientId"],
                  clientSecret=client["clientSecret"], startUrl="https://elsewhere.example/start"),
           "InvalidRequestException", "invalid_request")
    _oauth(raised(sso.oidc.create_token, clientId=client["clientId"], clientSecret=client["clientSecret"],
                  grantType="password"), "UnsupportedGrantTypeException", "unsupported_grant_type")
    device_only = sso.register(grantTypes=[DEVICE_GRANT])
    _oauth(raised(sso.refresh, client=device_only, refresh_token="r"), "UnauthorizedClientException",
           "unauthorized_client")


def test_refresh_rotates_and_a_reused_refresh_token_revokes_its_family(sso: SsoWorld,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sso.assign(sso.permission_set("Developers"), sso.user("ivan"))
    client = sso.register()
    first = sso.device_token(sso.sign_in("ivan"), client)
    second = sso.refresh(client, first["refreshToken"])
    assert second["accessToken"] != first["accessToken"] and second["refreshToken"] != first["refreshToken"]
    assert sso.portal.list_accounts(accessToken=second["accessToken"])["accountList"]
    # at once (another tool sharing the token cache, refreshing too): refused, nothing revoked
    _oauth(raised(sso.refresh, client=client, refresh_token=first["refreshToken"]), "InvalidGrantException",
           "invalid_grant")
    assert sso.portal.list_accounts(accessToken=second["accessToken"])["accountList"]
    sso.world.shift(monkeypatch, oauth.REFRESH_REUSE_GRACE + 5)
    _oauth(raised(sso.refresh, client=client, refresh_token=first["refreshToken"]), "InvalidGrantException",
           "invalid_grant")
    # the reuse revoked the whole family: the newest access and refresh tokens too
    gone = raised(sso.portal.list_accounts, accessToken=second["accessToken"])
    assert gone.response["Error"]["Code"] == "UnauthorizedException" and status_of(gone) == 401
    _oauth(raised(sso.refresh, client=client, refresh_token=second["refreshToken"]), "InvalidGrantException",
           "invalid_grant")


def _pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(b"v" * 48).decode().rstrip("=")
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def test_authorization_code_with_pkce(sso: SsoWorld) -> None:
    sso.assign(sso.permission_set("Developers"), sso.user("judy"))
    session = sso.sign_in("judy")
    client = sso.register(grantTypes=["authorization_code", "refresh_token"],
                          redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=sso.start_url)
    verifier, challenge = _pkce()
    redirect_uri = "http://127.0.0.1:43123/oauth/callback"

    def approved_code() -> str:
        async def approve(deps: Deps) -> sso_oidc.Decision:
            pending = await sso_oidc.begin_authorization(
                deps, BROWSER, response_type="code", client_id=client["clientId"], redirect_uri=redirect_uri,
                state="st4te", code_challenge=challenge, code_challenge_method="S256",
                scopes=["sso:account:access"])
            signed = await portal_signin.signed_in(deps, session)
            assert signed is not None
            return await sso_oidc.decide(deps, BROWSER, signed, pending.id, True)

        decision = sso.world.run(approve)
        assert decision.allowed and decision.redirect_to
        back = urlsplit(decision.redirect_to)
        assert f"{back.scheme}://{back.netloc}{back.path}" == redirect_uri
        params = parse_qs(back.query)
        assert params["state"] == ["st4te"]
        return params["code"][0]

    def exchange(code: str, code_verifier: str) -> dict[str, object]:
        token: dict[str, object] = sso.oidc.create_token(
            clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="authorization_code",
            code=code, redirectUri=redirect_uri, codeVerifier=code_verifier)
        return token

    _oauth(raised(exchange, code=approved_code(), code_verifier=verifier[:-1] + ("A" if verifier[-1] != "A"
                                                                                  else "B")),
           "InvalidGrantException", "invalid_grant")
    code = approved_code()
    token = exchange(code, verifier)
    assert token["accessToken"] and token["tokenType"] == "Bearer" and token["refreshToken"]
    assert sso.portal.list_accounts(accessToken=token["accessToken"])["accountList"]
    _oauth(raised(exchange, code=code, code_verifier=verifier), "InvalidGrantException", "invalid_grant")


def test_missing_members_and_bad_bodies_are_invalid_request_in_the_oauth_shape(sso: SsoWorld) -> None:
    for path, body in (("/client/register", b'{"clientType":"public"}'),
                       ("/device_authorization", b'{"clientId":"a","clientSecret":"b"}'),
                       ("/token", b'{"clientId":"a","clientSecret":"b","grantType":7}'),
                       ("/token", b"not json"), ("/token", b"[1, 2]"),
                       ("/client/register", b'{"clientName":"x","clientType":"public","scopes":"one"}')):
        r = httpx.post(sso.world.url + path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (path, body, r.text)
        assert r.headers["x-amzn-errortype"] == "InvalidRequestException"
        answer = r.json()
        assert answer["error"] == "invalid_request" and answer["error_description"] == answer["message"]
    r = httpx.post(sso.world.url + "/token", content=b'{"clientSecret":"very secret"}',
                   headers={"Content-Type": "application/json"})
    assert "clientId" in r.json()["message"] and "grantType" in r.json()["message"]
    assert "very secret" not in r.text
    # a form post (no CSRF field: not a page's) is no JSON either
    r = httpx.post(sso.world.url + "/token", data={"grant_type": DEVICE_GRANT})
    assert r.status_code == 400 and r.headers["x-amzn-errortype"] == "InvalidRequestException"


def test_control_characters_are_clear_errors_on_every_database(sso: SsoWorld) -> None:
    """A NUL is refused before it reaches the store (PostgreSQL rejects it in text): 4xx, never a 500."""
    pkce_client = sso.register(grantTypes=["authorization_code", "refresh_token"],
                               redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=sso.start_url)
    _verifier, challenge = _pkce()
    good = {"response_type": "code", "client_id": pkce_client["clientId"],
            "redirect_uri": "http://127.0.0.1:5000/oauth/callback", "state": "s", "code_challenge": challenge,
            "code_challenge_method": "S256", "scopes": "sso:account:access"}
    with httpx.Client(base_url=sso.world.url, timeout=30, follow_redirects=False) as http:
        api = [
            http.post("/device_authorization", json={"clientId": "\u0000", "clientSecret": "x",
                                                     "startUrl": sso.start_url}),
            http.post("/token", json={"clientId": "\u0000", "clientSecret": "x", "grantType": DEVICE_GRANT,
                                      "deviceCode": "x"}),
            http.post("/client/register", json={"clientName": "n", "clientType": "public",
                                                "grantTypes": ["authorization_code"],
                                                "redirectUris": ["http://127.0.0.1/c\u0000b"]}),
            http.get("/assignment/roles", params={"account_id": "\u0000"},
                     headers={"x-amz-sso_bearer_token": "t"}),
            http.get("/federation/credentials", params={"account_id": "123456789012", "role_name": "\u0000"},
                     headers={"x-amz-sso_bearer_token": "t"}),
        ]
        pages = [
            http.get("/device/confirm", params={"flow": "\u0000"}),
            http.get("/authorize", params={**good, "client_id": "\u0000"}),
            http.get("/authorize", params={**good, "state": "a\u0000b"}),
            http.get("/device", params={"user_code": "\u0000"}),
        ]
    for answer in api:
        assert 400 <= answer.status_code < 500, (answer.request.url, answer.status_code, answer.text)
        assert answer.headers["x-amzn-errortype"] != "InternalServerException"
    for answer in pages:
        assert 400 <= answer.status_code < 500, (answer.request.url, answer.status_code, answer.text[:300])
