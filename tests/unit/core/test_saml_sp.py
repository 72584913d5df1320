"""The service provider's AuthnRequest (HTTP-Redirect binding) and metadata, read back by pysaml2 (the test IdP's
own parser) and by lxml."""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from saml_idp import SamlIdp
from vestibule.core import saml_sp

ACS = "https://vestibule.example.com/portal/d-0123456789/saml"
SSO = "https://idp.example.com/saml/sso"


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


def _request_of(url: str) -> tuple[dict[str, list[str]], bytes]:
    query = parse_qs(urlsplit(url).query)
    return query, zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)


def test_redirect_url_carries_a_deflated_request_the_idp_reads(idp: SamlIdp) -> None:
    xml = saml_sp.authn_request(request_id="_abc123", issuer=ACS, destination=SSO, acs_url=ACS, now=1_700_000_000)
    url = saml_sp.redirect_url(SSO, xml, relay_state="f" * 64)
    assert url.startswith(SSO + "?SAMLRequest=")
    query, raw = _request_of(url)
    assert query["RelayState"] == ["f" * 64]
    assert raw == xml
    seen = idp.read_authn_request(query["SAMLRequest"][0], query["RelayState"][0])
    assert (seen.id, seen.issuer, seen.acs_url) == ("_abc123", ACS, ACS)
    root = etree.fromstring(raw)
    assert root.get("IssueInstant") == "2023-11-14T22:13:20Z"
    assert root.get("Destination") == SSO and root.get("ProtocolBinding") == saml_sp.POST_BINDING
    policy = root.find(f"{{{saml_sp.SAMLP}}}NameIDPolicy")
    assert policy is not None and policy.get("Format") == saml_sp.EMAIL_ADDRESS


def test_an_sso_url_with_a_query_keeps_it() -> None:
    xml = saml_sp.authn_request(request_id="_x", issuer=ACS, destination=SSO, acs_url=ACS, now=0)
    url = saml_sp.redirect_url(SSO + "?tenant=acme", xml)
    query, _ = _request_of(url)
    assert query["tenant"] == ["acme"] and "RelayState" not in query


def test_request_ids_and_relay_states_are_checked() -> None:
    with pytest.raises(ValueError):
        saml_sp.authn_request(request_id="1abc", issuer=ACS, destination=SSO, acs_url=ACS, now=0)
    xml = saml_sp.authn_request(request_id="_x", issuer=ACS, destination=SSO, acs_url=ACS, now=0)
    with pytest.raises(ValueError):
        saml_sp.redirect_url(SSO, xml, relay_state="r" * 81)


def test_values_are_escaped_in_the_xml() -> None:
    xml = saml_sp.authn_request(request_id="_x", issuer='https://a.example/"<&>', destination=SSO, acs_url=ACS,
                                now=0)
    issuer = etree.fromstring(xml).find(f"{{{saml_sp.SAML}}}Issuer")
    assert issuer is not None and issuer.text == 'https://a.example/"<&>'


def test_metadata_names_the_entity_the_consumer_and_the_format() -> None:
    root = etree.fromstring(saml_sp.sp_metadata(ACS, ACS))
    assert root.tag == f"{{{saml_sp.MD}}}EntityDescriptor" and root.get("entityID") == ACS
    sp = root.find(f"{{{saml_sp.MD}}}SPSSODescriptor")
    assert sp is not None
    assert (sp.get("AuthnRequestsSigned"), sp.get("WantAssertionsSigned")) == ("false", "true")
    assert [f.text for f in sp.findall(f"{{{saml_sp.MD}}}NameIDFormat")] == [saml_sp.EMAIL_ADDRESS]
    (acs,) = sp.findall(f"{{{saml_sp.MD}}}AssertionConsumerService")
    assert (acs.get("Binding"), acs.get("Location")) == (saml_sp.POST_BINDING, ACS)


def test_the_idp_answers_our_request_for_our_consumer(idp: SamlIdp) -> None:
    """pysaml2's IdP, given our metadata, builds its response for the consumer URL our request names."""
    xml = saml_sp.authn_request(request_id="_answer-me", issuer=ACS, destination=SSO, acs_url=ACS, now=0)
    query, _ = _request_of(saml_sp.redirect_url(SSO, xml))
    seen = idp.read_authn_request(query["SAMLRequest"][0])
    response = etree.fromstring(idp.answer(seen).encode())
    assert response.get("InResponseTo") == "_answer-me" and response.get("Destination") == ACS
