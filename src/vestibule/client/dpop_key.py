"""The P-256 key a `vestibule login` binds its login session to (DPoP, RFC 9449), and the proofs it signs.

The key is made on the user's computer and never leaves it: the server only ever sees its public half, in the
`jwk` header of each proof. It is kept in the login cache file as a PEM "EC PRIVATE KEY" (SEC 1), which is what
botocore's login credential provider reads (it strips the PEM lines and hands the DER to awscrt's
`EC.new_key_from_der_data`) to sign the proofs of its own refreshes. A proof here is built exactly as botocore's
`_build_dpop_header` builds one: ES256, header `typ` dpop+jwt, `alg`, `jwk`; payload `htm`, `htu`, `iat`, `jti`."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_SIZE = 32  # bytes of a P-256 coordinate and of each half of an ES256 signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


class KeyProblem(ValueError):
    """A cached key that is not a P-256 private key in PEM."""


class DpopKey:
    """`DpopKey.generate()` or `DpopKey.from_pem(text)`; `pem()`, `jwk()`, `thumbprint()`, `proof(url)`."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise KeyProblem(f"a DPoP key must be P-256, not {private_key.curve.name}")
        self._key = private_key

    @classmethod
    def generate(cls) -> DpopKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, text: str) -> DpopKey:
        try:
            loaded = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
            raise KeyProblem(f"not a PEM private key: {exc}") from None
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise KeyProblem("not an elliptic-curve private key")
        return cls(loaded)

    def pem(self) -> str:
        """`-----BEGIN EC PRIVATE KEY-----` ... (SEC 1 DER, which awscrt loads), ending in a newline."""
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()).decode("ascii")

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK, with the members in botocore's order (kty, x, y, crv)."""
        numbers = self._key.public_key().public_numbers()
        return {"kty": "EC", "x": b64url(numbers.x.to_bytes(_SIZE, "big")),
                "y": b64url(numbers.y.to_bytes(_SIZE, "big")), "crv": "P-256"}

    def thumbprint(self) -> str:
        """RFC 7638: SHA-256 of the required members in lexicographic order, base64url (the server's `jkt`)."""
        jwk = self.jwk()
        canonical = _compact({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]})
        return b64url(hashlib.sha256(canonical).digest())

    def proof(self, url: str, method: str = "POST", *, now: float | None = None, jti: str | None = None) -> str:
        """A DPoP proof JWT for one request to `url` (without query or fragment, RFC 9449 4.2)."""
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()}
        payload = {"htm": method, "htu": url, "iat": int(time.time() if now is None else now),
                   "jti": jti or str(uuid.uuid4())}
        signing_input = f"{b64url(_compact(header))}.{b64url(_compact(payload))}".encode("ascii")
        r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{signing_input.decode('ascii')}.{b64url(r.to_bytes(_SIZE, 'big') + s.to_bytes(_SIZE, 'big'))}"
