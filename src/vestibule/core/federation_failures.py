"""Why a federated sign-in failed, as data: one cause from a fixed list, what the user may be told, and what only
the administrator sees. Raised by the pure checks (SAML, OIDC, LDAP) and by the use cases; the pages show the
cause in words a user can act on with a reference ID, the audit event and `vestibule federation diagnose` show the
details (docs/federation.md, "When a sign-in fails")."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ..errors import VestibuleError


class Cause(StrEnum):
    """The value is the message key's last part (`federation.failure.<value>`) and the audit event's `cause`."""

    CLOCK_SKEW = "clock_skew"  # the IdP's clock is N minutes ahead or behind (user: minutes, ahead|behind)
    EXPIRED = "expired"  # the assertion or token is past its NotOnOrAfter / exp (and the clocks agree)
    CERTIFICATE_MISMATCH = "certificate_mismatch"  # signed, but not with the provider's registered certificate
    UNSIGNED = "unsigned"  # neither the response nor the assertion carries a valid signature
    MALFORMED = "malformed"  # not a SAML response / JWT we can read (DOCTYPE, bad base64, bad XML, ...)
    NAMEID_FORMAT = "nameid_format"  # the NameID format is not the one the instance expects
    AUDIENCE = "audience"  # the audience names another service
    RECIPIENT = "recipient"  # the recipient / destination names another service
    REPLAYED = "replayed"  # an assertion ID already used within its lifetime
    UNKNOWN_PROVIDER = "unknown_provider"  # the issuer is no registered provider
    NO_TRUSTED_ROLE = "no_trusted_role"  # no role in the assertion or token trusts this provider
    USER_NOT_FOUND = "user_not_found"  # no directory user matches (and just-in-time creation is off)
    USER_DISABLED = "user_disabled"  # the directory or the LDAP entry is disabled
    INVALID_CREDENTIALS = "invalid_credentials"  # LDAP: the user's bind failed (said as a wrong password)
    LDAP_SERVICE_ACCOUNT = "ldap_service_account"  # the service account cannot bind (expired, wrong password)
    LDAP_UNREACHABLE = "ldap_unreachable"  # the directory does not answer, or TLS fails
    IDP_ERROR = "idp_error"  # the provider answered with an error, or could not be reached
    STATE_MISMATCH = "state_mismatch"  # OIDC: state or nonce wrong, or the sign-in expired


class FederationFailure(VestibuleError):
    """`user`: values safe to show the person signing in (minutes of skew, a service name, a provider's name);
    `admin`: what only the audit event and `vestibule federation diagnose` show (fingerprints, the IdP's time,
    the provider ARN, the expected and the received values). Neither ever holds a secret, a token or an
    assertion's full text."""

    code = "federation.failure"

    def __init__(self, cause: Cause, detail: str = "", *, user: Mapping[str, str] | None = None,
                 admin: Mapping[str, str] | None = None) -> None:
        super().__init__(detail or cause.value)
        self.cause = cause
        self.user: dict[str, str] = dict(user or {})
        self.admin: dict[str, str] = dict(admin or {})
