"""A real SAML 2.0 identity provider for the tests, built with pysaml2 (which signs with Debian's xmlsec1): its
own RSA key and self-signed certificate made at test time, its metadata XML (for CreateSAMLProvider or an
Identity Center source), and signed Responses for any service provider entity ID and assertion consumer URL,
IdP-initiated or answering an SP-initiated AuthnRequest (HTTP-Redirect binding) with InResponseTo.

Every knob a test needs to build a bad response is a parameter of `SamlIdp.response` (who signs what, the NameID
and its format, the IdP's clock, the lifetime, audience, recipient, destination, issuer, status); attacks that
need a tree pysaml2 would never build (signature wrapping, comments, DOCTYPEs) edit the signed XML afterwards.
`SamlIdpServer` serves it over HTTP on loopback for browser tests: `/sso` (SP-initiated) and `/start`
(IdP-initiated) answer with a page that posts the response to the ACS by itself."""

from __future__ import annotations

import base64
import datetime
import html
import shutil
import tempfile
import threading
import time
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from support import free_port

with warnings.catch_warnings():  # pysaml2 7.5 still names cryptography's moved CFB mode at import
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
    from saml2 import saml as saml_types
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.s_utils import success_status_factory
    from saml2.server import Server
    from saml2.sigver import pre_signature_part, signed_instance_factory

XMLSEC1 = "/usr/bin/xmlsec1"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
ROLE_ATTRIBUTE = ATTR + "Role"
SESSION_NAME_ATTRIBUTE = ATTR + "RoleSessionName"
SESSION_DURATION_ATTRIBUTE = ATTR + "SessionDuration"
SOURCE_IDENTITY_ATTRIBUTE = ATTR + "SourceIdentity"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_REQUESTER = "urn:oasis:names:tc:SAML:2.0:status:Requester"
URI_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@dataclass(frozen=True)
class SigningIdentity:
    """An RSA key and its self-signed certificate, PEM and DER."""

    key_pem: bytes
    certificate_pem: bytes
    certificate_der: bytes

    @property
    def fingerprint_sha256(self) -> str:
        return hashes_hex(self.certificate_der)


def hashes_hex(der: bytes) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def new_signing_identity(common_name: str = "Vestibule test IdP", *, days: int = 30) -> SigningIdentity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return SigningIdentity(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()),
        certificate.public_bytes(serialization.Encoding.PEM),
        certificate.public_bytes(serialization.Encoding.DER))


def role_value(role_arn: str, provider_arn: str) -> str:
    """The Role attribute's value as IdPs send it: `role-ARN,provider-ARN`."""
    return f"{role_arn},{provider_arn}"


