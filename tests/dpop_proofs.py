"""The CLI's side of DPoP (RFC 9449 4.2) for the `vestibule login` tests: a P-256 key and its proofs, built as
botocore's `_build_dpop_header` builds them."""

from __future__ import annotations

import base64
import json
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

TOKEN_URL = "http://testserver/v1/token"  # the test app's token endpoint


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DpopKey:
    """The CLI's P-256 key and its proofs (`iat`, `jti` and `htm` changed where a test needs a bad one)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def proof(self, url: str = TOKEN_URL, *, iat: int | None = None, jti: str | None = None, htm: str = "POST") -> str:
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "EC", "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big")),
               "crv": "P-256"}
        header = b64url(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, separators=(",", ":")).encode())
        claims = {"htm": htm, "htu": url, "iat": int(time.time()) if iat is None else iat,
                  "jti": jti or str(uuid.uuid4())}
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        r, s = decode_dss_signature(self.key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256())))
        return f"{header}.{payload}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
