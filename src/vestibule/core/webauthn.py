"""WebAuthn (passkeys and security keys): the relying party taken from the public URL, what each kind of
authenticator is asked for, the pending challenge a flow keeps (its SHA-256 only), and the IAM serial of a
credential. Pure: no web framework, no database, no `webauthn` package (services/webauthn.py verifies)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

CHALLENGE_LIFETIME = 300  # seconds: a ceremony's challenge expires after this (the browser's timeout is less)
CEREMONY_TIMEOUT_MS = 240_000
CHALLENGE_BYTES = 32
MAX_CREDENTIALS_PER_PRINCIPAL = 8  # with the TOTP devices: the same limit as AWS's MFADevicesPerUser
MAX_RESPONSE = 64 * 1024  # the JSON a browser posts for one ceremony


class CredentialKind(StrEnum):
    """What the owner chose to add; kept with the credential and shown in the list."""

    SECURITY_KEY = "security_key"  # a roaming authenticator (USB, NFC, BLE), no resident key required
    PASSKEY = "passkey"  # a discoverable credential with user verification (synced or on a device)
    BUILT_IN = "built_in"  # the platform authenticator of this device (Touch ID, Windows Hello, ...)


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the public URL's host name
    name: str
    origin: str  # scheme://host[:port], what clientDataJSON.origin must be


def relying_party(public_url: str, name: str = "Vestibule") -> RelyingParty:
    """RP ID = the public URL's host (no port), origin = its scheme, host and port. ValueError without a host."""
    parts = urlsplit(public_url)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in {"http", "https"}:
        raise ValueError("the public URL has no http(s) host")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    shown = f"[{host}]" if ":" in host else host
    return RelyingParty(host, name, f"{parts.scheme}://{shown}{port}")


@dataclass(frozen=True)
class Choices:
    """The authenticatorSelection of a registration, and whether user verification is required."""

    attachment: str | None  # "platform", "cross-platform" or None (any)
    resident_key: str  # "required" | "preferred" | "discouraged"
    user_verification: str  # "required" | "preferred"

    @property
    def verification_required(self) -> bool:
        return self.user_verification == "required"


def choices_for(kind: CredentialKind) -> Choices:
    """Passkeys and built-in authenticators must verify the user; a security key is asked to (preferred)."""
    if kind is CredentialKind.SECURITY_KEY:
        return Choices("cross-platform", "discouraged", "preferred")
    if kind is CredentialKind.BUILT_IN:
        return Choices("platform", "preferred", "required")
    return Choices(None, "required", "required")


def kind_of(value: str) -> CredentialKind | None:
    try:
        return CredentialKind(value)
    except ValueError:
        return None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    """ValueError for anything that is not base64url."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


@dataclass(frozen=True)
class PendingChallenge:
    """A ceremony's challenge as a flow keeps it: its SHA-256, when it expires, whether the user must be
    verified, and (an assertion's) the options the page was given, so a reload or a second tab shows the same
    challenge instead of replacing it. Single use is the flow's (it is cleared when an answer is checked)."""

    challenge_hash: str
    expires_at: float
    user_verification: bool
    options: str = ""  # the options JSON for navigator.credentials.get ("" for a registration's)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def matches(self, challenge: bytes) -> bool:
        return hmac.compare_digest(challenge_hash(challenge), self.challenge_hash)

    def encode(self) -> dict[str, str | float | bool]:
        encoded: dict[str, str | float | bool] = {"challenge_hash": self.challenge_hash, "expires_at": self.expires_at,
                                                  "user_verification": self.user_verification}
        if self.options:
            encoded["options"] = self.options
        return encoded

    @classmethod
    def decode(cls, data: dict[str, object]) -> PendingChallenge:
        """ValueError when the stored object is not one."""
        digest, expires, uv = data.get("challenge_hash"), data.get("expires_at"), data.get("user_verification")
        if not isinstance(digest, str) or isinstance(expires, bool) or not isinstance(expires, (int, float)) \
                or not isinstance(uv, bool):
            raise ValueError("not a pending challenge")
        options = data.get("options", "")
        return cls(digest, float(expires), uv, options if isinstance(options, str) else "")


_SERIAL_LABEL = re.compile(r"[^A-Za-z0-9+=,.@_-]+")


def serial_label(name: str) -> str:
    """The part of a u2f serial taken from the owner's name: the characters an IAM serial allows, at most 32."""
    label = _SERIAL_LABEL.sub("-", name).strip("-")[:32]
    return label or "key"


def u2f_serial(account_id: str, user_name: str | None, name: str, suffix: str) -> str:
    """The IAM API's serial of a FIDO security key: `arn:aws:iam::<account>:u2f/user/<user>/<label>-<suffix>`
    for an IAM user, `.../u2f/root/<label>-<suffix>` for the root user (at most 256 characters)."""
    owner = "root" if user_name is None else f"user/{user_name}"
    return f"arn:aws:iam::{account_id}:u2f/{owner}/{serial_label(name)}-{suffix}"[:256]


def is_u2f_serial(serial: str) -> bool:
    return ":u2f/" in serial