def _iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(int(at), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AuthnRequestSeen:
    """What the IdP read from an SP-initiated AuthnRequest."""

    id: str
    issuer: str
    acs_url: str | None
    relay_state: str | None


@dataclass
class SamlIdp:
    """One identity provider. `certificate_der` goes into the SP's configuration (through `metadata()`)."""

    entity_id: str = "https://idp.test.invalid/saml/metadata"
    sso_url: str = "https://idp.test.invalid/saml/sso"
    identity: SigningIdentity = field(default_factory=new_signing_identity)
    name_id_formats: tuple[str, ...] = (NAMEID_PERSISTENT, NAMEID_EMAIL, NAMEID_TRANSIENT)
    _dir: Path = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self._write_keys(self.identity)

    def _write_keys(self, identity: SigningIdentity) -> None:
        (self._dir / "key.pem").write_bytes(identity.key_pem)
        (self._dir / "cert.pem").write_bytes(identity.certificate_pem)

    @property
    def certificate_der(self) -> bytes:
        return self.identity.certificate_der

    def rotate(self, identity: SigningIdentity | None = None) -> SigningIdentity:
        """Sign with a new key from now on (the metadata then names the new certificate)."""
        self.identity = identity or new_signing_identity()
        self._write_keys(self.identity)
        return self.identity

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def _server(self, sp_entity_id: str = "", acs_url: str = "", signer: SigningIdentity | None = None) -> Any:
        key_dir = self._dir
        if signer is not None and signer != self.identity:
            key_dir = Path(tempfile.mkdtemp(prefix="saml-signer-", dir=self._dir))
            (key_dir / "key.pem").write_bytes(signer.key_pem)
            (key_dir / "cert.pem").write_bytes(signer.certificate_pem)
        settings: dict[str, Any] = {
            "entityid": self.entity_id,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT),
                                                         (self.sso_url, BINDING_HTTP_POST)]},
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": URI_NAME_FORMAT}},
                "name_id_format": list(self.name_id_formats),
                "want_authn_requests_signed": False,
            }},
            "key_file": str(key_dir / "key.pem"),
            "cert_file": str(key_dir / "cert.pem"),
            "xmlsec_binary": XMLSEC1,
            "delete_tmpfiles": True,
        }
        if sp_entity_id:
            settings["metadata"] = {"inline": [sp_metadata(sp_entity_id, acs_url or sp_entity_id)]}
        config = IdPConfig()
        config.load(settings)
        return Server(config=config)

    def metadata(self) -> str:
        """The IdP's metadata XML: entity ID, signing certificate, SSO endpoints, NameID formats."""
        raw = create_metadata_string(None, self._server().config, sign=False)
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def response(self, *, sp_entity_id: str, acs_url: str | None = None, name_id: str = "alice@example.com",
                 name_id_format: str | None = NAMEID_PERSISTENT, name_qualifier: str | None = None,
                 sp_name_qualifier: str | None = None,
                 roles: Sequence[tuple[str, str]] = (), session_name: str | None = "alice",
                 session_duration: int | None = None, source_identity: str | None = None,
                 attributes: Mapping[str, Sequence[str]] | None = None,
                 sign_response: bool = True, sign_assertion: bool = True, signer: SigningIdentity | None = None,
                 in_response_to: str | None = None, now: float | None = None, lifetime: float = 300,
                 not_before: float | None = None, not_on_or_after: float | None = None,
                 confirmation_not_on_or_after: float | None = None,
                 session_not_on_or_after: float | None = None,
                 audience: str | None = None, recipient: str | None = None, destination: str | None = "",
                 issuer: str | None = None, status: str = STATUS_SUCCESS,
                 assertion_id: str | None = None) -> str:
        """A Response XML (str). `now` is the IdP's clock (default the real time); every instant derives from it
        unless given. `audience`, `recipient` default to the SP entity ID and ACS URL; `destination` defaults to
        the ACS URL ("" = default, None = no Destination attribute). `signer` signs with another key than the one
        in the metadata (certificate mismatch)."""
        acs = acs_url or sp_entity_id
        at = time.time() if now is None else now
        identity: dict[str, list[str]] = {}
        if roles:
            identity[ROLE_ATTRIBUTE] = [role_value(r, p) for r, p in roles]
        if session_name is not None:
            identity[SESSION_NAME_ATTRIBUTE] = [session_name]
        if session_duration is not None:
            identity[SESSION_DURATION_ATTRIBUTE] = [str(session_duration)]
        if source_identity is not None:
            identity[SOURCE_IDENTITY_ATTRIBUTE] = [source_identity]
        for name, values in (attributes or {}).items():
            identity[name] = list(values)
        server = self._server(sp_entity_id, acs, signer)
        subject = saml_types.NameID(format=name_id_format, text=name_id, name_qualifier=name_qualifier,
                                    sp_name_qualifier=sp_name_qualifier)
        built = server.create_authn_response(
            identity, in_response_to, acs, sp_entity_id, name_id=subject, sign_response=False,
            sign_assertion=False, authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"})
        assert isinstance(built, samlp.Response), built
        response: Any = built
        assertion: Any = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
        if assertion_id is not None:
            assertion.id = assertion_id
        response.issue_instant = _iso(at)
        assertion.issue_instant = _iso(at)
        if destination is None:
            response.destination = None
        elif destination:
            response.destination = destination
        if issuer is not None:
            response.issuer.text = issuer
            assertion.issuer.text = issuer
        if status != STATUS_SUCCESS:
            response.status = success_status_factory()
            response.status.status_code.value = status
        conditions = assertion.conditions
        conditions.not_before = _iso(at if not_before is None else not_before)
        conditions.not_on_or_after = _iso(at + lifetime if not_on_or_after is None else not_on_or_after)
        if audience is not None:
            conditions.audience_restriction[0].audience[0].text = audience
        confirmation = assertion.subject.subject_confirmation[0].subject_confirmation_data
        confirmation.not_on_or_after = _iso(
            confirmation_not_on_or_after if confirmation_not_on_or_after is not None
            else (at + lifetime if not_on_or_after is None else not_on_or_after))
        if recipient is not None:
            confirmation.recipient = recipient
        if in_response_to is None:
            confirmation.in_response_to = None
        for statement in assertion.authn_statement:
            statement.authn_instant = _iso(at)
            if session_not_on_or_after is not None:
                statement.session_not_on_or_after = _iso(session_not_on_or_after)
        to_sign: list[tuple[str, str]] = []
        if sign_assertion:
            assertion.signature = pre_signature_part(assertion.id, server.sec.my_cert, 2, sign_alg=RSA_SHA256,
                                                     digest_alg=SHA256)
            to_sign.append(("urn:oasis:names:tc:SAML:2.0:assertion:Assertion", assertion.id))
        if sign_response:
            response.signature = pre_signature_part(response.id, server.sec.my_cert, 1, sign_alg=RSA_SHA256,
                                                    digest_alg=SHA256)
            to_sign.append(("urn:oasis:names:tc:SAML:2.0:protocol:Response", response.id))
        signed = signed_instance_factory(response, server.sec, to_sign)
        return signed if isinstance(signed, str) else str(signed.to_string().decode())

    def response_b64(self, **kwargs: Any) -> str:
        """`response(...)` base64-encoded, as the SAMLResponse form field and AssumeRoleWithSAML carry it."""
        return encode(self.response(**kwargs))

    def read_authn_request(self, saml_request: str, relay_state: str | None = None, *,
                           binding: str = BINDING_HTTP_REDIRECT) -> AuthnRequestSeen:
        """Parse an SP's AuthnRequest (HTTP-Redirect: deflated and base64; HTTP-POST: base64) with pysaml2."""
        raw = base64.b64decode(saml_request)
        xml = zlib.decompress(raw, -15) if binding == BINDING_HTTP_REDIRECT else raw
        request = samlp.authn_request_from_string(xml.decode())
        if request is None:
            raise ValueError("not an AuthnRequest")
        issuer = request.issuer.text.strip() if request.issuer is not None and request.issuer.text else ""
        return AuthnRequestSeen(request.id, issuer, request.assertion_consumer_service_url, relay_state)

    def answer(self, seen: AuthnRequestSeen, *, acs_url: str | None = None, **kwargs: Any) -> str:
        """A Response to an SP-initiated request (InResponseTo = its ID), for its issuer and ACS URL."""
        acs = acs_url or seen.acs_url or seen.issuer
        return self.response(sp_entity_id=seen.issuer, acs_url=acs, in_response_to=seen.id, **kwargs)


def encode(xml: str | bytes) -> str:
    return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()


def sp_metadata(entity_id: str, acs_url: str) -> str:
    """A minimal SP metadata document (pysaml2's IdP wants to know the SP it answers)."""
    return ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'entityID="{html.escape(entity_id)}"><md:SPSSODescriptor '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="{html.escape(acs_url)}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>')


def post_form(acs_url: str, saml_response_b64: str, relay_state: str | None = None) -> str:
    """The page an IdP answers with: a form that posts SAMLResponse (and RelayState) to the ACS by itself."""
    relay = (f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
             if relay_state is not None else "")
    return ('<!DOCTYPE html><html><head><title>Test IdP</title></head>'
            '<body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(acs_url)}">'
            f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response_b64)}">{relay}'
            '<noscript><button type="submit">Continue</button></noscript></form></body></html>')


