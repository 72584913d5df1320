"""One-time recovery codes: the second channel a root user proves control of when the MFA device is lost.

A code is 16 characters of base32 (80 bits from `secrets`), shown as four groups of four (`ABCD-EFGH-...`).
Only the SHA-256 of its normalised form is stored. SHA-256 is fast, so the code's own entropy is what stands
against an offline search of a leaked table: 80 bits leaves 2^80 / 10 codes ~ 2^77 hashes per hit, out of reach,
while an online guess is throttled as sign-in is (and needs the password and the root email first). Typing is
forgiving: case, spaces and hyphens do not matter, and 0/1/8 read as O/I/B (base32 has no 0, 1, 8)."""

from __future__ import annotations

import secrets

from .tokens import hash_token

CODES_PER_SET = 10
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_LENGTH = 16  # 16 x 5 bits = 80 bits
_GROUP = 4
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i:i + _GROUP] for i in range(0, _LENGTH, _GROUP))


def new_codes(count: int = CODES_PER_SET) -> list[str]:
    return [new_code() for _ in range(count)]


def normalize(typed: str) -> str | None:
    """The code as stored (16 base32 letters), or None when `typed` cannot be one."""
    letters = "".join(c for c in typed.upper() if c not in " -\t").translate(_LOOKALIKES)
    if len(letters) != _LENGTH or any(c not in _ALPHABET for c in letters):
        return None
    return letters


def code_hash(code: str) -> str:
    """The stored hash of a code as issued or typed (normalised first)."""
    normalized = normalize(code)
    if normalized is None:
        raise ValueError("not a recovery code")
    return hash_token(normalized)
