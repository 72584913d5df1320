"""SAML 2.0 metadata of an identity provider (OASIS saml-metadata-2.0-os): its entity ID, the certificates it
signs with, its single sign-on URLs and NameID formats, and how long the document is valid. Parsed with a hardened
lxml parser: any DOCTYPE is refused, entities are never resolved and nothing is fetched."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
MAX_DOCUMENT = 10_000_000  # CreateSAMLProvider's SAMLMetadataDocument max


class InvalidMetadata(ValueError):
    """The document is not metadata of a SAML identity provider we can use; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SamlMetadata:
    entity_id: str
    signing_certificates: tuple[bytes, ...]  # DER
    sso_redirect_url: str | None
    sso_post_url: str | None
    name_id_formats: tuple[str, ...]
    valid_until: float | None  # Unix seconds


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(xml: bytes | str) -> etree._Element:
    """The root element of `xml`, refusing a DOCTYPE (and with it every entity declaration)."""
    data = xml.encode() if isinstance(xml, str) else xml
    if len(data) > MAX_DOCUMENT:
        raise InvalidMetadata("The metadata document is too large.")
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise InvalidMetadata(f"The metadata document is not well-formed XML: {exc.msg}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidMetadata("The metadata document must not contain a DOCTYPE.")
    return tree.getroot()


def _instant(value: str) -> float:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidMetadata(f"validUntil is not a date and time: {value}") from None
    if moment.tzinfo is None:
        raise InvalidMetadata(f"validUntil has no time zone: {value}")
    return moment.timestamp()


def _certificate(text: str) -> bytes:
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMetadata("An X509Certificate in the metadata is not base64.") from None
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        raise InvalidMetadata("An X509Certificate in the metadata is not a DER certificate.") from None
    return der


def _entity(root: etree._Element) -> etree._Element:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return root
    if root.tag == f"{{{MD}}}EntitiesDescriptor":
        entities = [e for e in root.iter(f"{{{MD}}}EntityDescriptor")
                    if e.find(f"{{{MD}}}IDPSSODescriptor") is not None]
        if len(entities) != 1:
            raise InvalidMetadata("The metadata must describe exactly one identity provider.")
        return entities[0]
    raise InvalidMetadata("The metadata document's root is not an md:EntityDescriptor.")


def parse_metadata(xml: bytes | str) -> SamlMetadata:
    root = parse_xml(xml)
    entity = _entity(root)
    entity_id = (entity.get("entityID") or "").strip()
    if not entity_id:
        raise InvalidMetadata("The EntityDescriptor has no entityID.")
    idp = entity.find(f"{{{MD}}}IDPSSODescriptor")
    if idp is None:
        raise InvalidMetadata("The metadata has no IDPSSODescriptor.")
    certificates: list[bytes] = []
    for descriptor in idp.findall(f"{{{MD}}}KeyDescriptor"):
        if descriptor.get("use", "signing") != "signing":
            continue
        for cert in descriptor.iter(f"{{{DS}}}X509Certificate"):
            der = _certificate(cert.text or "")
            if der not in certificates:
                certificates.append(der)
    if not certificates:
        raise InvalidMetadata("The metadata has no signing certificate (KeyDescriptor with X509Certificate).")
    redirect = post = None
    for service in idp.findall(f"{{{MD}}}SingleSignOnService"):
        location = (service.get("Location") or "").strip() or None
        if service.get("Binding") == REDIRECT_BINDING and redirect is None:
            redirect = location
        elif service.get("Binding") == POST_BINDING and post is None:
            post = location
    formats = tuple(dict.fromkeys((f.text or "").strip() for f in idp.findall(f"{{{MD}}}NameIDFormat")
                                  if (f.text or "").strip()))
    valid_until = [_instant(v) for v in (idp.get("validUntil"), entity.get("validUntil"), root.get("validUntil"))
                   if v]
    return SamlMetadata(entity_id, tuple(certificates), redirect, post, formats,
                        min(valid_until) if valid_until else None)
