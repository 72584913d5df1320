"""What Vestibule says as a SAML 2.0 service provider (pure): its metadata for an identity provider to import, and
the AuthnRequest of an SP-initiated sign-in sent with the HTTP-Redirect binding (saml-bindings-2.0-os 3.4: the
request DEFLATE-compressed, base64-encoded, URL-encoded as `SAMLRequest`, with `RelayState` beside it). Requests
are not signed: the metadata says so (`AuthnRequestsSigned="false"`) and wants signed assertions."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
EMAIL_ADDRESS = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
MAX_RELAY_STATE = 80  # saml-bindings-2.0-os 3.4.3: RelayState MUST NOT exceed 80 bytes


def instant(at: float) -> str:
    """An xs:dateTime in UTC without fractions, as SAML instants are written."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sp_metadata(entity_id: str, acs_url: str, name_id_formats: Sequence[str] = (EMAIL_ADDRESS,), *,
                want_assertions_signed: bool = True) -> bytes:
    """An md:EntityDescriptor with one SPSSODescriptor: the entity ID, the NameID formats asked for, and the one
    assertion consumer service (HTTP-POST binding) at `acs_url`."""
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD})
    root.set("entityID", entity_id)
    sp = etree.SubElement(root, f"{{{MD}}}SPSSODescriptor")
    sp.set("AuthnRequestsSigned", "false")
    sp.set("WantAssertionsSigned", "true" if want_assertions_signed else "false")
    sp.set("protocolSupportEnumeration", SAMLP)
    for name_id_format in name_id_formats:
        etree.SubElement(sp, f"{{{MD}}}NameIDFormat").text = name_id_format
    acs = etree.SubElement(sp, f"{{{MD}}}AssertionConsumerService")
    acs.set("Binding", POST_BINDING)
    acs.set("Location", acs_url)
    acs.set("index", "0")
    acs.set("isDefault", "true")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def authn_request(*, request_id: str, issuer: str, destination: str, acs_url: str, now: float,
                  name_id_format: str | None = EMAIL_ADDRESS) -> bytes:
    """A samlp:AuthnRequest asking for a response by HTTP-POST to `acs_url`. `request_id` must be an xs:ID (a
    letter or `_` first); the response's InResponseTo names it."""
    if not request_id or not (request_id[0].isalpha() or request_id[0] == "_"):
        raise ValueError("an AuthnRequest ID must start with a letter or an underscore")
    root = etree.Element(f"{{{SAMLP}}}AuthnRequest", nsmap={"samlp": SAMLP, "saml": SAML})
    root.set("ID", request_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", instant(now))
    root.set("Destination", destination)
    root.set("AssertionConsumerServiceURL", acs_url)
    root.set("ProtocolBinding", POST_BINDING)
    etree.SubElement(root, f"{{{SAML}}}Issuer").text = issuer
    if name_id_format is not None:
        policy = etree.SubElement(root, f"{{{SAMLP}}}NameIDPolicy")
        policy.set("Format", name_id_format)
        policy.set("AllowCreate", "true")
    return bytes(etree.tostring(root, encoding="UTF-8"))


def redirect_url(sso_url: str, request_xml: bytes, relay_state: str | None = None) -> str:
    """The IdP's single sign-on URL with the request attached (HTTP-Redirect binding); a query the URL already
    has is kept."""
    if relay_state is not None and len(relay_state.encode()) > MAX_RELAY_STATE:
        raise ValueError("RelayState is longer than 80 bytes")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE (RFC 1951), no zlib header
    deflated = compressor.compress(request_xml) + compressor.flush()
    params = {"SAMLRequest": base64.b64encode(deflated).decode()}
    if relay_state is not None:
        params["RelayState"] = relay_state
    separator = "&" if urlsplit(sso_url).query else ("" if sso_url.endswith("?") else "?")
    return f"{sso_url}{separator}{urlencode(params)}"
