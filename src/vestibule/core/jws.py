"""Signed JSON Web Tokens and JSON Web Keys for outbound web identity federation, through PyJWT (with the
`cryptography` backend): RS256 and ES384 (ECDSA on P-384). Keys are generated, stored and named here; signing,
verification and the JWK form of a public key are PyJWT's."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

Algorithm = Literal["RS256", "ES384"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES384")
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key(algorithm: Algorithm) -> SigningKey:
    """A new private key for `algorithm` (RSA 2048 takes tens of milliseconds: call it off the event loop)."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1())


def to_pem(key: SigningKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def from_pem(pem: bytes, algorithm: Algorithm) -> SigningKey:
    key = serialization.load_pem_private_key(pem, password=None)
    expected = rsa.RSAPrivateKey if algorithm == "RS256" else ec.EllipticCurvePrivateKey
    if not isinstance(key, expected):
        raise ValueError(f"the stored key is not a {algorithm} key")
    return key


def _matches(key: SigningKey, algorithm: Algorithm) -> bool:
    if algorithm == "RS256":
        return isinstance(key, rsa.RSAPrivateKey)
    return isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1)


def public_jwk(key: SigningKey, algorithm: Algorithm, kid: str) -> dict[str, str]:
    """The public half as a JWK for a JWKS document (`use` sig)."""
    if not _matches(key, algorithm):
        raise ValueError(f"not a {algorithm} key")
    public = key.public_key()
    raw: dict[str, Any] = (RSAAlgorithm.to_jwk(public, as_dict=True) if isinstance(public, rsa.RSAPublicKey)
                           else ECAlgorithm.to_jwk(public, as_dict=True))
    return {**{k: str(v) for k, v in raw.items()}, "use": "sig", "alg": algorithm, "kid": kid}


def key_id(key: SigningKey) -> str:
    """A stable key ID: the SHA-256 of the public key (SubjectPublicKeyInfo DER), base64url (43 characters)."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def sign(claims: Mapping[str, object], key: SigningKey, algorithm: Algorithm, kid: str) -> str:
    """A compact JWS of `claims` (header `alg`, `typ` JWT, `kid`)."""
    if not _matches(key, algorithm):
        raise ValueError(f"an RSA key signs RS256 and a P-384 key ES384, not this key with {algorithm}")
    return jwt.encode(dict(claims), key, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})


def verify(token: str, jwk: Mapping[str, str]) -> dict[str, object]:
    """The claims of `token` if `jwk` (a public JWK) signed it; ValueError otherwise. Only the signature, the
    algorithm and the key ID are checked (for tests and tools: a relying party checks `iss`, `aud`, `exp`)."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != jwk.get("alg") or header.get("kid") != jwk.get("kid"):
            raise ValueError("the token names another key or algorithm")
        key = jwt.PyJWK(dict(jwk)).key
        claims = jwt.decode(token, key, algorithms=[str(jwk["alg"])],
                            options={"verify_signature": True, "verify_aud": False, "verify_exp": False,
                                     "verify_iat": False, "verify_nbf": False, "verify_iss": False})
    except ValueError:
        raise
    except (jwt.PyJWTError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a valid token for this key: {type(exc).__name__}") from None
    if not isinstance(claims, dict):
        raise ValueError("the claims are not a JSON object")
    return claims
