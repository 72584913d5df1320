"""core/saml.py against responses from the tests' pysaml2 IdP: what a verified response yields, and every refusal
with its cause: the eight signature-wrapping variants of "On Breaking SAML" (Somorovsky et al., 2012), unsigned,
a comment inside the NameID, a DOCTYPE with external entities, another certificate, clocks, audiences."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from lxml import etree

from saml_attacks import WRAPPINGS, A, P, parts, tree
from saml_idp import NAMEID_EMAIL, NAMEID_PERSISTENT, ROLE_ATTRIBUTE, SESSION_NAME_ATTRIBUTE, SamlIdp, encode
from saml_idp import new_signing_identity as new_identity
from support import free_port
from vestibule.core import saml
from vestibule.core.federation_failures import Cause, FederationFailure

SP = "https://vestibule.test/saml"
ROLE = "arn:aws:iam::123456789012:role/Admin"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/Corp"


@pytest.fixture(scope="module")
def idp() -> Iterator[SamlIdp]:
    provider = SamlIdp()
    yield provider
    provider.close()


def verify(idp: SamlIdp, xml: str | bytes, **kwargs: object) -> saml.Assertion:
    options: dict[str, object] = {"certificates": [idp.certificate_der], "audience": SP, "recipient": SP,
                                  "now": time.time()}
    options.update(kwargs)
    return saml.verify_response(xml.encode() if isinstance(xml, str) else xml, **options)  # type: ignore[arg-type]


def refused(idp: SamlIdp, xml: str | bytes, **kwargs: object) -> FederationFailure:
    with pytest.raises(FederationFailure) as caught:
        verify(idp, xml, **kwargs)
    return caught.value


def signed(idp: SamlIdp, **kwargs: object) -> str:
    options: dict[str, object] = {"sp_entity_id": SP, "roles": [(ROLE, PROVIDER)], "name_id": "alice@example.com"}
    options.update(kwargs)
    return idp.response(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sign_response", "sign_assertion"), [(True, True), (True, False), (False, True)])
def test_signed_response_yields_its_assertion(idp: SamlIdp, sign_response: bool, sign_assertion: bool) -> None:
    xml = signed(idp, sign_response=sign_response, sign_assertion=sign_assertion, session_duration=7200,
                 name_qualifier="corp", session_not_on_or_after=time.time() + 3600)
    got = verify(idp, xml)
    assert got.issuer == idp.entity_id and got.name_id == "alice@example.com"
    assert got.name_id_format == NAMEID_PERSISTENT and got.name_qualifier == "corp"
    assert got.attributes[ROLE_ATTRIBUTE] == (f"{ROLE},{PROVIDER}",)
    assert got.attributes[SESSION_NAME_ATTRIBUTE] == ("alice",)
    assert got.attributes["https://aws.amazon.com/SAML/Attributes/SessionDuration"] == ("7200",)
    assert got.id.startswith("id-") and time.time() < got.not_on_or_after <= time.time() + 301
    assert got.session_not_on_or_after is not None and got.authn_instant is not None
    assert saml.hints(xml.encode()) == saml.Hints(idp.entity_id, (PROVIDER,))


def test_name_id_format_checked_when_expected(idp: SamlIdp) -> None:
    xml = signed(idp, name_id_format=NAMEID_EMAIL)
    assert verify(idp, xml, name_id_format=NAMEID_EMAIL).name_id_format == NAMEID_EMAIL
    failure = refused(idp, signed(idp), name_id_format=NAMEID_EMAIL)
    assert failure.cause is Cause.NAMEID_FORMAT
    assert failure.user == {"expected": NAMEID_EMAIL, "received": NAMEID_PERSISTENT}


def test_in_response_to_must_match_when_expected(idp: SamlIdp) -> None:
    xml = signed(idp, in_response_to="_request1")
    assert verify(idp, xml, in_response_to="_request1").in_response_to == "_request1"
    assert refused(idp, xml, in_response_to="_request2").cause is Cause.STATE_MISMATCH


def test_unsigned_response_refused(idp: SamlIdp) -> None:
    failure = refused(idp, signed(idp, sign_response=False, sign_assertion=False))
    assert failure.cause is Cause.UNSIGNED


@pytest.mark.parametrize("sign_response", [True, False])
def test_edited_after_signing_refused(idp: SamlIdp, sign_response: bool) -> None:
    xml = signed(idp, sign_response=sign_response, sign_assertion=not sign_response)
    edited = xml.replace(">alice@example.com<", ">admin@example.com<")
    assert edited != xml
    assert refused(idp, edited).cause is Cause.UNSIGNED


def test_other_certificate_names_both_fingerprints(idp: SamlIdp) -> None:
    other = new_identity("Someone else")
    failure = refused(idp, signed(idp, signer=other))
    assert failure.cause is Cause.CERTIFICATE_MISMATCH
    assert failure.admin["found_fingerprint"] == saml.fingerprint(other.certificate_der)
    assert failure.admin["registered_fingerprints"] == saml.fingerprint(idp.certificate_der)
    assert saml.fingerprint(idp.certificate_der).count(":") == 31
    # a second registered certificate (rollover) is tried too
    assert verify(idp, signed(idp, signer=other),
                  certificates=[idp.certificate_der, other.certificate_der]).name_id == "alice@example.com"


def test_comment_inside_name_id_does_not_truncate_it(idp: SamlIdp) -> None:
    xml = signed(idp, name_id="user@evil.com.example.com")
    attacked = xml.replace(">user@evil.com.example.com<", ">user@evil.com<!---->.example.com<")
    assert attacked != xml
    assert verify(idp, attacked).name_id == "user@evil.com.example.com"
    only_assertion = signed(idp, name_id="user@evil.com.example.com", sign_response=False)
    attacked = only_assertion.replace(">user@evil.com.example.com<", ">user@evil.com<!---->.example.com<")
    assert verify(idp, attacked).name_id == "user@evil.com.example.com"


class _Hits(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Hits.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"leaked")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_doctype_with_external_entities_refused_without_reading_anything(idp: SamlIdp) -> None:
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Hits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        xml = signed(idp).replace('<?xml version="1.0"?>', "")
        for declaration in (
            '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
            f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/entity">]>',
            f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/dtd">',
            f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/param"> %p;]>',
        ):
            attacked = '<?xml version="1.0"?>' + declaration + xml.replace(">alice@example.com<", ">&x;<")
            failure = refused(idp, attacked)
            assert failure.cause is Cause.MALFORMED and "DOCTYPE" in str(failure)
            assert "root:" not in str(failure) + repr(failure.admin)
    finally:
        server.shutdown()
        server.server_close()
    assert _Hits.hits == []


@pytest.mark.parametrize("name", sorted(WRAPPINGS))
def test_signature_wrapping_refused(idp: SamlIdp, name: str) -> None:
    attack, response_signed = WRAPPINGS[name]
    root = tree(signed(idp, sign_response=response_signed, sign_assertion=not response_signed))
    attack(root)
    attacked = etree.tostring(root)
    assert b"admin@evil.example" in attacked
    failure = refused(idp, attacked)
    assert failure.cause in (Cause.MALFORMED, Cause.UNSIGNED), failure


@pytest.mark.parametrize("name", sorted(WRAPPINGS))
def test_signature_wrapping_refused_when_both_are_signed(idp: SamlIdp, name: str) -> None:
    attack, _ = WRAPPINGS[name]
    root = tree(signed(idp, sign_response=True, sign_assertion=True))
    attack(root)
    failure = refused(idp, etree.tostring(root))
    assert failure.cause in (Cause.MALFORMED, Cause.UNSIGNED), failure


def test_clock_ahead_and_behind_in_minutes(idp: SamlIdp) -> None:
    now = time.time()
    ahead = refused(idp, signed(idp, now=now + 600), now=now)
    assert ahead.cause is Cause.CLOCK_SKEW and ahead.user == {"minutes": "10", "direction": "ahead"}
    behind = refused(idp, signed(idp, now=now - 1200, lifetime=3600), now=now)
    assert behind.cause is Cause.CLOCK_SKEW and behind.user == {"minutes": "20", "direction": "behind"}
    # within the skew (300 s by default) the response passes
    assert verify(idp, signed(idp, now=now + 200), now=now).name_id == "alice@example.com"


def test_expired_refused(idp: SamlIdp) -> None:
    now = time.time()
    failure = refused(idp, signed(idp, not_on_or_after=now - 400), now=now)
    assert failure.cause is Cause.EXPIRED
    only_confirmation = refused(idp, signed(idp, confirmation_not_on_or_after=now - 400), now=now)
    assert only_confirmation.cause is Cause.EXPIRED
    # within the skew it still passes, as the IdP's and our clocks may differ by that much
    assert verify(idp, signed(idp, not_on_or_after=now - 100), now=now).name_id == "alice@example.com"


def test_other_audience_refused(idp: SamlIdp) -> None:
    failure = refused(idp, signed(idp, audience="https://signin.aws.amazon.com/saml"))
    assert failure.cause is Cause.AUDIENCE
    assert failure.admin == {"received": "https://signin.aws.amazon.com/saml", "expected": SP}


def test_other_recipient_or_destination_refused(idp: SamlIdp) -> None:
    other = "https://signin.aws.amazon.com/saml"
    assert refused(idp, signed(idp, recipient=other)).cause is Cause.RECIPIENT
    assert refused(idp, signed(idp, destination=other)).cause is Cause.RECIPIENT
    # Destination is optional
    assert verify(idp, signed(idp, destination=None)).name_id == "alice@example.com"


def test_error_status_refused(idp: SamlIdp) -> None:
    failure = refused(idp, signed(idp, status="urn:oasis:names:tc:SAML:2.0:status:Requester"))
    assert failure.cause is Cause.IDP_ERROR


@pytest.mark.parametrize("text", ["", "not base64!", "A" * (saml.MAX_RESPONSE_BYTES * 2)])
def test_bad_base64_is_malformed(text: str) -> None:
    with pytest.raises(FederationFailure) as caught:
        saml.decode_response(text)
    assert caught.value.cause is Cause.MALFORMED


@pytest.mark.parametrize("xml", [b"<a/>", b"not xml", b"<samlp:Response xmlns:samlp='x'/>",
                                 b'<?xml version="1.0"?><!DOCTYPE x><x/>'])
def test_not_a_response_is_malformed(idp: SamlIdp, xml: bytes) -> None:
    assert refused(idp, xml).cause is Cause.MALFORMED


def test_decoded_round_trip(idp: SamlIdp) -> None:
    xml = signed(idp)
    assert saml.decode_response(encode(xml)) == xml.encode()
    assert saml.decode_response(encode(xml)[:60] + "\n" + encode(xml)[60:]) == xml.encode()


def test_signature_moved_to_the_response_still_covers_only_the_assertion(idp: SamlIdp) -> None:
    """An assertion's signature moved up to the response verifies, but covers the assertion: the response's own
    fields (Destination, Status) would then pass as signed, so it is refused."""
    root = tree(signed(idp, sign_response=False, sign_assertion=True))
    assertion, _, signature = parts(root)
    assert signature is not None
    assertion.remove(signature)
    issuer = root.find(f"{A}Issuer")
    assert issuer is not None
    issuer.addnext(signature)
    failure = refused(idp, etree.tostring(root))
    assert failure.cause is Cause.UNSIGNED and "another element" in str(failure)


def test_lone_assertion_moved_out_of_place_refused(idp: SamlIdp) -> None:
    root = tree(signed(idp, sign_response=False, sign_assertion=True))
    assertion, _, _ = parts(root)
    extensions = etree.Element(f"{P}Extensions")
    root.replace(assertion, extensions)
    extensions.append(assertion)
    assert refused(idp, etree.tostring(root)).cause is Cause.MALFORMED


def test_doctype_in_utf16_refused(idp: SamlIdp) -> None:
    """The byte scan cannot see a UTF-16 DOCTYPE; the parser (no entities, no DTD, no network) and the
    document's own doctype check still refuse it."""
    body = signed(idp).replace('<?xml version="1.0"?>', "").replace(">alice@example.com<", ">&x;<")
    attacked = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + body).encode("utf-16")
    failure = refused(idp, attacked)
    assert failure.cause is Cause.MALFORMED and "root:" not in str(failure)


