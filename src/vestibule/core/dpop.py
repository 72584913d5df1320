"""DPoP proofs (RFC 9449): checking the proof a client sends with a token request, and the JWK thumbprint
(RFC 7638) that binds what is issued to its key. ES256 on P-256 only (what botocore's `_build_dpop_header`
makes); the signature is checked by PyJWT with the `cryptography` backend. Pure: no framework, no store (the
`jti` replay cache is the caller's)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

MAX_PROOF = 4096  # characters of a compact proof: a P-256 proof is about 500
MAX_AGE = 300  # seconds an `iat` may lie in the past (RFC 9449 11.1: a short window)
MAX_SKEW = 60  # seconds an `iat` may lie in the future (the client's clock running ahead)
MAX_JTI = 256
TYPE = "dpop+jwt"
ALGORITHM = "ES256"
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class InvalidProof(ValueError):
    """The DPoP proof is missing, malformed, not signed by its key, or not for this request; the message
    says which check failed."""


@dataclass(frozen=True)
class Proof:
    jkt: str  # RFC 7638 SHA-256 thumbprint of the proof's public key (coordinates at full length), base64url
    jti: str
    iat: int


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(value: str, what: str) -> bytes:
    """Strict base64url without padding (RFC 7515 2): only the URL-safe alphabet, never a length of 1 mod 4,
    unused trailing bits zero (one encoding per value). InvalidProof naming `what` otherwise."""
    if not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise InvalidProof(f"The DPoP proof's {what} is not base64url.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidProof(f"The DPoP proof's {what} is not base64url.") from None
    if _b64url(raw) != value:
        raise InvalidProof(f"The DPoP proof's {what} is not base64url.")
    return raw


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the key's required members (EC: crv, kty, x, y; RSA: e, kty, n) in lexicographic
    order, no whitespace; base64url without padding."""
    kty = jwk.get("kty")
    names = ("crv", "kty", "x", "y") if kty == "EC" else ("e", "kty", "n") if kty == "RSA" else None
    if names is None or not all(isinstance(jwk.get(n), str) for n in names):
        raise InvalidProof("The JWK is not a complete EC or RSA public key.")
    canonical = json.dumps({n: jwk[n] for n in names}, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _url_key(url: str) -> tuple[str, str, str]:
    """A URL as RFC 9449 4.3 compares `htu`: without query and fragment; scheme and host without case."""
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return scheme, netloc, parts.path or "/"


def _header(proof: str) -> dict[str, Any]:
    """The proof's protected header, once each of its three parts is strict base64url (PyJWT's own decoding
    is more lenient: padding, stray bits)."""
    segments = proof.split(".")
    for segment, what in zip(segments, ("header", "payload", "signature"), strict=True):
        if not segment and what != "signature":  # alg none's empty signature: refused by the alg check
            raise InvalidProof("The DPoP proof is not a compact JWS.")
        try:
            _b64url_decode(segment, what)
        except InvalidProof:
            raise InvalidProof(f"The DPoP proof is not a compact JWS: its {what} is not base64url.") from None
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.InvalidTokenError:
        raise InvalidProof("The DPoP proof is not a compact JWS.") from None
    if "crit" in header or "b64" in header:
        raise InvalidProof("The DPoP proof's header may not name critical extensions (crit, b64).")
    if header.get("typ") != TYPE:
        raise InvalidProof(f"The DPoP proof's typ must be {TYPE}.")
    if header.get("alg") != ALGORITHM:
        raise InvalidProof(f"The DPoP proof must be signed with {ALGORITHM}.")
    return header


def _coordinate(value: object) -> bytes:
    """An EC coordinate of a P-256 jwk as its 32 bytes. botocore's awscrt key gives coordinates without their
    leading zero bytes (about one key in a hundred): they are accepted and padded, so the key's thumbprint is
    the same whichever library made the proof."""
    if not isinstance(value, str) or not value:
        raise InvalidProof("The DPoP proof's jwk has no valid x and y.")
    raw = _b64url_decode(value, "jwk coordinate")
    if not 1 <= len(raw) <= 32:
        raise InvalidProof("The DPoP proof's jwk is not a valid P-256 public key.")
    return raw.rjust(32, b"\0")


def _public_key(jwk: object) -> tuple[ec.EllipticCurvePublicKey, dict[str, str]]:
    """The proof's key and its jwk in canonical form (full-length coordinates)."""
    if not isinstance(jwk, dict):
        raise InvalidProof("The DPoP proof's header has no jwk.")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise InvalidProof("The DPoP proof's jwk must be a public key (it holds a private part).")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidProof("The DPoP proof's jwk must be an EC P-256 key.")
    canonical = {"kty": "EC", "crv": "P-256", "x": _b64url(_coordinate(jwk.get("x"))),
                 "y": _b64url(_coordinate(jwk.get("y")))}
    try:
        key = ECAlgorithm.from_jwk(canonical)
    except (jwt.InvalidKeyError, ValueError, TypeError):
        raise InvalidProof("The DPoP proof's jwk is not a valid P-256 public key.") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidProof("The DPoP proof's jwk must be an EC P-256 public key.")
    return key, canonical


def verify(proof: str | None, *, method: str, urls: Sequence[str], now: float) -> Proof:
    """RFC 9449 4.3: one compact JWS, `typ` dpop+jwt, `alg` ES256, a public P-256 `jwk` in the header whose key
    signed it; `htm` is `method`, `htu` one of `urls` (compared without query and fragment), `iat` within
    MAX_AGE before and MAX_SKEW after `now`, `jti` a string of 1 to MAX_JTI characters. InvalidProof otherwise.
    Whether `jti` was seen before is the caller's check."""
    if not proof:
        raise InvalidProof("A DPoP proof is required (the DPoP header).")
    if len(proof) > MAX_PROOF or proof.count(".") != 2:
        raise InvalidProof("The DPoP proof is not a compact JWS.")
    header = _header(proof)
    key, jwk = _public_key(header.get("jwk"))
    try:
        decoded = jwt.api_jws.decode_complete(proof, key=key, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError:
        raise InvalidProof("The DPoP proof's signature does not match its jwk.") from None
    except jwt.InvalidTokenError:
        raise InvalidProof("The DPoP proof is not a valid JWS.") from None
    try:
        claims = json.loads(decoded["payload"])
    except (ValueError, UnicodeDecodeError):
        raise InvalidProof("The DPoP proof's payload is not JSON.") from None
    if not isinstance(claims, dict):
        raise InvalidProof("The DPoP proof's payload is not a JSON object.")
    if claims.get("htm") != method:
        raise InvalidProof(f"The DPoP proof is not for this method (htm must be {method}).")
    htu = claims.get("htu")
    try:
        wanted = {_url_key(u) for u in urls}
        matched = isinstance(htu, str) and _url_key(htu) in wanted
    except ValueError:
        matched = False
    if not matched:
        raise InvalidProof("The DPoP proof is not for this URL (htu).")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidProof("The DPoP proof's iat must be an integer (seconds since the epoch).")
    if iat < now - MAX_AGE:
        raise InvalidProof("The DPoP proof is too old (iat); check this computer's clock.")
    if iat > now + MAX_SKEW:
        raise InvalidProof("The DPoP proof was issued in the future (iat); check this computer's clock.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= MAX_JTI:
        raise InvalidProof(f"The DPoP proof's jti must be a string of 1 to {MAX_JTI} characters.")
    return Proof(thumbprint(jwk), jti, iat)


def replay_key(jkt: str, jti: str) -> str:
    """The key of a proof in the replay cache: SHA-256 of its key's thumbprint and its jti."""
    return hashlib.sha256(f"{jkt}\n{jti}".encode()).hexdigest()
