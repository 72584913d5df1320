"""`vestibule login` / `vestibule logout` on the user's side, against a small signin server that checks what a
real one checks of the client (PKCE S256, the loopback or cross-device redirect URI, the DPoP proof: ES256 over
the request's URL, recent, unseen `jti`, the key bound at login) and answers the shapes of botocore's model. The
cache file is then read by botocore's own login credential provider (with awscrt), which refreshes through the
same server with its own DPoP proofs: the file is what botocore expects, not what this client thinks it is."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import httpx
import pytest
from awscrt.crypto import EC
from botocore.credentials import LoginCredentialFetcher, _build_dpop_header
from botocore.exceptions import LoginRefreshRequired
from botocore.utils import JSONFileCache, LoginTokenLoader
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from vestibule import cli
from vestibule.client import login as login_module
from vestibule.client.aws_config import ConfigFile
from vestibule.client.browser import pkce_pair
from vestibule.client.dpop_key import DpopKey, KeyProblem, b64url
from vestibule.client.login import CROSS_DEVICE, SAME_DEVICE, cache_path, remove_login_session

ACCOUNT = "123456789012"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- an independent DPoP check (cryptography only; what the server must do) ------------------------------

def verify_proof(proof: str, url: str, method: str = "POST", max_age: int = 60) -> dict[str, Any]:
    """The proof's header and payload after checking it as RFC 9449 4.3 says; AssertionError otherwise."""
    head_b64, body_b64, sig_b64 = proof.split(".")
    header, payload = json.loads(_b64decode(head_b64)), json.loads(_b64decode(body_b64))
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256", header
    jwk = header["jwk"]
    assert set(jwk) == {"kty", "crv", "x", "y"} and jwk["kty"] == "EC" and jwk["crv"] == "P-256", jwk
    x, y = _b64decode(jwk["x"]), _b64decode(jwk["y"])
    assert len(x) == len(y) == 32
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                           ec.SECP256R1()).public_key()
    signature = _b64decode(sig_b64)
    assert len(signature) == 64, "ES256: r and s, 32 bytes each"
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, f"{head_b64}.{body_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    assert payload["htm"] == method and payload["htu"] == url, payload
    assert abs(time.time() - payload["iat"]) <= max_age, payload
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["jti"]), payload
    return {"header": header, "payload": payload}


def thumbprint(jwk: dict[str, str]) -> str:
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


# ---- the signin server stand-in ------------------------------------------------------------------

@dataclass
class Grant:
    challenge: str
    redirect_uri: str
    client_id: str
    code: str | None = None


