"""OAuth 2.0 for the command line (SSO-OIDC): the device authorization grant (RFC 8628), PKCE (RFC 7636, S256
only), and the protocol's errors as classes whose attribute is their RFC error code. No framework, no store."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlsplit

from .tokens import same

DEVICE_CODE_LIFETIME = 600  # RFC 8628 3.2 `expires_in`; the ceiling
POLL_INTERVAL = 5  # seconds between polls (RFC 8628 3.5); `slow_down` adds 5 for that device code
AUTHORIZATION_CODE_LIFETIME = 300
ACCESS_TOKEN_LIFETIME = 3600  # and never past the portal session behind it
CLIENT_SECRET_LIFETIME = 90 * 86400
REFRESH_REUSE_GRACE = 30  # a refresh token used again this soon after its rotation is refused, nothing revoked

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
REFRESH_TOKEN_GRANT = "refresh_token"
GRANT_TYPES = (DEVICE_CODE_GRANT, AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT)
DEFAULT_GRANT_TYPES = (DEVICE_CODE_GRANT,)  # a client registered without `grantTypes` (the legacy device flow)
SCOPES = frozenset({"sso:account:access"})  # what the SSO portal API serves

# RFC 8628 6.1: 20 consonants (no vowels: no words; no look-alikes), 8 characters: 20**8, about 34.6 bits.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


def new_user_code() -> str:
    """`ABCD-EFGH`, shown to the user and typed on the approval page."""
    chars = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_user_code(typed: str) -> str | None:
    """The code as stored (upper case, no dash or spaces), or None when it cannot be one (RFC 8628 6.1: the
    user may type it in lower case, with or without the dash)."""
    cleaned = "".join(c for c in typed.upper() if c not in "- \t")
    if len(cleaned) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def display_user_code(normalized: str) -> str:
    return f"{normalized[:4]}-{normalized[4:]}"


def portal_name_in(start_url: str, origin: str) -> str | None:
    """The portal name of a start URL `<origin>/portal/<name>/start` (also without `/start`, with a trailing
    slash, or with a fragment such as `#/`), or None when the URL is not one of `origin`'s portals."""
    try:
        url, base = urlsplit(start_url.strip()), urlsplit(origin)
    except ValueError:
        return None
    if (url.scheme.lower(), url.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()) or url.query:
        return None
    prefix = base.path.rstrip("/") + "/portal/"
    if not url.path.startswith(prefix):
        return None
    name, _, rest = url.path[len(prefix):].partition("/")
    if not name or rest.rstrip("/") not in ("", "start"):
        return None
    return name


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback_redirect(uri: str) -> bool:
    """RFC 8252 7.3: `http://127.0.0.1[:port]/path` (or `localhost`, `[::1]`): no user, no fragment, no other
    loopback address."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or parts.fragment or "@" in parts.netloc or port == 0:
        return False
    # exactly the three names the approval page will send a browser to (not 127.0.0.2 and the like), and no
    # control or space characters anywhere
    return host in _LOOPBACK_HOSTS and not any(ord(c) < 0x21 or c == "\x7f" for c in uri)


def redirect_matches(registered: str, given: str) -> bool:
    """RFC 8252 7.3: a loopback redirect URI matches its registration whatever its port (the CLI picks a free
    one each time); scheme, host, path and query must be the same."""
    if not (is_loopback_redirect(registered) and is_loopback_redirect(given)):
        return False
    a, b = urlsplit(registered), urlsplit(given)
    return ((a.scheme, (a.hostname or "").lower(), a.path or "/", a.query)
            == (b.scheme, (b.hostname or "").lower(), b.path or "/", b.query))


def s256_challenge(verifier: str) -> str:
    """RFC 7636 4.2: BASE64URL(SHA256(ASCII(code_verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def valid_verifier(verifier: str) -> bool:
    """RFC 7636 4.1: 43 to 128 characters of [A-Za-z0-9-._~]."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return 43 <= len(verifier) <= 128 and all(c in allowed for c in verifier)


def valid_challenge(challenge: str) -> bool:
    """An S256 challenge is 43 base64url characters (a SHA-256 digest)."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return len(challenge) == 43 and all(c in allowed for c in challenge)


def verifier_matches(verifier: str, challenge: str) -> bool:
    return valid_verifier(verifier) and same(s256_challenge(verifier), challenge)


class OAuthError(Exception):
    """A protocol error: `error` is its RFC 6749/8628 code; the wire adds the AWS exception name."""

    error = "invalid_request"

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.error)
        self.description = description or self.error


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """Unknown client, wrong secret, expired registration (HTTP 401)."""

    error = "invalid_client"


class InvalidGrant(OAuthError):
    """Unknown, reused or mismatched device code, authorization code or refresh token."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """The client was not registered for that grant type."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidClientMetadata(OAuthError):
    error = "invalid_client_metadata"


class InvalidRedirectUri(OAuthError):
    error = "invalid_redirect_uri"


class AuthorizationPending(OAuthError):
    error = "authorization_pending"


class SlowDown(OAuthError):
    error = "slow_down"


class ExpiredToken(OAuthError):
    """The device code expired before the user approved it (RFC 8628 `expired_token`)."""

    error = "expired_token"


class AccessDenied(OAuthError):
    """The user chose Deny."""

    error = "access_denied"
