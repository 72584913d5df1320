"""AES-256-GCM for secrets that must be read back (TOTP seeds, secret access keys), under a keyring.

A keyring holds one or more master keys (the first one seals, every one opens, each named by a key ID that
sealed values carry), retired keys (`retired:<hex>`: they open, never seal; a rotation retires the old key instead
of deleting it, since a write sealed under it may still be in flight) and the stable signing key that CSRF
tokens and browser cookies are keyed with: it stays the same when the master keys rotate
(docs/deployment.md, "Rotating the master key")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_SIGNING = "signing:"
_RETIRED = "retired:"
_TOKEN_SPLIT = re.compile(r"[\s,]+")


class SecretBoxError(ValueError):
    pass


def key_id(key: bytes) -> str:
    """The ID sealed values carry: the first 8 hex digits of the key's SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def legacy_signing_key(key: bytes) -> bytes:
    """The signing key of a one-key keyring: what the single master key always derived (tokens stay valid)."""
    return hmac.new(key, b"vestibule csrf", hashlib.sha256).digest()


@dataclass(frozen=True)
class Keyring:
    """Master keys, the current (sealing) one first, the retired (open-only) keys, and the signing key."""

    keys: tuple[bytes, ...]
    signing_key: bytes
    signing_pinned: bool = True  # written out (`signing:`), not derived from the only key
    retired: tuple[bytes, ...] = ()  # open what was sealed under them, never seal

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretBoxError("the keyring holds no master key")
        if any(len(k) != 32 for k in self.keys + self.retired) or len(self.signing_key) != 32:
            raise SecretBoxError("a master key must be 64 hexadecimal characters")
        ids = [key_id(k) for k in self.keys + self.retired]
        if len(set(ids)) != len(ids):
            raise SecretBoxError("the keyring lists a master key twice")

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    @property
    def ids(self) -> tuple[str, ...]:
        """The active keys' IDs (the current one first); not the retired ones."""
        return tuple(key_id(k) for k in self.keys)

    @property
    def retired_ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.retired)

    @property
    def all_ids(self) -> tuple[str, ...]:
        """Every key that opens: the active ones, then the retired ones."""
        return self.ids + self.retired_ids

    def by_id(self) -> dict[str, bytes]:
        """Every key that opens, by ID (the retired ones too)."""
        return {key_id(k): k for k in self.keys + self.retired}

    def key(self, kid: str) -> bytes | None:
        return self.by_id().get(kid)

    def with_new_key(self, key: bytes) -> Keyring:
        """`key` added and made current; the signing key and the retired keys kept as they are."""
        return Keyring((key, *self.keys), self.signing_key, retired=self.retired)

    def with_key_last(self, key: bytes) -> Keyring:
        """`key` added, not current: the first step of a rotation across nodes."""
        return Keyring((*self.keys, key), self.signing_key, retired=self.retired)

    def retiring(self, kids: set[str]) -> Keyring:
        """The active keys `kids` made retired: they still open, they never seal; nothing is deleted."""
        if self.current_id in kids:
            raise SecretBoxError("the current key cannot be retired")
        moved = tuple(k for k in self.keys if key_id(k) in kids)
        kept = tuple(k for k in self.keys if key_id(k) not in kids)
        return Keyring(kept, self.signing_key, retired=self.retired + moved)

    def without(self, kids: set[str]) -> Keyring:
        """The keys `kids` removed for good (active or retired), never the current one."""
        if self.current_id in kids:
            raise SecretBoxError("the current key cannot be removed")
        kept = tuple(k for k in self.keys if key_id(k) not in kids)
        return Keyring(kept, self.signing_key, retired=tuple(k for k in self.retired if key_id(k) not in kids))

    def with_signing_key(self, signing_key: bytes) -> Keyring:
        return Keyring(self.keys, signing_key, retired=self.retired)

    def text(self) -> str:
        """The keyring as `<data dir>/master.key` holds it (and as VESTIBULE_MASTER_KEY takes it)."""
        lines = ["# Vestibule master keys: the first one seals, every one listed opens. Keep this file secret.",
                 "# retired: keys open what was sealed under them and never seal (vestibule master-key forget).",
                 "# The signing line keys CSRF tokens and browser cookies; it stays when master keys rotate."]
        lines += [f"{k.hex()}  # key {key_id(k)}" for k in self.keys]
        lines += [f"{_RETIRED}{k.hex()}  # key {key_id(k)}, retired" for k in self.retired]
        lines.append(_SIGNING + self.signing_key.hex())
        return "\n".join(lines) + "\n"

    def one_line(self) -> str:
        """The keyring as one VESTIBULE_MASTER_KEY value."""
        return ",".join([k.hex() for k in self.keys] + [_RETIRED + k.hex() for k in self.retired]
                        + [_SIGNING + self.signing_key.hex()])


