"""AES-256-GCM for secrets that must be read back (TOTP seeds, secret access keys)."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SecretBoxError(ValueError):
    pass


class SecretBox:
    """Seals with the current key; opens with any known key, picked by its key ID."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise SecretBoxError("current key is not among the keys")
        for kid, key in keys.items():
            if len(key) != 32:
                raise SecretBoxError(f"key {kid} must be 32 bytes")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self._current = current

    @classmethod
    def from_hex(cls, hex_key: str) -> SecretBox:
        try:
            key = bytes.fromhex(hex_key.strip())
        except ValueError:
            raise SecretBoxError("the master key must be 64 hexadecimal characters") from None
        if len(key) != 32:
            raise SecretBoxError("the master key must be 64 hexadecimal characters")
        kid = hashlib.sha256(key).hexdigest()[:8]
        return cls({kid: key}, kid)

    def seal(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext, context.encode("utf-8"))
        blob = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"v1.{self._current}.{blob}"

    def open(self, sealed: str, context: str) -> bytes:
        try:
            version, kid, blob = sealed.split(".", 2)
        except ValueError:
            raise SecretBoxError("not a sealed value") from None
        if version != "v1" or kid not in self._keys:
            raise SecretBoxError("unknown key or format")
        try:
            raw = base64.urlsafe_b64decode(blob.encode("ascii"))
            if len(raw) < 12 + 16:
                raise SecretBoxError("sealed value is too short")
            return self._keys[kid].decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise SecretBoxError("sealed value failed authentication") from None
