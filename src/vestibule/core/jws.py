"""Signed JSON Web Tokens (RFC 7515 compact serialization, RFC 7519 claims) and JSON Web Keys (RFC 7517), with
the `cryptography` package alone: RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3) and ES384
(ECDSA on P-384 with SHA-384, section 3.4: the signature is R || S, 48 bytes each, not DER)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

Algorithm = Literal["RS256", "ES384"]
ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES384")
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_P384_BYTES = 48


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


def _int_bytes(value: int, size: int | None = None) -> bytes:
    return value.to_bytes(size or max(1, (value.bit_length() + 7) // 8), "big")


def public_jwk(key: SigningKey, algorithm: Algorithm, kid: str) -> dict[str, str]:
    """The public half as a JWK for a JWKS document (`use` sig)."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": algorithm, "kid": kid, "n": b64url(_int_bytes(numbers.n)),
                "e": b64url(_int_bytes(numbers.e))}
    point = key.public_key().public_numbers()
    return {"kty": "EC", "use": "sig", "alg": algorithm, "kid": kid, "crv": "P-384",
            "x": b64url(_int_bytes(point.x, _P384_BYTES)), "y": b64url(_int_bytes(point.y, _P384_BYTES))}


def key_id(key: SigningKey) -> str:
    """A stable key ID: the SHA-256 of the public key (SubjectPublicKeyInfo DER), base64url, cut to 43."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def _json(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(claims: Mapping[str, object], key: SigningKey, algorithm: Algorithm, kid: str) -> str:
    header = {"alg": algorithm, "typ": "JWT", "kid": kid}
    signing_input = f"{b64url(_json(header))}.{b64url(_json(claims))}".encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm != "RS256":
            raise ValueError("an RSA key signs RS256")
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        if algorithm != "ES384":
            raise ValueError("a P-384 key signs ES384")
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
        signature = _int_bytes(r, _P384_BYTES) + _int_bytes(s, _P384_BYTES)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def verify(token: str, jwk: Mapping[str, str]) -> dict[str, object]:
    """The claims of `token` if `jwk` (a public JWK) signed it; ValueError otherwise. For tests and tools:
    a relying party checks `iss`, `aud` and `exp` itself."""
    try:
        head, body, signature = token.split(".")
        header = json.loads(b64url_decode(head))
        raw = b64url_decode(signature)
        signing_input = f"{head}.{body}".encode("ascii")
        if header.get("alg") != jwk.get("alg") or header.get("kid") != jwk.get("kid"):
            raise ValueError("the token names another key or algorithm")
        if jwk["kty"] == "RSA":
            public = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(jwk["e"]), "big"),
                                          int.from_bytes(b64url_decode(jwk["n"]), "big")).public_key()
            public.verify(raw, signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            point = ec.EllipticCurvePublicNumbers(int.from_bytes(b64url_decode(jwk["x"]), "big"),
                                                  int.from_bytes(b64url_decode(jwk["y"]), "big"), ec.SECP384R1())
            if len(raw) != 2 * _P384_BYTES:
                raise ValueError("an ES384 signature is 96 bytes")
            der = encode_dss_signature(int.from_bytes(raw[:_P384_BYTES], "big"),
                                       int.from_bytes(raw[_P384_BYTES:], "big"))
            point.public_key().verify(der, signing_input, ec.ECDSA(hashes.SHA384()))
        claims = json.loads(b64url_decode(body))
    except ValueError:
        raise
    except Exception as exc:  # InvalidSignature, KeyError, binascii errors: all one answer
        raise ValueError(f"not a valid token for this key: {type(exc).__name__}") from None
    if not isinstance(claims, dict):
        raise ValueError("the claims are not a JSON object")
    return claims