def parse_keyring(text: str) -> Keyring:
    """Keys as 64 hex digits, retired keys as `retired:<64 hex>` and an optional `signing:<64 hex>`, separated by
    commas, spaces or lines; `#` starts a comment. One key and no signing entry: the keyring of a single master key
    (as before rotation existed)."""
    keys: list[bytes] = []
    retired: list[bytes] = []
    signing: bytes | None = None
    for line in text.splitlines():
        for token in _TOKEN_SPLIT.split(line.split("#", 1)[0].strip()):
            if not token:
                continue
            if token.lower().startswith(_SIGNING):
                value = token[len(_SIGNING):]
                if signing is not None or not _HEX_KEY.fullmatch(value):
                    raise SecretBoxError("the signing entry must be one signing:<64 hexadecimal characters>")
                signing = bytes.fromhex(value)
            elif token.lower().startswith(_RETIRED):
                value = token[len(_RETIRED):]
                if not _HEX_KEY.fullmatch(value):
                    raise SecretBoxError("a retired entry must be retired:<64 hexadecimal characters>")
                retired.append(bytes.fromhex(value))
            elif _HEX_KEY.fullmatch(token):
                keys.append(bytes.fromhex(token))
            else:
                raise SecretBoxError("the master key must be 64 hexadecimal characters")
    if not keys:
        raise SecretBoxError("the master key must be 64 hexadecimal characters")
    if signing is None:
        if len(keys) > 1 or retired:
            raise SecretBoxError("a keyring of several master keys needs its signing:<hex> entry "
                                 "(vestibule master-key new prints it)")
        return Keyring(tuple(keys), legacy_signing_key(keys[0]), signing_pinned=False)
    return Keyring(tuple(keys), signing, retired=tuple(retired))


Reload = Callable[[], "Keyring | None"]


class SecretBox:
    """Seals with the current key; opens with any known key, picked by its key ID.

    `reload` (optional) returns a newer keyring when its source changed, else None: it is asked before each seal
    (so a rotation's new key seals at once) and when a value names a key ID this box does not know."""

    def __init__(self, keys: Mapping[str, bytes], current: str, *, signing_key: bytes | None = None,
                 reload: Reload | None = None) -> None:
        self._install(keys, current)
        self._signing_key = signing_key if signing_key is not None else legacy_signing_key(keys[current])
        self._reload = reload
        self._lock = threading.Lock()

    def _install(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise SecretBoxError("current key is not among the keys")
        for kid, key in keys.items():
            if len(key) != 32:
                raise SecretBoxError(f"key {kid} must be 32 bytes")
        self._state = ({kid: AESGCM(key) for kid, key in keys.items()}, current)

    @classmethod
    def from_hex(cls, hex_key: str) -> SecretBox:
        return cls.from_keyring(parse_keyring(hex_key))

    @classmethod
    def from_keyring(cls, ring: Keyring, reload: Reload | None = None) -> SecretBox:
        return cls(ring.by_id(), ring.current_id, signing_key=ring.signing_key, reload=reload)

    @property
    def current_key_id(self) -> str:
        return self._state[1]

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._state[0])

    @property
    def signing_key(self) -> bytes:
        """The key of CSRF tokens and browser cookies, as loaded at start (stable across rotations)."""
        return self._signing_key

    def refresh(self) -> bool:
        """Take a newer keyring from the source, if it changed; True when it did."""
        if self._reload is None:
            return False
        with self._lock:
            ring = self._reload()
            if ring is None:
                return False
            self._install(ring.by_id(), ring.current_id)
            return True

    def seal(self, plaintext: bytes, context: str) -> str:
        self.refresh()
        keys, current = self._state
        nonce = os.urandom(12)
        sealed = keys[current].encrypt(nonce, plaintext, context.encode("utf-8"))
        blob = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"v1.{current}.{blob}"

    def open(self, sealed: str, context: str) -> bytes:
        try:
            version, kid, blob = sealed.split(".", 2)
        except ValueError:
            raise SecretBoxError("not a sealed value") from None
        if version != "v1":
            raise SecretBoxError("unknown key or format")
        keys = self._state[0]
        if kid not in keys and self.refresh():
            keys = self._state[0]
        if kid not in keys:
            raise SecretBoxError("unknown key or format")
        try:
            raw = base64.urlsafe_b64decode(blob.encode("ascii"))
            if len(raw) < 12 + 16:
                raise SecretBoxError("sealed value is too short")
            return keys[kid].decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise SecretBoxError("sealed value failed authentication") from None


def sealed_key_id(sealed: str) -> str | None:
    """The key ID a sealed value names (None for anything else, such as an erased value)."""
    version, _, rest = sealed.partition(".")
    kid, dot, _ = rest.partition(".")
    return kid if version == "v1" and dot and kid else None
