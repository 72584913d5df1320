"""The sign-in service (`signin`) through real boto3 clients against the live server: CreateOAuth2Token unsigned
with a DPoP proof added by botocore's own before-call handler (the authorization code grant, approved in-process
through the service as the confirmation page does, then the refresh grant), botocore's LoginCredentialFetcher
refreshing and then told to log in again, ListSessions, GetSession and BatchRevokeSessions signed; every error
shape parsed by botocore into the model's exception with `e.response["error"]` set; the operations that share
`POST /v1/token` but are named by a query parameter refused; input that breaks the model refused."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.config
import httpx
import pytest
from awscrt.crypto import EC, ECExportFormat, ECType
from botocore import UNSIGNED
from botocore.credentials import LoginCredentialFetcher, _build_add_dpop_header_handler, _build_dpop_header
from botocore.exceptions import ClientError, LoginRefreshRequired

from integration.aws.aws_world import REGION, Account, AwsWorld, Keys
from integration.aws.sso_cli_world import raised, status_of
from vestibule.services import cli_login, principals, sessions
from vestibule.services.context import Client, Deps
from vestibule.services.signin.completion import complete_sign_in

BROWSER = Client(ip="127.0.0.1", user_agent="test browser")
REDIRECT = "http://127.0.0.1:43219/oauth/callback"
SIGNIN_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"],
     "Resource": "*"}]})


def custom_endpoint_wins(builtins: dict[str, Any], **_: Any) -> None:
    if builtins.get("SDK::Endpoint"):
        builtins["AWS::Region"] = None


def _pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("=")
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _pem(key: EC) -> str:
    der = base64.b64encode(key.export_key(ECExportFormat.SEC1)).decode()
    return "-----BEGIN EC PRIVATE KEY-----\n" + der + "\n-----END EC PRIVATE KEY-----\n"


def _signin_error(exc: ClientError, code: str, error: str, status: int = 400) -> None:
    """botocore raised the model's `code` with the OAuth2ErrorCode `error` (and a message)."""
    assert exc.response["Error"]["Code"] == code and type(exc).__name__ == code, exc.response
    assert exc.response.get("error") == error, exc.response
    assert exc.response["Error"]["Message"], exc.response
    assert status_of(exc) == status, exc.response


@dataclass
class Login:
    tokens: dict[str, Any]
    key: EC

    @property
    def keys(self) -> Keys:
        access = self.tokens["accessToken"]
        return Keys(access["accessKeyId"], access["secretAccessKey"], access["sessionToken"])


