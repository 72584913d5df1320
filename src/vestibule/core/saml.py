"""SAML 2.0 Web Browser SSO responses, verified (pure: no web framework, no database). The response or its one
assertion must carry an XML signature (signxml) by one of the provider's registered certificates, and only the
element that signature covers is read, so a signature-wrapping attack reads nothing it added; a document with a
DOCTYPE, a second assertion, an encrypted assertion or a repeated ID is refused before any signature is checked.
Every refusal is a FederationFailure with a Cause (docs/federation.md, "When a sign-in fails")."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from lxml import etree
from signxml.exceptions import InvalidInput, InvalidSignature, SignXMLException
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from .federation_failures import Cause, FederationFailure

__all__ = ["MAX_RESPONSE_BYTES", "Assertion", "Cause", "FederationFailure", "Hints", "decode_response",
           "fingerprint", "hints", "verify_response"]

MAX_RESPONSE_BYTES = 256 * 1024
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
_P = "{" + NS["samlp"] + "}"
_A = "{" + NS["saml"] + "}"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


@dataclass(frozen=True)
class Assertion:
    """What a verified assertion says. Instants are POSIX seconds; `attributes` maps an attribute's Name to its
    values in document order; `in_response_to` is the signed InResponseTo (the bearer confirmation's, or a signed
    response's), None for an IdP-initiated response."""

    id: str
    issuer: str
    name_id: str
    name_id_format: str | None
    name_qualifier: str | None
    sp_name_qualifier: str | None
    not_on_or_after: float
    session_not_on_or_after: float | None
    authn_instant: float | None
    attributes: Mapping[str, tuple[str, ...]]
    in_response_to: str | None = None
    issue_instant: float = 0.0


@dataclass(frozen=True)
class Hints:
    """Unverified claims, read only to choose which provider's certificates to verify with; never trusted."""

    issuer: str | None
    provider_arns: tuple[str, ...]


def fingerprint(der: bytes) -> str:
    """A certificate's SHA-256 fingerprint as colon-separated upper-case hex (how openssl and consoles show it)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def decode_response(saml_b64: str) -> bytes:
    """The SAMLResponse form field or AssumeRoleWithSAML's SAMLAssertion, base64-decoded (whitespace ignored)."""
    text = "".join(saml_b64.split())
    if not text or len(text) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise FederationFailure(Cause.MALFORMED, "the SAML response is empty or too large")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FederationFailure(Cause.MALFORMED, "the SAML response is not base64") from None


def _parse(xml: bytes) -> etree._Element:
    if len(xml) > MAX_RESPONSE_BYTES:
        raise FederationFailure(Cause.MALFORMED, "the SAML response is too large")
    if _DECLARATION.search(xml):
        raise FederationFailure(Cause.MALFORMED, "the SAML response carries a DOCTYPE or entity declaration")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_blank_text=False)
    try:
        root = etree.fromstring(xml, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FederationFailure(Cause.MALFORMED, f"the SAML response is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise FederationFailure(Cause.MALFORMED, "the SAML response carries a DOCTYPE")
    if root.tag != _P + "Response":
        raise FederationFailure(Cause.MALFORMED, "not a SAML 2.0 Response")
    return root


def _text(element: etree._Element | None) -> str:
    """The element's string value: every text node below it, comments and processing instructions left out (so
    `user@evil.com<!---->.example.com` reads as the whole name, never as its first half)."""
    if element is None:
        return ""
    return str(element.xpath("string()")).strip()


def hints(xml: bytes) -> Hints:
    """The issuer and the provider ARNs the Role attribute names, read WITHOUT verification (to pick certificates)."""
    root = _parse(xml)
    issuer = root.find("saml:Issuer", NS)
    if issuer is None:
        issuer = root.find("saml:Assertion/saml:Issuer", NS)
    arns: list[str] = []
    for value in root.iterfind(f"saml:Assertion/saml:AttributeStatement/saml:Attribute[@Name='{ROLE_ATTRIBUTE}']"
                               "/saml:AttributeValue", NS):
        for part in _text(value).split(","):
            part = part.strip()
            if ":saml-provider/" in part and part not in arns:
                arns.append(part)
    return Hints(_text(issuer) or None, tuple(arns))


def _instant(value: str | None, what: str) -> float:
    if not value:
        raise FederationFailure(Cause.MALFORMED, f"{what} is missing")
    text = _FRACTION.sub(r"\1", value.strip())
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FederationFailure(Cause.MALFORMED, f"{what} is not an xs:dateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def _optional_instant(value: str | None, what: str) -> float | None:
    return None if value is None else _instant(value, what)


def _iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refuse_ambiguity(root: etree._Element) -> etree._Element:
    """The one Assertion, a child of the Response; refuse second (wrapped, copied) assertions and repeated IDs."""
    if root.find(".//saml:EncryptedAssertion", NS) is not None:
        raise FederationFailure(Cause.MALFORMED, "encrypted assertions are not supported")
    found = root.findall(".//saml:Assertion", NS)
    if len(found) != 1:
        raise FederationFailure(Cause.MALFORMED, f"the response carries {len(found)} assertions, not exactly one")
    assertion = found[0]
    if assertion.getparent() is not root:
        raise FederationFailure(Cause.MALFORMED, "the assertion is not a child of the response")
    ids: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("ID", "Id", "id"):
            value = element.get(name)
            if value is None:
                continue
            if value in ids:
                raise FederationFailure(Cause.MALFORMED, "two elements of the response share an ID")
            ids.add(value)
    signatures = root.findall(".//ds:Signature", NS)
    for signature in signatures:
        if signature.getparent() not in (root, assertion):
            raise FederationFailure(Cause.MALFORMED, "a signature sits outside the response and its assertion")
    return assertion


def _verify(element: etree._Element, certificates: Sequence[bytes], now: float) -> etree._Element:
    """The element the signature (a child of `element`) covers, as signxml verified it, with a registered cert."""
    data = etree.tostring(element)
    config = SignatureConfiguration(location="./", expect_references=1)
    when = datetime.datetime.fromtimestamp(now, datetime.UTC)
    last_error = ""
    for der in certificates:
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        try:
            result = XMLVerifier().verify(data, x509_cert=certificate, expect_config=_with_time(config, when))
        except (InvalidSignature, InvalidInput, SignXMLException, ValueError) as exc:
            last_error = str(exc)
            continue
        signed = result.signed_xml if isinstance(result, VerifyResult) else None
        if not isinstance(signed, etree._Element):
            raise FederationFailure(Cause.UNSIGNED, "the signature covers no element")
        return signed
    signature = element.find("ds:Signature", NS)
    embedded = _text(signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)) if signature is not None \
        else ""
    registered = ", ".join(fingerprint(der) for der in certificates) or "(none)"
    if embedded:
        try:
            found_der = base64.b64decode("".join(embedded.split()))
            found = x509.load_der_x509_certificate(found_der)
            XMLVerifier().verify(data, x509_cert=found, expect_config=_with_time(config, when))
        except (InvalidSignature, InvalidInput, SignXMLException, ValueError, binascii.Error):
            pass
        else:
            raise FederationFailure(
                Cause.CERTIFICATE_MISMATCH, "signed with a certificate that is not registered for the provider",
                admin={"found_fingerprint": fingerprint(found_der), "registered_fingerprints": registered})
    raise FederationFailure(Cause.UNSIGNED, "the signature does not verify with the registered certificates",
                            admin={"error": last_error[:300], "registered_fingerprints": registered})


def _with_time(config: SignatureConfiguration, when: datetime.datetime) -> SignatureConfiguration:
    return SignatureConfiguration(location=config.location, expect_references=config.expect_references,
                                  verification_time=when)


def _skew_failure(their: float, now: float, what: str) -> FederationFailure:
    minutes = max(1, round(abs(their - now) / 60))
    direction = "ahead" if their > now else "behind"
    return FederationFailure(
        Cause.CLOCK_SKEW, f"the identity provider's clock is {minutes} minutes {direction}",
        user={"minutes": str(minutes), "direction": direction},
        admin={what: _iso(their), "vestibule_time": _iso(now)})


def verify_response(xml: bytes, *, certificates: Sequence[bytes], audience: str, recipient: str, now: float,
                    skew: float = 300, name_id_format: str | None = None,
                    in_response_to: str | None = None) -> Assertion:
    """Verify a SAML Response (the XML, already base64-decoded) and return its one assertion. `certificates`: the
    provider's signing certificates (DER). `in_response_to`: the AuthnRequest ID an SP-initiated sign-in expects
    (None: IdP-initiated, any or none accepted). Raises FederationFailure."""
    root = _parse(xml)
    outer_assertion = _refuse_ambiguity(root)
    root_id = root.get("ID")
    if root.find("ds:Signature", NS) is not None:
        response = _verify(root, certificates, now)
        if response.tag != _P + "Response" or response.get("ID") != root_id:
            raise FederationFailure(Cause.UNSIGNED, "the signature covers another element than the response")
        inner = response.findall("saml:Assertion", NS)
        if len(inner) != 1:
            raise FederationFailure(Cause.MALFORMED, "the signed response does not carry exactly one assertion")
        assertion = inner[0]
    elif outer_assertion.find("ds:Signature", NS) is not None:
        response = root
        assertion = _verify(outer_assertion, certificates, now)
        if assertion.tag != _A + "Assertion" or assertion.get("ID") != outer_assertion.get("ID"):
            raise FederationFailure(Cause.UNSIGNED, "the signature covers another element than the assertion")
    else:
        raise FederationFailure(Cause.UNSIGNED, "neither the response nor the assertion is signed")
    return _read(response, assertion, audience=audience, recipient=recipient, now=now, skew=skew,
                 name_id_format=name_id_format, in_response_to=in_response_to,
                 response_signed=response is not root)


def _read(response: etree._Element, assertion: etree._Element, *, audience: str, recipient: str, now: float,
          skew: float, name_id_format: str | None, in_response_to: str | None,
          response_signed: bool) -> Assertion:
    status = response.find("samlp:Status/samlp:StatusCode", NS)
    if status is None or status.get("Value") != STATUS_SUCCESS:
        raise FederationFailure(Cause.IDP_ERROR, "the identity provider answered with an error status",
                                admin={"status": "" if status is None else str(status.get("Value", ""))})
    destination = response.get("Destination")
    if destination is not None and destination != recipient:
        raise FederationFailure(Cause.RECIPIENT, "the response's Destination names another service",
                                user={"received": destination[:200]},
                                admin={"received": destination[:500], "expected": recipient})
    issuer = _text(assertion.find("saml:Issuer", NS))
    if not issuer:
        raise FederationFailure(Cause.MALFORMED, "the assertion has no Issuer")
    response_issuer = response.find("saml:Issuer", NS)
    if response_issuer is not None and _text(response_issuer) != issuer:
        raise FederationFailure(Cause.MALFORMED, "the response and the assertion name different issuers")
    if in_response_to is not None and response.get("InResponseTo") not in (None, in_response_to):
        raise FederationFailure(Cause.STATE_MISMATCH, "the response answers another sign-in request",
                                admin={"received": str(response.get("InResponseTo"))[:200],
                                       "expected": in_response_to})
    issued = _instant(assertion.get("IssueInstant"), "the assertion's IssueInstant")
    if abs(issued - now) > skew:
        raise _skew_failure(issued, now, "assertion_issue_instant")

    conditions = assertion.find("saml:Conditions", NS)
    not_after: float | None = None
    if conditions is not None:
        not_before = _optional_instant(conditions.get("NotBefore"), "Conditions NotBefore")
        if not_before is not None and not_before > now + skew:
            raise _skew_failure(not_before, now, "conditions_not_before")
        not_after = _optional_instant(conditions.get("NotOnOrAfter"), "Conditions NotOnOrAfter")
        if not_after is not None and now - skew >= not_after:
            raise FederationFailure(Cause.EXPIRED, "the assertion has expired",
                                    admin={"not_on_or_after": _iso(not_after), "vestibule_time": _iso(now)})
    restrictions = [] if conditions is None else conditions.findall("saml:AudienceRestriction", NS)
    received = [_text(a) for r in restrictions for a in r.findall("saml:Audience", NS)]
    if not restrictions or any(audience not in [_text(a) for a in r.findall("saml:Audience", NS)]
                               for r in restrictions):
        shown = ", ".join(received)[:300] or "(none)"
        raise FederationFailure(Cause.AUDIENCE, "the assertion is meant for another service",
                                user={"received": shown}, admin={"received": shown, "expected": audience})

    subject = assertion.find("saml:Subject", NS)
    name = None if subject is None else subject.find("saml:NameID", NS)
    if name is None:
        raise FederationFailure(Cause.MALFORMED, "the assertion's subject has no NameID (EncryptedID is not "
                                "supported)")
    name_id = _text(name)
    if not name_id:
        raise FederationFailure(Cause.MALFORMED, "the assertion's NameID is empty")
    got_format = name.get("Format")
    if name_id_format is not None and (got_format or NAMEID_UNSPECIFIED) != name_id_format:
        raise FederationFailure(Cause.NAMEID_FORMAT, "the NameID format is not the one expected",
                                user={"expected": name_id_format, "received": got_format or NAMEID_UNSPECIFIED},
                                admin={"expected": name_id_format, "received": got_format or NAMEID_UNSPECIFIED})
    confirmed_until, answered = _bearer_confirmation(subject, recipient=recipient, now=now, skew=skew,
                                                     in_response_to=in_response_to)
    if answered is None and response_signed:
        answered = response.get("InResponseTo")  # signed with the response (an unsigned one could be anything)
    if not_after is None:
        not_after = confirmed_until

    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        key = attribute.get("Name")
        if not key:
            continue
        values = tuple(_text(v) for v in attribute.findall("saml:AttributeValue", NS))
        attributes[key] = attributes.get(key, ()) + values
    authn = assertion.find("saml:AuthnStatement", NS)
    return Assertion(
        id=str(assertion.get("ID") or ""), issuer=issuer, name_id=name_id, name_id_format=got_format,
        name_qualifier=name.get("NameQualifier"), sp_name_qualifier=name.get("SPNameQualifier"),
        not_on_or_after=min(not_after, confirmed_until),
        session_not_on_or_after=None if authn is None else _optional_instant(
            authn.get("SessionNotOnOrAfter"), "SessionNotOnOrAfter"),
        authn_instant=None if authn is None else _optional_instant(authn.get("AuthnInstant"), "AuthnInstant"),
        attributes=attributes, in_response_to=answered, issue_instant=issued)


def _bearer_confirmation(subject: etree._Element, *, recipient: str, now: float, skew: float,
                         in_response_to: str | None) -> tuple[float, str | None]:
    """NotOnOrAfter and InResponseTo of the first bearer SubjectConfirmation that names this recipient and is
    still valid (both signed with the assertion)."""
    seen_recipients: list[str] = []
    expired_at: float | None = None
    for confirmation in subject.findall("saml:SubjectConfirmation", NS):
        if confirmation.get("Method") != BEARER:
            continue
        data = confirmation.find("saml:SubjectConfirmationData", NS)
        if data is None:
            continue
        got = data.get("Recipient")
        if got != recipient:
            seen_recipients.append(got or "(none)")
            continue
        until = _instant(data.get("NotOnOrAfter"), "SubjectConfirmationData NotOnOrAfter")
        if now - skew >= until:
            expired_at = until
            continue
        if in_response_to is not None and data.get("InResponseTo") not in (None, in_response_to):
            raise FederationFailure(Cause.STATE_MISMATCH, "the assertion answers another sign-in request",
                                    admin={"received": str(data.get("InResponseTo"))[:200],
                                           "expected": in_response_to})
        return until, data.get("InResponseTo")
    if expired_at is not None:
        raise FederationFailure(Cause.EXPIRED, "the assertion has expired",
                                admin={"not_on_or_after": _iso(expired_at), "vestibule_time": _iso(now)})
    shown = ", ".join(seen_recipients)[:300] or "(none)"
    raise FederationFailure(Cause.RECIPIENT, "the assertion's recipient names another service",
                            user={"received": shown}, admin={"received": shown, "expected": recipient})