def test_encrypted_assertion_refused(idp: SamlIdp) -> None:
    root = tree(signed(idp, sign_response=False, sign_assertion=True))
    assertion, _, _ = parts(root)
    root.replace(assertion, etree.Element(f"{A}EncryptedAssertion"))
    failure = refused(idp, etree.tostring(root))
    assert failure.cause is Cause.MALFORMED and "encrypted" in str(failure)


def test_in_response_to_is_read_only_where_it_is_signed(idp: SamlIdp) -> None:
    """With only the assertion signed, the Response's InResponseTo is anyone's to write: an IdP-initiated
    assertion re-wrapped with a victim's request ID still answers no request, and one the IdP signed (in the
    bearer confirmation) stays when the unsigned copy is removed."""
    root = tree(signed(idp, sign_response=False, sign_assertion=True))
    root.set("InResponseTo", "_victims_request")
    assert verify(idp, etree.tostring(root)).in_response_to is None
    root = tree(signed(idp, sign_response=False, sign_assertion=True, in_response_to="_request1"))
    del root.attrib["InResponseTo"]
    assert verify(idp, etree.tostring(root)).in_response_to == "_request1"
    assert verify(idp, signed(idp, sign_assertion=False, in_response_to="_request1")).in_response_to == "_request1"


def _assertion_signed(idp: SamlIdp) -> tuple[etree._Element, etree._Element]:
    root = tree(signed(idp, sign_response=False, sign_assertion=True))
    return root, parts(root)[0]