@dataclass
class Sign:
    """What `SamlIdpServer` answers with for the next sign-ins: keyword arguments of `SamlIdp.response`."""

    sp_entity_id: str = ""
    acs_url: str = ""
    options: dict[str, Any] = field(default_factory=dict)


class SamlIdpServer:
    """Serves `idp` on 127.0.0.1 for browser tests. `GET /sso?SAMLRequest=..&RelayState=..` (SP-initiated,
    HTTP-Redirect) and `GET /start` (IdP-initiated, for `sign.sp_entity_id`/`sign.acs_url`) answer with a page
    that posts the Response by itself; `GET /metadata` serves the metadata. The IdP's entity ID and SSO URL are
    set to this server's addresses."""

    def __init__(self, idp: SamlIdp | None = None, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.idp = idp or SamlIdp(entity_id=f"http://127.0.0.1:{self.port}/metadata",
                                  sso_url=f"http://127.0.0.1:{self.port}/sso")
        self.sign = Sign()
        self.requests: list[AuthnRequestSeen] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.idp.close()

    def __enter__(self) -> SamlIdpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def page_for(self, path: str, query: Mapping[str, list[str]]) -> tuple[int, str, str]:
        if path == "/metadata":
            return 200, "application/samlmetadata+xml", self.idp.metadata()
        if path == "/sso":
            request = query.get("SAMLRequest", [""])[0]
            relay = query.get("RelayState", [None])[0]
            seen = self.idp.read_authn_request(request, relay)
            self.requests.append(seen)
            acs = self.sign.acs_url or seen.acs_url or seen.issuer
            body = self.idp.answer(seen, acs_url=acs, **self.sign.options)
            return 200, "text/html; charset=utf-8", post_form(acs, encode(body), relay)
        if path == "/start":
            acs = self.sign.acs_url or self.sign.sp_entity_id
            body = self.idp.response(sp_entity_id=self.sign.sp_entity_id, acs_url=acs, **self.sign.options)
            relay = query.get("RelayState", [None])[0]
            return 200, "text/html; charset=utf-8", post_form(acs, encode(body), relay)
        return 404, "text/plain", "not found"


def _handler_for(server: SamlIdpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            try:
                status, content_type, body = server.page_for(parts.path, parse_qs(parts.query))
            except Exception as exc:  # a test IdP answers a bad request with a page, not a dropped socket
                status, content_type, body = 400, "text/plain", f"bad request: {exc}"
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
