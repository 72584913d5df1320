"""The tests' SAML IdP (tests/saml_idp.py) is a faithful peer: its metadata is what CreateSAMLProvider reads, its
signed responses verify with core/saml against that metadata's certificate, and over HTTP it answers an
SP-initiated AuthnRequest (HTTP-Redirect binding) with a self-posting form whose response names the request."""

from __future__ import annotations

import base64
import html
import re
import time
import urllib.request

from saml_idp import NAMEID_EMAIL, SamlIdpServer
from vestibule.core import saml, saml_metadata, saml_sp

SP = "http://127.0.0.1:9/portal/d-1234567890/saml"


def test_metadata_names_the_signing_certificate_and_endpoints() -> None:
    with SamlIdpServer() as server:
        parsed = saml_metadata.parse_metadata(server.idp.metadata())
        assert parsed.entity_id == server.idp.entity_id == f"{server.base_url}/metadata"
        assert parsed.signing_certificates == (server.idp.certificate_der,)
        assert parsed.sso_redirect_url == parsed.sso_post_url == f"{server.base_url}/sso"
        assert NAMEID_EMAIL in parsed.name_id_formats
        served = urllib.request.urlopen(f"{server.base_url}/metadata", timeout=5).read().decode()
        assert saml_metadata.parse_metadata(served) == parsed
        # a new key: the metadata names the new certificate, responses are signed with it
        old = server.idp.certificate_der
        server.idp.rotate()
        assert saml_metadata.parse_metadata(server.idp.metadata()).signing_certificates == (
            server.idp.certificate_der,) != (old,)


def _posted(page: str) -> tuple[str, bytes, str | None]:
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    response = re.search(r'name="SAMLResponse" value="([^"]+)"', page)
    relay = re.search(r'name="RelayState" value="([^"]+)"', page)
    assert action is not None and response is not None
    return (html.unescape(action.group(1)), base64.b64decode(html.unescape(response.group(1))),
            html.unescape(relay.group(1)) if relay else None)


def test_sp_initiated_request_is_answered_with_in_response_to() -> None:
    with SamlIdpServer() as server:
        server.sign.options = {"name_id": "alice@example.com", "name_id_format": NAMEID_EMAIL}
        request = saml_sp.authn_request(request_id="_req42", issuer=SP, destination=f"{server.base_url}/sso",
                                        acs_url=SP, now=time.time())
        url = saml_sp.redirect_url(f"{server.base_url}/sso", request, relay_state="r-1")
        page = urllib.request.urlopen(url, timeout=5).read().decode()
        acs, xml, relay = _posted(page)
        assert acs == SP and relay == "r-1" and "document.forms[0].submit()" in page
        assert [(seen.id, seen.issuer, seen.acs_url) for seen in server.requests] == [("_req42", SP, SP)]
        got = saml.verify_response(xml, certificates=[server.idp.certificate_der], audience=SP, recipient=SP,
                                   now=time.time(), name_id_format=NAMEID_EMAIL, in_response_to="_req42")
        assert got.name_id == "alice@example.com" and got.in_response_to == "_req42"


def test_idp_initiated_start_posts_a_response_for_the_configured_sp() -> None:
    with SamlIdpServer() as server:
        server.sign.sp_entity_id = SP
        server.sign.options = {"roles": [("arn:aws:iam::123456789012:role/Admin",
                                          "arn:aws:iam::123456789012:saml-provider/Corp")]}
        acs, xml, relay = _posted(urllib.request.urlopen(f"{server.base_url}/start", timeout=5).read().decode())
        assert acs == SP and relay is None
        got = saml.verify_response(xml, certificates=[server.idp.certificate_der], audience=SP, recipient=SP,
                                   now=time.time())
        assert got.in_response_to is None
        assert got.attributes["https://aws.amazon.com/SAML/Attributes/Role"] == (
            "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/Corp",)