def _evil_copy(assertion: etree._Element, new_id: str) -> etree._Element:
    evil = etree.fromstring(etree.tostring(assertion))
    evil.set("ID", new_id)
    for signature in evil.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        evil.remove(signature)
    name = evil.find(f"{A}Subject/{A}NameID")
    assert name is not None
    name.text = "admin@example.com"
    return evil


def test_a_second_assertion_in_advice_or_extensions_is_refused(idp: SamlIdp) -> None:
    """Beyond XSW1-8: an evil assertion inside the signed assertion's Advice (it would sit inside the signed
    element, and so change its digest: placed there after signing), or inside the Response's Extensions."""
    root, assertion = _assertion_signed(idp)
    advice = etree.SubElement(assertion, f"{A}Advice")
    advice.append(_evil_copy(assertion, "id-evil"))
    assert refused(idp, etree.tostring(root)).cause in (Cause.MALFORMED, Cause.UNSIGNED)
    root, assertion = _assertion_signed(idp)
    extensions = etree.Element(f"{P}Extensions")
    extensions.append(_evil_copy(assertion, "id-evil"))
    root.insert(0, extensions)
    assert refused(idp, etree.tostring(root)).cause is Cause.MALFORMED


@pytest.mark.parametrize("attribute", ["ID", "Id", "id", "{urn:x}ID", "{urn:x}Id",
                                       "{http://www.w3.org/XML/1998/namespace}id"])
