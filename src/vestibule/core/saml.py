"""SAML 2.0 Web Browser SSO responses, verified (pure: no web framework, no database). The response or its one
assertion must carry an XML signature (signxml) by one of the provider's registered certificates, and only the
element that signature covers is read, so a signature-wrapping attack reads nothing it added. Every refusal is a
FederationFailure with a Cause (docs/federation.md, "When a sign-in fails")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .federation_failures import Cause, FederationFailure

__all__ = ["Assertion", "Cause", "FederationFailure", "verify_response"]


@dataclass(frozen=True)
class Assertion:
    """What a verified assertion says. Instants are POSIX seconds; `attributes` maps an attribute's Name to its
    values in document order."""

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


def verify_response(xml: bytes, *, certificates: Sequence[bytes], audience: str, recipient: str, now: float,
                    skew: float = 300, name_id_format: str | None = None,
                    in_response_to: str | None = None) -> Assertion:
    """Verify a SAML Response (the XML, already base64-decoded) and return its one assertion. `certificates`: the
    provider's signing certificates (DER). `in_response_to`: the AuthnRequest ID an SP-initiated sign-in expects
    (None: IdP-initiated, any or none accepted). Raises FederationFailure."""
    raise FederationFailure(Cause.MALFORMED, "not implemented yet")
