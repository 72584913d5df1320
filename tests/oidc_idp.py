"""A real OpenID Connect provider for the tests, on loopback: the standard library's HTTP server in a thread,
keys from `cryptography`, ID tokens from PyJWT.

It serves the discovery document (`/.well-known/openid-configuration` under the issuer), the JWKS (RSA and EC
keys; keys can be added and dropped while it runs: rotation), `/authorize` (authorization code with PKCE S256,
`state` and `nonce`; it approves `approve_as` at once, else it shows a small sign-in form) and `/token` (the code
exchange, `client_secret_post` or no client authentication). Tests also mint ID tokens directly with any claims,
algorithm and key ID, including the broken ones a verifier must refuse (`alg: none`, HS256 keyed with the public
key, expired, another issuer or audience).

    with OidcProvider(clients={"app": None}) as idp:
        token = idp.id_token(sub="alice")          # RS256, aud "app", valid for an hour
        idp.url                                    # "127.0.0.1:<port>": the IAM provider URL without scheme
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import html
import ipaddress
import json
import secrets
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
Claims = dict[str, Any]

_CURVES: dict[str, ec.EllipticCurve] = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS = tuple(_CURVES)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge), as a client makes them (RFC 7636 4.1, 4.2)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private: PrivateKey

    @classmethod
    def generate(cls, alg: str = "RS256", kid: str | None = None) -> SigningKey:
        private: PrivateKey
        if alg in RSA_ALGORITHMS:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg in _CURVES:
            private = ec.generate_private_key(_CURVES[alg])
        else:
            raise ValueError(f"no key type for {alg}")
        return cls(kid or f"{alg.lower()}-{secrets.token_hex(4)}", alg, private)

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        text = (RSAAlgorithm.to_jwk(public) if isinstance(public, rsa.RSAPublicKey)
                else ECAlgorithm.to_jwk(public))
        jwk: dict[str, Any] = json.loads(text)
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class User:
    """Someone who can sign in at the provider's form (or be approved at once): their password and claims."""

    sub: str
    password: str = "password"
    claims: Mapping[str, Any] = field(default_factory=dict)  # email, amr, groups, ...


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    sub: str
    scope: str
    expires_at: float


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (Vestibule cutting off a slow answer, a closed keep-alive connection) is not an
    error of this provider: socketserver would print its traceback into the test log."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class OidcProvider:
    """An OIDC provider on `http://127.0.0.1:<port><path>`. `clients`: client ID -> secret (None: a public
    client that authenticates with PKCE only). `approve_as`: the user `/authorize` approves without a form."""

    def __init__(self, *, clients: Mapping[str, str | None] | None = None, path: str = "",
                 algorithms: tuple[str, ...] = ("RS256", "ES256"), users: tuple[User, ...] = (),
                 approve_as: str | None = None, redirect_uris: tuple[str, ...] | None = None,
                 tls: bool = False) -> None:
        self.clients: dict[str, str | None] = dict(clients if clients is not None else {"vestibule-test": None})
        self.path = path.rstrip("/")
        self.keys: list[SigningKey] = [SigningKey.generate(alg) for alg in algorithms]
        self.users: dict[str, User] = {u.sub: u for u in users}
        self.approve_as = approve_as
        self.redirect_uris = redirect_uris  # None: any redirect URI is accepted
        self.discovery_issuer: str | None = None  # set to make the discovery document name another issuer
        self.sends_iss = False  # RFC 9207: advertise authorization_response_iss_parameter_supported, add iss
        self.failing_status: int | None = None  # set to make every request answer this status
        self.delay = 0.0  # seconds to wait before every answer
        self.drip = 0.0  # seconds to wait between the bytes of every answer's body (a slow-drip provider)
        self.hits: list[str] = []  # the paths requested, in order
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.tls = tls  # https with a self-signed certificate no client trusts (certificate checks must refuse it)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------------------------

    def start(self) -> OidcProvider:
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        if self.tls:
            self._server.socket = _self_signed_context().wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-idp", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the provider is not running"
        return int(self._server.server_address[1])

    @property
    def issuer(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{self.path}"

    @property
    def url(self) -> str:
        """The issuer without its scheme: what CreateOpenIDConnectProvider's URL names, and the provider ARN's
        tail (`arn:aws:iam::<account>:oidc-provider/<url>`)."""
        return self.issuer.split("://", 1)[1]

    @property
    def client_id(self) -> str:
        return next(iter(self.clients))

    def count(self, suffix: str) -> int:
        """How many requests asked for a path ending in `suffix` (`/jwks`, `/.well-known/openid-configuration`)."""
        return sum(1 for hit in self.hits if hit.endswith(suffix))

    # -- keys ---------------------------------------------------------------------------------------------------

    def key(self, alg: str = "RS256") -> SigningKey:
        """The newest published key for `alg`."""
        for key in reversed(self.keys):
            if key.alg == alg:
                return key
        raise KeyError(f"no published {alg} key")

    def add_key(self, key: SigningKey | str = "RS256") -> SigningKey:
        """Publish a key (a new one for an algorithm name) in the JWKS."""
        added = key if isinstance(key, SigningKey) else SigningKey.generate(key)
        with self._lock:
            self.keys.append(added)
        return added

    def drop_key(self, kid: str) -> None:
        with self._lock:
            self.keys = [k for k in self.keys if k.kid != kid]

    def rotate(self, alg: str = "RS256") -> SigningKey:
        """A new key for `alg` published and the previous ones of `alg` dropped."""
        new = SigningKey.generate(alg)
        with self._lock:
            self.keys = [k for k in self.keys if k.alg != alg] + [new]
        return new

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            return {"keys": [k.public_jwk() for k in self.keys]}

    # -- tokens -------------------------------------------------------------------------------------------------

    def claims(self, sub: str = "alice", *, aud: str | list[str] | None = None, lifetime: float = 3600,
               issued: float | None = None, **extra: Any) -> Claims:
        """The usual ID token claims (iss, sub, aud, iat, exp) plus `extra`; an `extra` value None drops it."""
        now = time.time() if issued is None else issued
        claims: Claims = {"iss": self.issuer, "sub": sub, "aud": aud if aud is not None else self.client_id,
                          "iat": int(now), "exp": int(now + lifetime)}
        user = self.users.get(sub)
        if user is not None:
            claims.update(user.claims)
        claims.update(extra)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: Mapping[str, Any], *, alg: str = "RS256", key: SigningKey | None = None,
             kid: str | None = None, headers: Mapping[str, Any] | None = None) -> str:
        """`claims` signed with `key` (default: the newest published key for `alg`); the header's kid is the
        key's unless `kid` says otherwise."""
        signer = key or self.key(alg)
        header = {"kid": kid or signer.kid, **(headers or {})}
        return jwt.encode(dict(claims), signer.private, algorithm=signer.alg, headers=header)

    def id_token(self, sub: str = "alice", *, alg: str = "RS256", key: SigningKey | None = None,
                 kid: str | None = None, **claims: Any) -> str:
        """An ID token for `sub`: `claims()` with `claims`, signed as `sign` does."""
        return self.sign(self.claims(sub, **claims), alg=alg, key=key, kid=kid)

    @staticmethod
    def unsigned(claims: Mapping[str, Any], *, kid: str | None = None) -> str:
        """`alg: none` with an empty signature (RFC 7519 6.1)."""
        header: dict[str, Any] = {"alg": "none", "typ": "JWT"}
        if kid:
            header["kid"] = kid
        return f"{_segment(header)}.{_segment(dict(claims))}."

    def hs256_with_public_key(self, claims: Mapping[str, Any], *, alg: str = "RS256") -> str:
        """HS256 keyed with the published public key's PEM: the algorithm-confusion attack."""
        key = self.key(alg)
        signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{_segment(dict(claims))}"
        mac = hmac.new(key.public_pem(), signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    # -- the endpoints ---------------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": self.discovery_issuer or base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": sorted({k.alg for k in self.keys}),
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            **({"authorization_response_iss_parameter_supported": True} if self.sends_iss else {}),
        }

    def _authorize(self, params: Mapping[str, str], sub: str) -> tuple[int, dict[str, str], bytes]:
        """Redirect back with a code for `sub`, or an error the client can read."""
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        problem = self._authorize_problem(params)
        if problem is None:
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._grants[code] = _Grant(client_id, redirect_uri, params["code_challenge"], params.get("nonce"),
                                            sub, params.get("scope", ""), time.time() + 60)
            answer = {"code": code}
        else:
            answer = {"error": problem}
        if "state" in params:
            answer["state"] = params["state"]
        if self.sends_iss:
            answer["iss"] = self.issuer
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(answer)}"}, b""

    def _authorize_problem(self, params: Mapping[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if "openid" not in params.get("scope", "").split():
            return "invalid_scope"
        if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
            return "invalid_request"
        return None

    def _bad_client(self, params: Mapping[str, str]) -> str | None:
        """Why `/authorize` must not redirect at all (RFC 6749 4.1.2.1): unknown client or redirect URI."""
        if params.get("client_id", "") not in self.clients:
            return "unknown client_id"
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or (self.redirect_uris is not None and redirect_uri not in self.redirect_uris):
            return "redirect_uri not registered"
        return None

    def _token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        client_id = form.get("client_id", "")
        if client_id not in self.clients:
            return 401, {"error": "invalid_client"}
        secret = self.clients[client_id]
        if secret is not None and not hmac.compare_digest(form.get("client_secret", ""), secret):
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.expires_at < time.time() or grant.client_id != client_id:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest()) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        extra: dict[str, Any] = {"auth_time": int(time.time())}
        if grant.nonce is not None:
            extra["nonce"] = grant.nonce
        token = self.sign(self.claims(grant.sub, aud=client_id, **extra), alg=self.keys[0].alg)
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 3600,
                     "id_token": token, "scope": grant.scope}

    def _form_page(self, params: Mapping[str, str], message: str = "") -> bytes:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items() if k not in ("username", "password"))
        note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        return (f"<!doctype html><html><head><title>Test identity provider</title></head><body>"
                f"<h1>Test identity provider</h1>{note}<form method=\"post\" action=\"{self.path}/authorize\">"
                f"{hidden}<label for=\"username\">User name</label><input id=\"username\" name=\"username\">"
                f"<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\">"
                f"<button type=\"submit\">Sign in</button></form></body></html>").encode()

    def answer(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one request."""
        split = urlsplit(target)
        self.hits.append(split.path)
        if self.delay:
            time.sleep(self.delay)
        if self.failing_status is not None:
            return self.failing_status, {"Content-Type": "text/plain"}, b"the provider is failing on purpose"
        if not split.path.startswith(self.path + "/"):
            return 404, {"Content-Type": "text/plain"}, b"not found"
        path = split.path[len(self.path):]
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)) if method == "POST" else {}
        if path == "/.well-known/openid-configuration" and method == "GET":
            return _json(200, self.discovery())
        if path == "/jwks" and method == "GET":
            return _json(200, self.jwks())
        if path == "/authorize":
            asked = {**params, **form}
            bad = self._bad_client(asked)
            if bad is not None:
                return 400, {"Content-Type": "text/plain"}, bad.encode()
            if method == "GET" and self.approve_as is not None:
                return self._authorize(asked, self.approve_as)
            if method == "GET":
                return 200, {"Content-Type": "text/html; charset=utf-8"}, self._form_page(asked)
            user = self.users.get(form.get("username", ""))
            if user is None or not hmac.compare_digest(user.password, form.get("password", "")):
                return 200, {"Content-Type": "text/html; charset=utf-8"}, self._form_page(
                    asked, "Incorrect user name or password.")
            return self._authorize(asked, user.sub)
        if path == "/token" and method == "POST":
            return _json(*self._token(form))
        return 404, {"Content-Type": "text/plain"}, b"not found"


def _self_signed_context() -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = f"{folder}/cert.pem", f"{folder}/key.pem"
        with open(cert_file, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        context.load_cert_chain(cert_file, key_file)
    return context


def _segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def _json(status: int, value: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(value).encode()


def _handler_for(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = provider.answer(method, self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not provider.drip:
                self.wfile.write(payload)
                return
            try:
                for i in range(len(payload)):
                    time.sleep(provider.drip)
                    self.wfile.write(payload[i:i + 1])
                    self.wfile.flush()
            except OSError:  # the client gave up
                pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
