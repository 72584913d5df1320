"""core/saml_metadata.py: an identity provider's metadata read into entity ID, signing certificates, SSO URLs,
NameID formats and validity; DOCTYPEs, entities and malformed documents refused with a reason."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from saml_idp import SamlIdp, new_signing_identity
from vestibule.core.saml_metadata import InvalidMetadata, parse_metadata

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNING = new_signing_identity("signing")
ENCRYPTION = new_signing_identity("encryption")


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


def _document(*, root_attrs: str = "", idp_attrs: str = "", keys: str | None = None, services: str | None = None,
              formats: str = "", entity_id: str = "https://idp.example.com/metadata") -> str:
    if keys is None:
        keys = (f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                f'{_b64(SIGNING.certificate_der)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')
    if services is None:
        services = ('<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
                    'Location="https://idp.example.com/sso/post"/>')
    return (f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{entity_id}" {root_attrs}>'
            f'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" {idp_attrs}>'
            f'{keys}{formats}{services}</md:IDPSSODescriptor></md:EntityDescriptor>')


def _refused(document: str | bytes) -> str:
    with pytest.raises(InvalidMetadata) as err:
        parse_metadata(document)
    return err.value.message


def test_metadata_of_a_pysaml2_identity_provider() -> None:
    idp = SamlIdp()
    try:
        parsed = parse_metadata(idp.metadata())
    finally:
        idp.close()
    assert parsed.entity_id == idp.entity_id
    assert parsed.signing_certificates == (idp.certificate_der,)
    assert parsed.sso_redirect_url == idp.sso_url and parsed.sso_post_url == idp.sso_url
    assert parsed.name_id_formats == idp.name_id_formats
    assert parsed.valid_until is None


def test_signing_keys_only_duplicates_once_and_the_earliest_valid_until() -> None:
    both = "".join(
        f'<md:KeyDescriptor{use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{_b64(der)}</ds:X509Certificate>'
        '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
        for use, der in ((' use="encryption"', ENCRYPTION.certificate_der), ("", SIGNING.certificate_der),
                         (' use="signing"', SIGNING.certificate_der)))
    emails = "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>" * 2
    parsed = parse_metadata(_document(keys=both, formats=emails, root_attrs='validUntil="2031-01-01T00:00:00Z"',
                                      idp_attrs='validUntil="2030-01-01T00:00:00.5+00:00"').encode())
    assert parsed.signing_certificates == (SIGNING.certificate_der,)  # KeyDescriptor without `use`: both uses
    assert parsed.name_id_formats == ("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",)
    assert parsed.valid_until == 1893456000.5
    assert parsed.sso_post_url == "https://idp.example.com/sso/post" and parsed.sso_redirect_url is None


def test_an_entities_descriptor_with_one_identity_provider() -> None:
    sp = '<md:EntityDescriptor entityID="https://sp.example.com"><md:SPSSODescriptor/></md:EntityDescriptor>'
    inner = _document().replace(f' xmlns:md="{MD}" xmlns:ds="{DS}"', "")
    wrapped = f'<md:EntitiesDescriptor xmlns:md="{MD}" xmlns:ds="{DS}">{sp}{inner}</md:EntitiesDescriptor>'
    assert parse_metadata(wrapped).entity_id == "https://idp.example.com/metadata"
    two = f'<md:EntitiesDescriptor xmlns:md="{MD}" xmlns:ds="{DS}">{inner}{inner}</md:EntitiesDescriptor>'
    assert "exactly one" in _refused(two)


def test_a_doctype_with_an_external_entity_reads_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = _document(entity_id="&leak;")
    evil = f'<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor [<!ENTITY leak SYSTEM "file://{secret}">]>{body}'
    message = _refused(evil)
    assert "TOP-SECRET-CONTENT" not in message


def test_any_doctype_is_refused() -> None:
    plain = f'<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor>{_document()}'
    assert "DOCTYPE" in _refused(plain)
    laughs = ('<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + _document(entity_id="urn:x"))
    assert "DOCTYPE" in _refused(laughs)
    network = ('<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor SYSTEM "http://127.0.0.1:9/evil.dtd">'
               + _document())
    assert "DOCTYPE" in _refused(network)


@pytest.mark.parametrize(("document", "reason"), [
    ("not xml at all", "not well-formed"),
    (f'<md:EntityDescriptor xmlns:md="{MD}" entityID="x"></md:EntityDescriptor>', "IDPSSODescriptor"),
    ('<EntityDescriptor entityID="x"/>', "root"),
    (_document(entity_id=""), "entityID"),
    (_document(keys=""), "signing certificate"),
    (_document(keys='<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>***</ds:X509Certificate>'
                    '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'), "base64"),
    (_document(keys='<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MAMCAQE=</ds:X509Certificate>'
                    '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'), "DER certificate"),
    (_document(idp_attrs='validUntil="tomorrow"'), "validUntil"),
    (_document(idp_attrs='validUntil="2030-01-01T00:00:00"'), "time zone"),
])
def test_unusable_metadata_is_refused_with_a_reason(document: str, reason: str) -> None:
    assert reason in _refused(document)


def test_a_utf16_document_is_read_and_its_doctype_still_refused() -> None:
    declared = '<?xml version="1.0" encoding="UTF-16"?>'
    assert parse_metadata((declared + _document()).encode("utf-16")).entity_id == "https://idp.example.com/metadata"
    evil = declared + '<!DOCTYPE md:EntityDescriptor [<!ENTITY e "x">]>' + _document(entity_id="&e;")
    assert "DOCTYPE" in _refused(evil.encode("utf-16"))