def test_an_id_repeated_on_another_element_never_changes_what_is_read(idp: SamlIdp, attribute: str) -> None:
    """The signed assertion's ID also carried by another element (plain, other case, another namespace, xml:id),
    which signxml's reference lookup may match by local name: refused, or the signed assertion read."""
    root, assertion = _assertion_signed(idp)
    decoy = etree.SubElement(root, f"{P}Extensions")
    decoy.set(attribute, str(assertion.get("ID")))
    etree.SubElement(decoy, "{urn:x}NameID").text = "admin@example.com"
    try:
        got = verify(idp, etree.tostring(root))
    except FederationFailure as failure:
        assert failure.cause in (Cause.MALFORMED, Cause.UNSIGNED)
    else:
        assert got.name_id == "alice@example.com"


def test_whitespace_in_the_referenced_id_is_refused(idp: SamlIdp) -> None:
    root, assertion = _assertion_signed(idp)
    assertion.set("ID", " " + str(assertion.get("ID")))
    assert refused(idp, etree.tostring(root)).cause is Cause.UNSIGNED


@pytest.mark.parametrize("xml", [b"<a>" * 20_000 + b"</a>" * 20_000,  # deeper than libxml2's limit, under 256 KiB
                                 b"<x>" + b"A" * (saml.MAX_RESPONSE_BYTES + 1) + b"</x>"])
def test_deep_or_huge_documents_are_malformed(idp: SamlIdp, xml: bytes) -> None:
    assert refused(idp, xml).cause is Cause.MALFORMED
