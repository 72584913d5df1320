"""Random tokens and codes, stored only as SHA-256 and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 bits from the CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def new_numeric_code(digits: int = 6) -> str:
    return str(secrets.randbelow(10**digits)).zfill(digits)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def keyed_digest(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` for one purpose; used for CSRF tokens bound to a browser."""
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