class SigninWorld:
    """One account: its root or IAM users signed in to the console (in-process, as the sign-in pages end),
    CLI logins approved through the service, and boto3 `signin` clients."""

    def __init__(self, world: AwsWorld, account: Account) -> None:
        self.world, self.account = world, account
        config = botocore.config.Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 1},
                                        connect_timeout=10, read_timeout=20)
        self.config = config

    def token_client(self, key: EC | None = None) -> Any:
        """An unsigned client that adds a DPoP proof of `key` as botocore's login provider does."""
        client = self.world._session.client("signin", endpoint_url=self.world.url, region_name=REGION,
                                            config=self.config)
        if key is not None:
            client.meta.events.register("before-call.signin.CreateOAuth2Token", _build_add_dpop_header_handler(key))
        return client

    def signin(self, keys: Keys, *, validate: bool = True) -> Any:
        """A signed client. botocore's endpoint rules send the control-plane operations (ListSessions, GetSession,
        BatchRevokeSessions) to signin.<region>.api.aws whenever a region is set, even with an endpoint URL; the
        hook hides the region from the rules when an endpoint URL is given (it still signs for the region)."""
        client = self.world.client("signin", keys, validate=validate)
        client.meta.events.register("before-endpoint-resolution.signin", custom_endpoint_wins)
        return client

    def user(self, name: str, policy: str | None = SIGNIN_ALL) -> str:
        """An IAM user (with `policy` inline): its principal key."""
        iam = self.world.iam(self.account.root)
        user_id = iam.create_user(UserName=name)["User"]["UserId"]
        if policy is not None:
            iam.put_user_policy(UserName=name, PolicyName="cli", PolicyDocument=policy)
        return f"user:{user_id}"

    def console(self, principal_key: str) -> str:
        """A console session of the principal: its cookie token."""

        async def sign_in(deps: Deps) -> str:
            async with deps.store.unit() as uow:
                loaded = await principals.load(uow, principal_key)
            assert loaded is not None
            done = await complete_sign_in(deps.session_ports, principal=loaded.principal, client=BROWSER,
                                          method="password", mfa_used=False)
            return done.session.token

        return self.world.run(sign_in)

    def code(self, console_token: str, challenge: str, *, redirect_uri: str = REDIRECT) -> str:
        """`GET /v1/authorize` and Allow, through the service as the pages call it: the authorization code."""

        async def approve(deps: Deps) -> cli_login.LoginDecision:
            request = await cli_login.begin(deps, BROWSER, response_type="code", client_id=cli_login.SAME_DEVICE,
                                            redirect_uri=redirect_uri, state="st4te", code_challenge=challenge,
                                            code_challenge_method="SHA-256")
            signed = await sessions.signed_in(deps.session_ports, console_token)
            assert signed is not None
            return await cli_login.decide(deps, BROWSER, signed, request.id, True)

        decision = self.world.run(approve)
        assert decision.allowed and decision.redirect_to, decision
        back = urlsplit(decision.redirect_to)
        assert f"{back.scheme}://{back.netloc}{back.path}" == redirect_uri
        params = parse_qs(back.query)
        assert params["state"] == ["st4te"]
        return params["code"][0]

    def login(self, principal_key: str) -> Login:
        """The whole `vestibule login` through the wire: console session, approval, code grant with DPoP."""
        verifier, challenge = _pkce()
        code = self.code(self.console(principal_key), challenge)
        key = EC.new_generate(ECType.P_256)
        answer = self.token_client(key).create_o_auth2_token(tokenInput={
            "clientId": cli_login.SAME_DEVICE, "grantType": "authorization_code", "code": code,
            "redirectUri": REDIRECT, "codeVerifier": verifier})
        return Login(answer["tokenOutput"], key)

    def refresh(self, login: Login, refresh_token: str | None = None, key: EC | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self.token_client(key or login.key).create_o_auth2_token(tokenInput={
            "clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token",
            "refreshToken": refresh_token or login.tokens["refreshToken"]})
        out: dict[str, Any] = answer["tokenOutput"]
        return out


@pytest.fixture
def signin(world: AwsWorld, account: Account) -> SigninWorld:
    return SigninWorld(world, account)


def _post(world: AwsWorld, path: str, body: bytes, headers: dict[str, str] | None = None,
          query: str = "") -> httpx.Response:
    return httpx.post(world.url + path + (f"?{query}" if query else ""), content=body,
                      headers={"Content-Type": "application/json", **(headers or {})}, timeout=30)


def _refused_in_shape(r: httpx.Response, code: str, error: str, status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["x-amzn-errortype"] == code, r.headers
    assert r.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = r.json()
    assert answer["__type"] == code and answer["error"] == error and answer["message"], answer
    assert "error_description" not in answer
    return answer


# ---- the happy paths (with the service) ------------------------------------------------------------------------

def test_a_user_logs_in_and_refreshes_and_the_credentials_are_the_users(signin: SigninWorld) -> None:
    key = signin.user("ada")
    login = signin.login(key)
    out = login.tokens
    assert out["tokenType"] == "aws_sigv4" and 0 < out["expiresIn"] <= 900 and out["refreshToken"]
    assert set(out["accessToken"]) == {"accessKeyId", "secretAccessKey", "sessionToken"}
    who = signin.world.sts(login.keys).get_caller_identity()
    assert who["Arn"] == signin.account.user_arn("ada") and who["Account"] == signin.account.account_id
    refreshed = signin.refresh(login)
    assert refreshed["refreshToken"] != out["refreshToken"]
    assert refreshed["accessToken"]["accessKeyId"] != out["accessToken"]["accessKeyId"]
    again = Login(refreshed, login.key)
    assert signin.world.sts(again.keys).get_caller_identity()["Arn"] == signin.account.user_arn("ada")


def test_the_answer_names_account_principal_and_session_beyond_the_model(signin: SigninWorld) -> None:
    """botocore drops members its model lacks; `vestibule login` reads them from the raw answer."""
    verifier, challenge = _pkce()
    code = signin.code(signin.console(f"root:{signin.account.account_id}"), challenge)
    key = EC.new_generate(ECType.P_256)
    url = signin.world.url + "/v1/token"
    r = httpx.post(url, json={"clientId": cli_login.SAME_DEVICE, "grantType": "authorization_code", "code": code,
                              "redirectUri": REDIRECT, "codeVerifier": verifier},
                   headers={"DPoP": _build_dpop_header(key, url)}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    answer = r.json()
    assert answer["accountId"] == signin.account.account_id
    assert answer["principalArn"] == signin.account.root_arn
    assert answer["sessionArn"].startswith(f"arn:aws:signin::{signin.account.account_id}:session/")


def test_botocores_login_fetcher_refreshes_then_is_told_to_log_in_again(signin: SigninWorld) -> None:
    """botocore's own LoginCredentialFetcher (what a `login_session` profile runs) against the server: near expiry
    it refreshes through CreateOAuth2Token with DPoP and saves the new tokens; once an administrator revoked the
    session, it raises LoginRefreshRequired (it read `error` = USER_CREDENTIALS_CHANGED or TOKEN_EXPIRED)."""
    user_key = signin.user("bea")
    login = signin.login(user_key)
    soon = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cached = {"accessToken": {**login.tokens["accessToken"], "accountId": signin.account.account_id,
                              "expiresAt": soon},
              "refreshToken": login.tokens["refreshToken"], "dpopKey": _pem(login.key),
              "clientId": cli_login.SAME_DEVICE, "signInRegion": REGION}

    class Tokens:
        def __init__(self, token: dict[str, Any]) -> None:
            self.token = token

        def load_token(self, name: str) -> dict[str, Any]:
            return copy.deepcopy(self.token)

        def save_token(self, name: str, token: dict[str, Any]) -> None:
            self.token = copy.deepcopy(token)

    tokens = Tokens(cached)

    def client_creator(service: str, **kw: Any) -> Any:
        kw.setdefault("region_name", REGION)
        return signin.world._session.client(service, endpoint_url=signin.world.url, **kw)

    fetcher = LoginCredentialFetcher(signin.account.user_arn("bea"), tokens, client_creator)
    fresh = fetcher.refresh_credentials()
    assert fresh["access_key"] != login.tokens["accessToken"]["accessKeyId"]
    assert tokens.token["refreshToken"] != login.tokens["refreshToken"]
    keys = Keys(fresh["access_key"], fresh["secret_key"], fresh["token"])
    assert signin.world.sts(keys).get_caller_identity()["Arn"] == signin.account.user_arn("bea")

    root = signin.signin(signin.account.root)
    everyone = f"arn:aws:iam::{signin.account.account_id}:*"
    listed = root.list_sessions(principalArn=everyone, status="ACTIVE")["items"]
    cli = [s for s in listed if s.get("clientType") == "CLI" and s["principalArn"] == signin.account.user_arn("bea")]
    assert len(cli) == 1
    revoked = root.batch_revoke_sessions(principalArn=everyone, sessionArns=[cli[0]["sessionArn"]],
                                         reason="laptop lost")
    assert revoked["revokedSessions"] == [{"sessionArn": cli[0]["sessionArn"]}] and revoked["errors"] == []
    tokens.token["accessToken"]["expiresAt"] = soon  # near expiry again: botocore refreshes
    with pytest.raises(LoginRefreshRequired):
        fetcher.refresh_credentials()


def test_sessions_listed_got_and_revoked_by_their_owner(signin: SigninWorld) -> None:
    user_key = signin.user("cyd", policy=SIGNIN_ALL)
    login = signin.login(user_key)
    mine = signin.signin(login.keys)
    items = mine.list_sessions()["items"]
    assert items, "the caller's own sessions, no permission needed"
    cli = [s for s in items if s.get("clientType") == "CLI"]
    assert len(cli) == 1
    session = cli[0]
    assert session["principalArn"] == signin.account.user_arn("cyd") and session["status"] == "ACTIVE"
    assert session["clientId"] == cli_login.SAME_DEVICE
    assert session["sessionArn"].startswith(f"arn:aws:signin::{signin.account.account_id}:session/")
    now = int(datetime.now(UTC).timestamp())
    assert now - 120 <= session["issuedAt"] <= now + 5, "epoch seconds, as the model documents"
    assert session["issuedAt"] < session["expiresAt"] <= now + 86400
    got = mine.get_session(sessionArn=session["sessionArn"])
    assert {k: got[k] for k in session} == session
    assert now - 120 <= got["lastUsedAt"] <= now + 5
    assert got.get("issuedInRegion") in (REGION, None) and got["userAgent"].startswith("Boto3/")
    assert mine.list_sessions(issuedAfter=now + 3600)["items"] == []
    assert session in mine.list_sessions(issuedAfter=now - 3600, issuedBefore=now + 3600)["items"]
    assert mine.list_sessions(issuedBefore=session["issuedAt"] - 3600)["items"] == []
    assert session in mine.list_sessions(status="ACTIVE", clientId=cli_login.SAME_DEVICE)["items"]
    done = mine.batch_revoke_sessions(sessionArns=[session["sessionArn"]])
    assert done == {"revokedSessions": [{"sessionArn": session["sessionArn"]}], "errors": [],
                    "ResponseMetadata": done["ResponseMetadata"]}
    _signin_error(raised(signin.refresh, login=login), "AccessDeniedException", "USER_CREDENTIALS_CHANGED")
    # revoking a revoked session succeeds (the model: idempotent)
    assert signin.signin(signin.account.root).batch_revoke_sessions(
        principalArn=signin.account.user_arn("cyd"), sessionArns=[session["sessionArn"]])["errors"] == []


def test_pagination_of_list_sessions(signin: SigninWorld) -> None:
    root_key = f"root:{signin.account.account_id}"
    for _ in range(3):
        signin.console(root_key)
    root = signin.signin(signin.account.root)
    seen: list[str] = []
    page = root.list_sessions(principalArn=signin.account.root_arn, maxResults=1)
    while True:
        assert len(page["items"]) <= 1
        seen += [s["sessionArn"] for s in page["items"]]
        if "nextToken" not in page:
            break
        page = root.list_sessions(principalArn=signin.account.root_arn, maxResults=1, nextToken=page["nextToken"])
    assert len(seen) == len(set(seen)) >= 3


# ---- errors botocore parses (with the service) -----------------------------------------------------------------

def test_create_oauth2_token_refusals_in_the_models_shapes(signin: SigninWorld) -> None:
    login = signin.login(signin.user("dot"))
    key = EC.new_generate(ECType.P_256)
    # no DPoP header at all
    _signin_error(raised(signin.token_client(None).create_o_auth2_token, tokenInput={
        "clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "x"}),
        "ValidationException", "invalid_request")
    # a proof of another key than the login's
    _signin_error(raised(signin.refresh, login=login, key=key), "ValidationException", "invalid_request")
    # an unknown refresh token
    _signin_error(raised(signin.refresh, login=login, refresh_token="no-such-token"), "ValidationException",
                  "invalid_grant")
    # an unknown code
    verifier, _challenge = _pkce()
    _signin_error(raised(signin.token_client(key).create_o_auth2_token, tokenInput={
        "clientId": cli_login.SAME_DEVICE, "grantType": "authorization_code", "code": "no-such-code",
        "redirectUri": REDIRECT, "codeVerifier": verifier}), "ValidationException", "invalid_grant")


def test_the_proof_names_the_public_url_never_the_host_the_request_carries(signin: SigninWorld) -> None:
    """htu: only the public origin's URL. A proof made for another server is refused even when the request
    carries that server's Host (someone the client was pointed at must not be able to replay it here); a proof
    sent twice is refused."""
    login = signin.login(signin.user("gus"))
    url = signin.world.url + "/v1/token"
    public = signin.world.deps.settings.public_origin + "/v1/token"
    elsewhere = "http://vestibule.internal:8080/v1/token"

    def refresh(htu: str, proof: str | None = None, host: str | None = None) -> httpx.Response:
        headers = {"DPoP": proof or _build_dpop_header(login.key, htu)}
        if host:
            headers["Host"] = host
        answer = httpx.post(url, json={"clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token",
                                       "refreshToken": login.tokens["refreshToken"]}, headers=headers, timeout=30)
        if answer.status_code == 200:
            login.tokens = answer.json()
        return answer

    for wrong in ("http://evil.example/v1/token", signin.world.url + "/token", public + "/",
                  "https://vestibule.internal:8080/v1/token"):
        _refused_in_shape(refresh(wrong), "ValidationException", "invalid_request")
    _refused_in_shape(refresh(elsewhere, host="vestibule.internal:8080"), "ValidationException", "invalid_request")
    _refused_in_shape(refresh("http://evil.example/v1/token", host="evil.example"), "ValidationException",
                      "invalid_request")
    proof = _build_dpop_header(login.key, public)
    assert refresh(public, proof).status_code == 200
    _refused_in_shape(refresh(public, proof), "ValidationException", "invalid_request")  # the same jti again


def test_another_principals_sessions_need_permission_and_unknown_ones_are_not_found(signin: SigninWorld) -> None:
    signin.user("eve")
    eve = Keys.of(signin.world.iam(signin.account.root).create_access_key(UserName="eve")["AccessKey"])
    client = signin.signin(eve)
    _signin_error(raised(client.list_sessions, principalArn=signin.account.root_arn), "AccessDeniedException",
                  "INSUFFICIENT_PERMISSIONS")
    _signin_error(raised(client.list_sessions, principalArn=f"arn:aws:iam::{signin.account.account_id}:*"),
                  "AccessDeniedException", "INSUFFICIENT_PERMISSIONS")
    unknown = f"arn:aws:signin::{signin.account.account_id}:session/{uuid.uuid4().hex}"
    # a session that is not the caller's, or none at all: the same refusal without permission (no enumeration)
    _signin_error(raised(client.get_session, sessionArn=unknown), "AccessDeniedException",
                  "INSUFFICIENT_PERMISSIONS")
    _signin_error(raised(signin.signin(signin.account.root).get_session, sessionArn=unknown),
                  "ResourceNotFoundException", "RESOURCE_NOT_FOUND", 404)
    _signin_error(raised(signin.signin(signin.account.root).get_session, sessionArn="not an arn"),
                  "ResourceNotFoundException", "RESOURCE_NOT_FOUND", 404)


def test_batch_revoke_reports_each_failure_in_its_errors_list_and_does_not_fail(signin: SigninWorld) -> None:
    """The model: failures for individual sessions are in `errors` and do not fail the whole request, also when
    no session at all could be revoked."""
    login = signin.login(signin.user("fay"))
    mine = signin.signin(login.keys).list_sessions()["items"]
    own = next(s["sessionArn"] for s in mine if s.get("clientType") == "CLI")
    unknown = f"arn:aws:signin::{signin.account.account_id}:session/{uuid.uuid4().hex}"
    root = signin.signin(signin.account.root)
    failed = root.batch_revoke_sessions(sessionArns=[unknown])
    assert failed["revokedSessions"] == [] and [e["sessionArn"] for e in failed["errors"]] == [unknown]
    assert failed["errors"][0]["code"] == "RESOURCE_NOT_FOUND" and failed["errors"][0]["message"]
    mixed = root.batch_revoke_sessions(sessionArns=[unknown, own])
    assert mixed["revokedSessions"] == [{"sessionArn": own}]
    assert [e["sessionArn"] for e in mixed["errors"]] == [unknown]


def test_an_internal_error_is_internal_server_exception_with_server_error(signin: SigninWorld,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault injected into the use case (the live server runs in this process): never a traceback."""

    async def broken(*args: Any, **kwargs: Any) -> cli_login.LoginTokens:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(cli_login, "create_token", broken)
    exc = raised(signin.token_client(EC.new_generate(ECType.P_256)).create_o_auth2_token, tokenInput={
        "clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "x"})
    _signin_error(exc, "InternalServerException", "server_error", 500)
    assert "database" not in exc.response["Error"]["Message"]


def test_too_many_attempts_is_too_many_requests_error_429(signin: SigninWorld,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The use case's TooManyAttempts (injected: no signin operation throttles by itself yet) reaches botocore as
    the model's TooManyRequestsError with `error` rate_exceeded and the wait."""
    from vestibule.errors import TooManyAttempts

    async def throttled(*args: Any, **kwargs: Any) -> cli_login.LoginTokens:
        raise TooManyAttempts(42)

    monkeypatch.setattr(cli_login, "create_token", throttled)
    exc = raised(signin.token_client(EC.new_generate(ECType.P_256)).create_o_auth2_token, tokenInput={
        "clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "x"})
    _signin_error(exc, "TooManyRequestsError", "rate_exceeded", 429)
    assert "42 seconds" in exc.response["Error"]["Message"]


# ---- the wire alone: no operation of the use case runs ----------------------------------------------------------

def test_bad_bodies_wrong_types_and_control_characters_are_validation_errors(signin: SigninWorld) -> None:
    good = {"clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "r"}
    for body in (b"not json", b"[1, 2]", b'{"clientId": ', b"\xff\xfe",
                 json.dumps({**good, "grantType": 7}).encode(),
                 json.dumps({**good, "refreshToken": ["r"]}).encode(),
                 json.dumps({**good, "clientId": "arn:aws:signin:::devtools/other-device"}).encode(),
                 json.dumps({**good, "clientId": cli_login.SAME_DEVICE + "\u0000"}).encode(),
                 json.dumps({**good, "refreshToken": "a\u0000b"}).encode(),
                 json.dumps({**good, "codeVerifier": "short"}).encode(),
                 json.dumps({**good, "grantType": "password"}).encode(),
                 json.dumps({"grantType": "refresh_token"}).encode()):
        _refused_in_shape(_post(signin.world, "/v1/token", body), "ValidationException", "INVALID_REQUEST")
    answer = _refused_in_shape(_post(signin.world, "/v1/token", json.dumps({"refreshToken": "very secret"}).encode()),
                               "ValidationException", "INVALID_REQUEST")
    assert "clientId" in answer["message"] and "grantType" in answer["message"]
    assert "very secret" not in answer["message"]
    # a form post (no CSRF field: not a page's) is no JSON either
    r = httpx.post(signin.world.url + "/v1/token", data={"grant_type": "refresh_token"}, timeout=30)
    _refused_in_shape(r, "ValidationException", "INVALID_REQUEST")


def test_botocore_parses_a_model_violation_as_validation_exception(signin: SigninWorld) -> None:
    client = signin.token_client(EC.new_generate(ECType.P_256))
    exc = raised(client.create_o_auth2_token, tokenInput={"clientId": "arn:aws:signin:::devtools/elsewhere",
                                                          "grantType": "refresh_token", "refreshToken": "r"})
    _signin_error(exc, "ValidationException", "INVALID_REQUEST")
    assert "clientId" in exc.response["Error"]["Message"]


def test_dpop_header_shape(signin: SigninWorld) -> None:
    key = EC.new_generate(ECType.P_256)
    url = signin.world.url + "/v1/token"
    body = json.dumps({"clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "r"}).encode()
    proof = _build_dpop_header(key, url)
    repeated: list[tuple[str, str]] = [("Content-Type", "application/json"), ("DPoP", proof),
                                       ("DPoP", _build_dpop_header(key, url))]
    two = httpx.post(url, content=body, headers=repeated, timeout=30)
    assert "several" in _refused_in_shape(two, "ValidationException", "invalid_request")["message"]
    for bad in ("not a jwt", "a.b", "a.b.c.d", "x" * 5000 + ".a.b", "é.a.b"):
        r = httpx.post(url, content=body, headers={b"Content-Type": b"application/json", b"DPoP": bad.encode()},
                       timeout=30)
        _refused_in_shape(r, "ValidationException", "invalid_request")


def test_operations_named_by_a_query_parameter_are_refused_never_answered_as_create_oauth2_token(
        signin: SigninWorld) -> None:
    key = EC.new_generate(ECType.P_256)
    token_body = {"clientId": cli_login.SAME_DEVICE, "grantType": "refresh_token", "refreshToken": "r"}
    url = signin.world.url + "/v1/token"
    for query, operation in (("x-amz-token-request-type=bearer", "CreateBearerToken"),
                             ("x-amz-client-auth-method=iam", "CreateOAuth2TokenWithIAM"),
                             ("x-amz-oauth-token-method=token-exchange", "CreateOAuth2TokenWithTokenExchange"),
                             ("x-amz-oauth-token-method=", "CreateOAuth2TokenWithTokenExchange")):
        r = _post(signin.world, "/v1/token", json.dumps(token_body).encode(),
                  {"DPoP": _build_dpop_header(key, url)}, query=query)
        answer = _refused_in_shape(r, "UnknownOperationException", "invalid_request", 404)
        assert operation in answer["message"] and "not served" in answer["message"]
    # and through botocore, signed or not as the model says
    root = signin.signin(signin.account.root)
    for call, kw in ((root.create_bearer_token, {"grantType": "client_credentials", "resource": "r"}),
                     (root.create_oauth2_token_with_iam, {"grantType": "client_credentials", "resource": "r"}),
                     (signin.token_client(None).create_o_auth2_token_with_token_exchange,
                      {"grantType": "urn:ietf:params:oauth:grant-type:token-exchange", "subjectToken": "tttt",
                       "subjectTokenType": "urn:ietf:params:oauth:token-type:jwt", "resource": "r"})):
        exc = raised(call, **kw)
        assert exc.response["Error"]["Code"] == "UnknownOperationException" and status_of(exc) == 404, exc.response
        assert "not served" in exc.response["Error"]["Message"]


def test_other_operations_of_the_model_are_unknown_in_the_services_shape(signin: SigninWorld) -> None:
    root = signin.signin(signin.account.root)
    for call, kw in ((root.get_resource_policy, {}),
                     (root.introspect_oauth2_token_with_iam, {"token": "t"}),
                     (root.revoke_oauth2_token_with_iam, {"token": "ASORabc"}),
                     (root.get_console_authorization_configuration, {})):
        exc = raised(call, **kw)
        assert exc.response["Error"]["Code"] == "UnknownOperationException" and status_of(exc) == 404, exc.response
    r = httpx.get(signin.world.url + "/v1/token", timeout=30)
    _refused_in_shape(r, "UnknownOperationException", "invalid_request", 404)


def test_signed_operations_validate_their_members(signin: SigninWorld) -> None:
    root = signin.signin(signin.account.root, validate=False)
    arn = f"arn:aws:signin::{signin.account.account_id}:session/{uuid.uuid4().hex}"
    bad: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
        (root.list_sessions, {"principalArn": "arn:aws:iam::123:user/x"}, "principalArn"),
        (root.list_sessions, {"principalArn": f"arn:aws:iam::{signin.account.account_id}:group/g"}, "principalArn"),
        (root.list_sessions, {"maxResults": 0}, "maxResults"),
        (root.list_sessions, {"maxResults": 101}, "maxResults"),
        (root.list_sessions, {"status": "PENDING"}, "status"),
        (root.list_sessions, {"nextToken": "not a token!"}, "nextToken"),
        (root.list_sessions, {"issuedAfter": 2**70}, "issuedAfter"),
        (root.list_sessions, {"clientId": "a\u0000b"}, "clientId"),
        (root.get_session, {}, "sessionArn"),
        (root.get_session, {"sessionArn": "x" * 257}, "sessionArn"),
        (root.get_session, {"sessionArn": arn, "principalArn": "nobody"}, "principalArn"),
        (root.batch_revoke_sessions, {"sessionArns": []}, "sessionArns"),
        (root.batch_revoke_sessions, {"sessionArns": [arn] * 6}, "sessionArns"),
        (root.batch_revoke_sessions, {"sessionArns": ["x" * 257]}, "sessionArns.1.member"),
        (root.batch_revoke_sessions, {"sessionArns": [arn], "reason": "r" * 257}, "reason"),
        (root.batch_revoke_sessions, {}, "sessionArns"),
    ]
    for call, kw, member in bad:
        exc = raised(call, **kw)
        _signin_error(exc, "ValidationException", "INVALID_REQUEST")
        assert f"'{member}'" in exc.response["Error"]["Message"], (kw, exc.response)


def test_signed_operations_refuse_unsigned_and_badly_signed_requests_in_the_services_shape(
        signin: SigninWorld) -> None:
    r = _post(signin.world, "/list-sessions", b"{}")
    assert r.status_code in (400, 403), r.text
    answer = r.json()
    assert answer["__type"] == r.headers["x-amzn-errortype"] and answer["error"] and answer["message"]
    assert r.headers["cache-control"] == "no-store"
    wrong = Keys(signin.account.root.access_key_id, "not the secret")
    exc = raised(signin.signin(wrong).list_sessions)
    assert exc.response["Error"]["Code"] == "SignatureDoesNotMatch" and status_of(exc) == 403


@pytest.mark.parametrize("body", [
    b'{"clientId":"arn:aws:signin:::devtools/same-device","grantType":"\\ud800"}',  # quoted back in the message
    b'{"clientId":"arn:aws:signin:::devtools/same-device","grantType":"refresh_token","refreshToken":"a\\udfff"}',
    b'{"clientId":"arn:aws:signin:::devtools/same-device","grantType":"authorization_code","code":"\\ud800",'
    b'"redirectUri":"http://127.0.0.1:1/cb","codeVerifier":"' + b"v" * 43 + b'"}',
    b'{"clientId":"arn:aws:signin:::devtools/same-device","grantType":"\xed\xa0\x80"}',  # the surrogate as bytes
])
def test_a_lone_surrogate_is_invalid_input_not_a_server_error(signin: SigninWorld, body: bytes) -> None:
    """JSON can spell a lone UTF-16 surrogate (`\\ud800`), which no UTF-8 text holds: refused as the request's
    fault before anything hashes or quotes it."""
    answer = httpx.post(signin.world.url + "/v1/token", content=body,
                        headers={"Content-Type": "application/json"}, timeout=30)
    _refused_in_shape(answer, "ValidationException", "INVALID_REQUEST")
    sso = httpx.post(signin.world.url + "/token", content=b'{"clientId":"\\ud800","clientSecret":"x",'
                     b'"grantType":"refresh_token"}', headers={"Content-Type": "application/json"}, timeout=30)
    assert sso.status_code == 400 and sso.json()["__type"] == "InvalidRequestException", sso.text