@dataclass
class FakeSignin:
    """State of the stand-in server; `base` once it runs."""

    base: str = ""
    names: str = "extras"  # how the answer names principal and session: "extras" (Vestibule's), "id_token", "none"
    grants: dict[str, Grant] = field(default_factory=dict)  # state -> grant
    jkt: str | None = None  # the key the login session is bound to
    refresh_tokens: list[str] = field(default_factory=list)  # issued, newest last
    access_keys: list[str] = field(default_factory=list)
    seen_jti: set[str] = field(default_factory=set)
    token_calls: list[dict[str, Any]] = field(default_factory=list)
    probes: int = 0  # token requests without a code: `vestibule login` asking whether the server is there
    revoked: list[str] = field(default_factory=list)
    session_alive: bool = True
    refuse_code: tuple[str, str] | None = None  # (error type, error) for the next code grant
    signed_by: list[str] = field(default_factory=list)  # access key IDs in SigV4 Authorization headers
    session_arn: str = f"arn:aws:signin::{ACCOUNT}:session/{'ab' * 16}"

    def allow(self, authorize_url: str) -> tuple[str, str]:
        """What the confirmation page's Allow does: a code for the pending request; (code, redirect URL)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["response_type"] == "code" and query["code_challenge_method"] == "SHA-256"
        assert query["client_id"] in (SAME_DEVICE, CROSS_DEVICE)
        if query["client_id"] == SAME_DEVICE:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", query["redirect_uri"]), query
        else:
            assert query["redirect_uri"] == f"{self.base}/v1/authorize/code", query
        code = secrets.token_urlsafe(24)
        self.grants[query["state"]] = Grant(query["code_challenge"], query["redirect_uri"], query["client_id"], code)
        return code, f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    # -- the API

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/v1/token":
            return self._token(headers, json.loads(body))
        auth = headers.get("authorization") or ""
        match = re.search(r"Credential=([A-Z0-9]+)/", auth)
        if match is None:
            return _error(403, "AccessDeniedException", "INSUFFICIENT_PERMISSIONS", "not signed")
        key = match.group(1)
        self.signed_by.append(key)
        if not self.session_alive or key not in self.access_keys:  # SigV4 errors are the same in every protocol
            return _error(403, "InvalidClientTokenId", None, "The security token included in the request is invalid",
                          xml=path == "/")
        if path == "/" and b"Action=GetCallerIdentity" in body:
            xml = (f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                   f"<GetCallerIdentityResult><Arn>{USER_ARN}</Arn><UserId>AIDAEXAMPLE</UserId>"
                   f"<Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
                   "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
            return 200, {"content-type": "text/xml"}, xml.encode()
        data = json.loads(body or b"{}")
        if path == "/list-sessions":
            return _json({"items": [{"sessionArn": self.session_arn, "principalArn": USER_ARN,
                                     "issuedAt": int(time.time()), "expiresAt": _epoch(3600),
                                     "clientId": SAME_DEVICE, "status": "ACTIVE"}]})
        if path == "/get-session":
            assert data["sessionArn"] == self.session_arn
            return _json({"sessionArn": self.session_arn, "principalArn": USER_ARN, "issuedAt": _epoch(0),
                          "expiresAt": _epoch(3600), "status": "ACTIVE"})
        if path == "/batch-revoke-sessions":
            self.revoked.extend(data["sessionArns"])
            self.session_alive = self.session_alive and self.session_arn not in data["sessionArns"]
            return _json({"revokedSessions": [{"sessionArn": a} for a in data["sessionArns"]], "errors": []})
        return 404, {}, b"{}"

    def _token(self, headers: Any, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if body.get("grantType") == "authorization_code" and not all(
                body.get(name) for name in ("code", "redirectUri", "codeVerifier")):
            self.probes += 1  # as Vestibule: refused on its shape alone, before the proof (the login's probe)
            return _error(400, "ValidationException", "invalid_request", "code, redirectUri and codeVerifier "
                          "are required.")
        self.token_calls.append(body)
        try:
            checked = verify_proof(headers["dpop"], f"{self.base}/v1/token")
        except (AssertionError, InvalidSignature, KeyError, ValueError) as exc:
            return _error(400, "ValidationException", "invalid_request", f"bad DPoP proof: {exc!r}")
        jti = checked["payload"]["jti"]
        if jti in self.seen_jti:
            return _error(400, "ValidationException", "invalid_request", "replayed proof")
        self.seen_jti.add(jti)
        jkt = thumbprint(checked["header"]["jwk"])
        if body["grantType"] == "authorization_code":
            if self.refuse_code:
                kind, error = self.refuse_code
                return _error(400, kind, error, "refused by the test")
            grant = next((g for g in self.grants.values() if g.code == body.get("code")), None)
            if grant is None:
                return _error(400, "ValidationException", "invalid_grant", "unknown code")
            verifier = str(body.get("codeVerifier"))
            challenge = b64url(hashlib.sha256(verifier.encode()).digest())
            if challenge != grant.challenge or body.get("redirectUri") != grant.redirect_uri \
                    or body["clientId"] != grant.client_id:
                return _error(400, "ValidationException", "invalid_grant", "verifier or redirect URI")
            grant.code = None
            self.jkt = jkt
            if self.refresh_tokens:  # a new login: a new session
                self.session_arn = f"arn:aws:signin::{ACCOUNT}:session/{secrets.token_hex(16)}"
                self.session_alive = True
        else:
            if not self.session_alive:
                return _error(400, "AccessDeniedException", "USER_CREDENTIALS_CHANGED", "revoked")
            if jkt != self.jkt:
                return _error(400, "ValidationException", "invalid_request", "another key")
            if not self.refresh_tokens or body.get("refreshToken") != self.refresh_tokens[-1]:
                return _error(400, "ValidationException", "invalid_grant", "unknown refresh token")
        self.refresh_tokens.append(secrets.token_urlsafe(32))
        self.access_keys.append("ASIA" + secrets.token_hex(8).upper())
        output: dict[str, Any] = {
            "accessToken": {"accessKeyId": self.access_keys[-1], "secretAccessKey": secrets.token_urlsafe(30),
                            "sessionToken": secrets.token_urlsafe(40)},
            "tokenType": "aws_sigv4", "expiresIn": 900, "refreshToken": self.refresh_tokens[-1]}
        if self.names == "extras":
            output.update(accountId=ACCOUNT, principalArn=USER_ARN, sessionArn=self.session_arn)
        elif self.names == "id_token" and body["grantType"] == "authorization_code":
            claims = {"sub": USER_ARN, "sid": self.session_arn}
            output["idToken"] = f"{b64url(b'{}')}.{b64url(json.dumps(claims).encode())}.{b64url(b'sig')}"
        return _json(output)  # the model: tokenOutput is the payload, the whole body


def _epoch(seconds_from_now: float) -> int:
    return int(time.time() + seconds_from_now)  # the signin API's times: epoch seconds


def _json(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"content-type": "application/json"}, json.dumps(data).encode()


def _error(status: int, kind: str, error: str | None, message: str,
           xml: bool = False) -> tuple[int, dict[str, str], bytes]:
    body: dict[str, Any] = {"message": message}
    if error:
        body["error"] = error
    if xml:  # STS (the query protocol)
        text = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{kind}</Code><Message>{message}</Message></Error>"
                "<RequestId>r</RequestId></ErrorResponse>")
        return status, {"content-type": "text/xml"}, text.encode()
    return status, {"content-type": "application/json", "x-amzn-errortype": kind}, json.dumps(body).encode()


@pytest.fixture
def server() -> Iterator[FakeSignin]:
    state = FakeSignin()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, headers, out = state.answer("POST", self.path.split("?", 1)[0], self.headers, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@dataclass
class Home:
    path: Path
    config: Path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = tmp_path / "aws" / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return Home(tmp_path / "home", config)


class Browser:
    """Plays the browser for a same-device login: when the client prints the authorize URL, 'Allow' at the
    stand-in server and follow the redirect to the loopback listener (from another thread, as a browser would)."""

    def __init__(self, server: FakeSignin, deny: bool = False) -> None:
        self.server, self.deny = server, deny
        self.landed: list[httpx.Response] = []
        self.threads: list[threading.Thread] = []

    def say(self, text: str) -> None:
        found = re.search(r"(http://\S+/v1/authorize\?\S+)", text)
        if found:
            thread = threading.Thread(target=self._go, args=(found.group(1),), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _go(self, url: str) -> None:
        _, redirect = self.server.allow(url)
        if self.deny:
            query = parse_qs(urlsplit(redirect).query)
            redirect = redirect.split("?")[0] + "?" + urlencode({"error": "access_denied", "state": query["state"][0]})
        self.landed.append(httpx.get(redirect, timeout=10))


def run_cli(monkeypatch: pytest.MonkeyPatch, server: FakeSignin, args: list[str],
            deny: bool = False) -> tuple[int, Browser]:
    browser = Browser(server, deny)
    def say(text: str) -> None:
        print(text)
        browser.say(text)

    monkeypatch.setattr("vestibule.client.login_commands.say", say)
    code = cli.main(args)
    for thread in browser.threads:
        thread.join(10)
    return code, browser


def login(monkeypatch: pytest.MonkeyPatch, server: FakeSignin, *extra: str) -> int:
    code, browser = run_cli(monkeypatch, server, ["login", "--profile", "dev", "--no-browser",
                                                  "--endpoint-url", server.base, *extra])
    assert browser.landed and browser.landed[0].status_code == 200, browser.landed
    return code


# ---- the key and its proofs ----------------------------------------------------------------------

def test_proof_verifies_and_names_the_url() -> None:
    key = DpopKey.generate()
    proof = key.proof("https://signin.example/v1/token")
    checked = verify_proof(proof, "https://signin.example/v1/token")
    assert checked["header"]["jwk"] == key.jwk()
    assert thumbprint(key.jwk()) == key.thumbprint()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key.thumbprint())
    with pytest.raises(AssertionError):
        verify_proof(proof, "https://signin.example/v1/other")
    other = DpopKey.generate().proof("https://signin.example/v1/token")
    head, body, _ = proof.split(".")
    with pytest.raises(InvalidSignature):  # another key's signature over this proof's header and payload
        verify_proof(f"{head}.{body}.{other.split('.')[2]}", "https://signin.example/v1/token")
    stale = key.proof("https://signin.example/v1/token", now=time.time() - 600)
    with pytest.raises(AssertionError):
        verify_proof(stale, "https://signin.example/v1/token")
    jtis = {json.loads(_b64decode(key.proof("u").split(".")[1]))["jti"] for _ in range(20)}
    assert len(jtis) == 20, "a fresh jti each time"


def test_pem_round_trip_and_awscrt_reads_it_as_botocore_does() -> None:
    key = DpopKey.generate()
    pem = key.pem()
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----\n") and pem.endswith("-----END EC PRIVATE KEY-----\n")
    assert DpopKey.from_pem(pem).jwk() == key.jwk()
    crt_key = LoginCredentialFetcher._load_private_key({"dpopKey": pem})
    x, y = crt_key.get_public_coords()
    assert (b64url(x), b64url(y)) == (key.jwk()["x"], key.jwk()["y"])
    # botocore's own proof with that key: the same header, and it verifies as ours do
    theirs = _build_dpop_header(crt_key, "https://signin.example/v1/token")
    assert theirs.split(".")[0] == key.proof("https://signin.example/v1/token").split(".")[0]
    verify_proof(theirs, "https://signin.example/v1/token")
    with pytest.raises(KeyProblem):
        DpopKey.from_pem("-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n")
    assert isinstance(EC.new_key_from_der_data(base64.b64decode("".join(pem.splitlines()[1:-1]))), EC)



# ---- login -----------------------------------------------------------------------------------------

def _cache(home: Home) -> tuple[Path, dict[str, Any]]:
    path = home.path / ".aws" / "login" / "cache" / f"{hashlib.sha256(USER_ARN.encode()).hexdigest()}.json"
    return path, json.loads(path.read_text())


def test_login_writes_the_cache_botocore_reads_and_the_profile(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    home.config.parent.mkdir(parents=True)
    home.config.write_text("# mine\n[profile dev]\noutput = json\nregion = eu-west-1\n\n[profile other]\nx = 1\n")
    assert login(monkeypatch, server) == 0
    out = capsys.readouterr().out
    assert f"Signed in as {USER_ARN} (account {ACCOUNT})" in out, out
    assert "The login session lasts until " in out and "aws sts get-caller-identity --profile dev" in out

    path, token = _cache(home)
    assert path == cache_path(USER_ARN)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert set(token) == {"accessToken", "refreshToken", "dpopKey", "clientId", "signInRegion", "sessionArn",
                          "endpointUrl"}
    assert set(token["accessToken"]) == {"accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"}
    assert token["accessToken"]["accessKeyId"] == server.access_keys[-1]
    assert token["accessToken"]["accountId"] == ACCOUNT
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", token["accessToken"]["expiresAt"])
    assert token["refreshToken"] == server.refresh_tokens[-1] and token["clientId"] == SAME_DEVICE
    assert token["signInRegion"] == "eu-west-1", "the profile's region when --region is not given"
    assert token["sessionArn"] == server.session_arn and token["endpointUrl"] == server.base
    assert server.jkt == DpopKey.from_pem(token["dpopKey"]).thumbprint(), "the session is bound to the cached key"
    assert server.signed_by and set(server.signed_by) == {server.access_keys[-1]}, "GetSession signed with them"

    assert home.config.read_text() == (
        "# mine\n[profile dev]\noutput = json\nregion = eu-west-1\n"
        f"login_session = {USER_ARN}\nendpoint_url = {server.base}\n\n[profile other]\nx = 1\n")

    # botocore's own fetcher reads the file, and its key through awscrt
    fetcher = LoginCredentialFetcher(USER_ARN, LoginTokenLoader(JSONFileCache(str(path.parent))),
                                     client_creator=None)
    cached = fetcher.load_cached_credentials()
    assert cached["access_key"] == token["accessToken"]["accessKeyId"] and cached["account_id"] == ACCOUNT
    x, _ = LoginCredentialFetcher._load_private_key(token).get_public_coords()
    assert b64url(x) == DpopKey.from_pem(token["dpopKey"]).jwk()["x"]


def test_boto3_uses_the_profile_and_refreshes_with_its_own_proof(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home) -> None:
    assert login(monkeypatch, server, "--region", "us-west-2") == 0
    path, token = _cache(home)
    first_key = token["accessToken"]["accessKeyId"]
    arn = boto3.Session(profile_name="dev").client("sts").get_caller_identity()["Arn"]
    assert arn == USER_ARN and server.signed_by[-1] == first_key
    assert len(server.token_calls) == 1, "fresh credentials: no refresh"

    token["accessToken"]["expiresAt"] = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(token))
    arn = boto3.Session(profile_name="dev").client("sts").get_caller_identity()["Arn"]
    assert arn == USER_ARN
    assert [c["grantType"] for c in server.token_calls] == ["authorization_code", "refresh_token"]
    refreshed = json.loads(path.read_text())
    assert refreshed["refreshToken"] != token["refreshToken"] == server.refresh_tokens[-2]
    assert refreshed["accessToken"]["accessKeyId"] == server.signed_by[-1] != first_key
    assert refreshed["dpopKey"] == token["dpopKey"] and refreshed["sessionArn"] == token["sessionArn"]

    server.session_alive = False  # revoked at the server: the next refresh is refused as botocore reads it
    refreshed["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(refreshed))
    with pytest.raises(LoginRefreshRequired, match="reauthenticate"):
        boto3.Session(profile_name="dev").client("sts").get_caller_identity()


def test_the_idtoken_names_principal_and_session_when_the_answer_does_not(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home) -> None:
    server.names = "id_token"  # AWS's own way: the idToken's sub and sid
    assert login(monkeypatch, server) == 0
    assert json.loads(cache_path(USER_ARN).read_text())["sessionArn"] == server.session_arn
    assert "idToken" not in json.loads(cache_path(USER_ARN).read_text())


@pytest.mark.parametrize(("principal", "account"), [
    (f"arn:aws:iam::{ACCOUNT}:role/admin", ACCOUNT),  # not a console user
    (f"arn:aws:iam::{ACCOUNT}:user/x\n[default]", ACCOUNT),  # would end its config line
    (USER_ARN, "999999999999"),  # another account than the principal's
])
def test_an_answer_naming_another_kind_of_principal_saves_nothing(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str],
        principal: str, account: str) -> None:
    original = server._token

    def twisted(headers: Any, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        status, head, out = original(headers, body)
        answer = json.loads(out)
        answer.update(principalArn=principal, accountId=account)
        return status, head, json.dumps(answer).encode()

    monkeypatch.setattr(server, "_token", twisted)
    code, _ = run_cli(monkeypatch, server, ["login", "--profile", "dev", "--no-browser", "--endpoint-url",
                                            server.base])
    assert code == 9, capsys.readouterr()
    assert not (home.path / ".aws" / "login").exists() and not home.config.exists()


def test_login_cache_directory_and_session_arn_without_id_token(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(tmp_path / "elsewhere"))
    server.names = "none"  # the principal then comes from STS, the session ARN from the caller's ListSessions
    assert login(monkeypatch, server) == 0
    path = tmp_path / "elsewhere" / f"{hashlib.sha256(USER_ARN.encode()).hexdigest()}.json"
    assert json.loads(path.read_text())["sessionArn"] == server.session_arn
    assert not (home.path / ".aws" / "login").exists()
    assert "region = us-east-1\n" in home.config.read_text()


def test_remote_login_reads_the_pasted_code(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    shown: list[str] = []

    def paste(prompt: str) -> str:
        found = re.search(r"(http://\S+/v1/authorize\?\S+)", "".join(shown))
        assert found is not None, shown
        url = found.group(1)
        code, _ = server.allow(url)
        return f"  {code}\n"

    monkeypatch.setattr("vestibule.client.login_commands.say", shown.append)
    monkeypatch.setattr("builtins.input", paste)
    assert cli.main(["login", "--profile", "dev", "--remote", "--endpoint-url", server.base + "/"]) == 0
    assert "in a browser on any device" in shown[0]
    assert json.loads(cache_path(USER_ARN).read_text())["clientId"] == CROSS_DEVICE
    assert server.token_calls[0]["redirectUri"] == f"{server.base}/v1/authorize/code"

    monkeypatch.setattr("builtins.input", lambda prompt: "not a code")
    assert cli.main(["login", "--profile", "dev", "--remote"]) == 2, "the profile's endpoint_url is used"
    assert "not an authorization code" in capsys.readouterr().err

    def eof(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert cli.main(["login", "--profile", "dev", "--remote"]) == 2
    assert "no code was pasted" in capsys.readouterr().err

    def interrupt(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupt)
    assert cli.main(["login", "--profile", "dev", "--remote"]) == 130


def test_denied_and_refused_codes_save_nothing(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["login", "--profile", "dev", "--no-browser", "--endpoint-url", server.base]
    code, browser = run_cli(monkeypatch, server, args, deny=True)
    assert code == 6 and "denied in the browser" in capsys.readouterr().err
    assert "You chose Deny" in browser.landed[0].text
    assert server.token_calls == [] and not cache_path(USER_ARN).exists() and not home.config.exists()

    for refusal, exit_code, words in ((("AccessDeniedException", "AUTHCODE_EXPIRED"), 7, "expired"),
                                      (("AccessDeniedException", "INSUFFICIENT_PERMISSIONS"), 6,
                                       "signin:CreateOAuth2Token"),
                                      (("AccessDeniedException", "USER_CREDENTIALS_CHANGED"), 8, "ended"),
                                      (("ValidationException", "invalid_grant"), 1, "refused the authorization")):
        server.refuse_code = refusal
        code, _ = run_cli(monkeypatch, server, args)
        err = capsys.readouterr().err
        assert code == exit_code and words in err, (refusal, err)
        assert not cache_path(USER_ARN).exists() and not home.config.exists()


def test_a_wrong_verifier_or_proof_is_refused_by_the_stand_in(server: FakeSignin) -> None:
    """The stand-in checks what the client must get right (so the tests above mean something)."""
    code, _ = server.allow(login_module.authorize_url(server.base, SAME_DEVICE, "http://127.0.0.1:1/oauth/callback",
                                                      "s", pkce_pair()[1]))
    key = DpopKey.generate()
    body = {"clientId": SAME_DEVICE, "grantType": "authorization_code", "code": code,
            "redirectUri": "http://127.0.0.1:1/oauth/callback", "codeVerifier": pkce_pair()[0]}
    status, _, answer = server.answer("POST", "/v1/token", {"dpop": key.proof(f"{server.base}/v1/token")},
                                      json.dumps(body).encode())
    assert status == 400 and json.loads(answer)["error"] == "invalid_grant"
    status, _, answer = server.answer("POST", "/v1/token", {"dpop": key.proof(f"{server.base}/v1/other")},
                                      json.dumps(body).encode())
    assert status == 400 and "bad DPoP proof" in json.loads(answer)["message"]


@pytest.mark.parametrize(("args", "config", "exit_code", "words"), [
    (["login", "--profile", "dev"], "", 3, "has no endpoint_url; give --endpoint-url"),
    (["login", "--endpoint-url", "ftp://x"], "", 3, "is not an http:// or https:// base URL"),
    (["login", "--endpoint-url", "https://u@x"], "", 3, "is not an http:// or https:// base URL"),
    (["login", "--endpoint-url", "https://x/?a=1"], "", 3, "is not an http:// or https:// base URL"),
    (["login", "--endpoint-url", "https://x", "--region", "US East"], "", 2, "is not a region name"),
    (["login", "--profile", "a]b", "--endpoint-url", "https://x"], "", 2, "is not a profile name"),
    (["login", "--profile", "dev", "--endpoint-url", "https://x"], "[profile dev]\nsso_session = team\n", 3,
     "signs in another way (sso_session)"),
    (["logout", "--profile", "nobody"], "", 3, "there is no profile 'nobody'"),
])
def test_argument_and_config_errors(home: Home, capsys: pytest.CaptureFixture[str], args: list[str], config: str,
                                    exit_code: int, words: str) -> None:
    home.config.parent.mkdir(parents=True)
    home.config.write_text(config)
    assert cli.main(args) == exit_code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert home.config.read_text() == config, "nothing written"


def test_login_uses_aws_profile_and_the_environments_endpoint(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home) -> None:
    monkeypatch.setenv("AWS_PROFILE", "dev")  # a profile that does not exist yet
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.base)
    code, browser = run_cli(monkeypatch, server, ["login", "--no-browser"])
    assert code == 0 and browser.landed
    assert f"[profile dev]\nlogin_session = {USER_ARN}\nregion = us-east-1\nendpoint_url = {server.base}\n" \
        == home.config.read_text()


# ---- logout ------------------------------------------------------------------------------------------

def test_logout_ends_the_session_and_removes_only_what_login_wrote(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    home.config.parent.mkdir(parents=True)
    home.config.write_text("[profile dev]\noutput = json\n")
    assert login(monkeypatch, server) == 0
    capsys.readouterr()
    assert cli.main(["logout", "--profile", "dev"]) == 0
    out = capsys.readouterr().out
    assert f"Signed out: the login session of {USER_ARN} has ended at the server" in out, out
    assert server.revoked == [server.session_arn]
    assert not cache_path(USER_ARN).exists()
    assert home.config.read_text() == (f"[profile dev]\noutput = json\nregion = us-east-1\n"
                                       f"endpoint_url = {server.base}\n")
    assert cli.main(["logout", "--profile", "dev"]) == 0
    assert "has no login session; nothing to sign out of" in capsys.readouterr().out


def test_a_new_login_of_the_same_user_ends_the_session_it_replaces(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home) -> None:
    assert login(monkeypatch, server) == 0
    first = server.session_arn
    assert login(monkeypatch, server) == 0
    assert server.session_arn != first and server.revoked == [first], "the old session could no longer be used"
    assert json.loads(cache_path(USER_ARN).read_text())["sessionArn"] == server.session_arn
    assert server.session_alive
    assert home.config.read_text().count("login_session") == 1


def test_logout_refreshes_expired_credentials_first(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home) -> None:
    assert login(monkeypatch, server) == 0
    path, token = _cache(home)
    token["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(token))
    assert cli.main(["logout", "--profile", "dev"]) == 0
    assert [c["grantType"] for c in server.token_calls] == ["authorization_code", "refresh_token"]
    assert server.signed_by[-1] == server.access_keys[-1], "BatchRevokeSessions signed with the refreshed keys"
    assert server.revoked == [server.session_arn] and not path.exists()


def test_logout_when_the_session_already_ended_or_the_server_is_gone(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    assert login(monkeypatch, server) == 0
    path, token = _cache(home)
    server.session_alive = False  # revoked by an administrator: the credentials are refused
    capsys.readouterr()
    assert cli.main(["logout", "--profile", "dev"]) == 0
    out = capsys.readouterr()
    assert "had already ended at the server" in out.out and "Traceback" not in out.err, out
    assert not path.exists() and "login_session" not in home.config.read_text()

    # expired credentials whose refresh is refused (USER_CREDENTIALS_CHANGED): the same
    path.write_text(json.dumps({**token, "accessToken": {**token["accessToken"], "expiresAt": "2020-01-01T00:00:00Z"}}))
    config = home.config.read_text()
    home.config.write_text(config.replace("[profile dev]\n", f"[profile dev]\nlogin_session = {USER_ARN}\n"))
    assert cli.main(["logout", "--profile", "dev"]) == 0
    out = capsys.readouterr()
    assert "had already ended at the server (its refresh was refused" in out.out and "Traceback" not in out.err
    assert not path.exists()

    # nothing answers at the endpoint: the files still go, and the message says the server was not told
    path.write_text(json.dumps(token))
    home.config.write_text(config.replace(server.base, "http://127.0.0.1:9").replace(
        "[profile dev]\n", f"[profile dev]\nlogin_session = {USER_ARN}\n"))
    assert cli.main(["logout", "--profile", "dev"]) == 5
    err = capsys.readouterr().err
    assert "the server was not told: cannot reach the sign-in server at http://127.0.0.1:9" in err, err
    assert "stays valid at the server until it expires" in err and "Traceback" not in err
    assert not path.exists() and "login_session" not in home.config.read_text()


def test_remove_login_session_keeps_every_other_line(tmp_path: Path) -> None:
    text = ("[profile dev]\nLogin_Session = a\ns3 =\n  x = 1\n# note\n[profile other]\nlogin_session = b\n"
            "[profile dev]\nlogin_session: c\nregion = r\n")
    config = ConfigFile(tmp_path / "c", text)
    assert remove_login_session(config, "dev") is True
    assert "".join(config.lines) == ("[profile dev]\ns3 =\n  x = 1\n# note\n[profile other]\nlogin_session = b\n"
                                     "[profile dev]\nregion = r\n")
    assert remove_login_session(config, "dev") is False
    assert remove_login_session(ConfigFile(tmp_path / "d", "[default]\nlogin_session = x\n"), "default") is True


def test_id_token_claims_are_read_safely() -> None:
    assert login_module.id_token_claims(None) == {}
    assert login_module.id_token_claims("a.b") == {}
    assert login_module.id_token_claims("a.!!!.c") == {}
    assert login_module.id_token_claims(f"a.{b64url(b'[1]')}.c") == {}
    assert login_module.id_token_claims(f"a.{b64url(json.dumps({'sub': 'x'}).encode())}.c") == {"sub": "x"}


def test_login_asks_whether_the_server_is_there_before_the_browser(
        monkeypatch: pytest.MonkeyPatch, server: FakeSignin, home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing answering, or something that is not a sign-in server, is said at once (exit 5, or 1 naming the
    endpoint) instead of after the user signed in and the listener waited; a real server is asked once."""
    assert login(monkeypatch, server) == 0
    assert server.probes == 1 and [c["grantType"] for c in server.token_calls] == ["authorization_code"]

    capsys.readouterr()
    started = time.monotonic()
    code, browser = run_cli(monkeypatch, server, ["login", "--profile", "other", "--no-browser",
                                                  "--endpoint-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 5 and "cannot reach the sign-in server at http://127.0.0.1:9" in err, err
    assert browser.landed == [] and time.monotonic() - started < 60 and "Traceback" not in err

    class NotSignin(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            page = b"<html><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), NotSignin)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        other = f"http://127.0.0.1:{httpd.server_address[1]}"
        code, browser = run_cli(monkeypatch, server, ["login", "--profile", "other", "--no-browser",
                                                      "--endpoint-url", other])
    finally:
        httpd.shutdown()
    err = capsys.readouterr().err
    assert code == 1 and f"{other} answered HTTP 404" in err and browser.landed == [], err
    assert not (home.config.exists() and "[profile other]" in home.config.read_text())
