"""Proof of work for the CAPTCHA: a browser finds, for each of a few puzzles, a nonce whose SHA-256 (with the
challenge's random seed and the puzzle's number) starts below a target; checking costs one hash per puzzle.

Hashed message (24 bytes, one SHA-256 block): seed (16 bytes) | puzzle number (4 bytes, big-endian) |
nonce (4 bytes, big-endian, below 2**24). A puzzle is solved when the digest's first 4 bytes, read as a
big-endian number, are below `target`. A proof is `~` followed by the nonces, 3 bytes each, in unpadded
base64url: 25 characters for 6 puzzles, so it fits the form's `captcha` field.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

PREFIX = "~"
SEED_BYTES = 16
PUZZLES = 6  # several smaller puzzles rather than one: the time to solve varies less (sd = mean / sqrt(6))
WORK = 1 << 22  # expected hashes for a whole challenge: about a second in a browser, see docs/security.md
NONCE_LIMIT = 1 << 24
_SPACE = 1 << 32


@dataclass(frozen=True)
class Puzzle:
    seed: bytes
    count: int
    target: int

    @property
    def expected_hashes(self) -> int:
        return self.count * _SPACE // self.target


def new_puzzle(work: int = WORK, count: int = PUZZLES) -> Puzzle:
    target = max(1, min(_SPACE, _SPACE * count // max(1, work)))
    return Puzzle(secrets.token_bytes(SEED_BYTES), count, target)


def _head(seed: bytes, number: int, nonce: int) -> int:
    digest = hashlib.sha256(seed + number.to_bytes(4, "big") + nonce.to_bytes(4, "big")).digest()
    return int.from_bytes(digest[:4], "big")


def encode(nonces: list[int]) -> str:
    raw = b"".join(n.to_bytes(3, "big") for n in nonces)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(proof: str, count: int) -> list[int] | None:
    body = proof[len(PREFIX):]
    if not proof.startswith(PREFIX) or len(body) != 4 * count or not re.fullmatch(r"[A-Za-z0-9_-]+", body):
        return None
    raw = base64.urlsafe_b64decode(body)
    return [int.from_bytes(raw[i:i + 3], "big") for i in range(0, len(raw), 3)]


def is_proof(answer: str) -> bool:
    return answer.startswith(PREFIX)


def verify(puzzle: Puzzle, proof: str) -> bool:
    """At most `count` hashes, whatever the proof."""
    nonces = _decode(proof, puzzle.count)
    return nonces is not None and all(_head(puzzle.seed, i, n) < puzzle.target for i, n in enumerate(nonces))


def solve(puzzle: Puzzle) -> tuple[str, int]:
    """The proof and the number of hashes it took: what a browser does, and what a guessing script pays."""
    nonces, hashes = [], 0
    for number in range(puzzle.count):
        prefix = hashlib.sha256(puzzle.seed + number.to_bytes(4, "big"))
        for nonce in range(NONCE_LIMIT):
            h = prefix.copy()
            h.update(nonce.to_bytes(4, "big"))
            if int.from_bytes(h.digest()[:4], "big") < puzzle.target:
                nonces.append(nonce)
                hashes += nonce + 1
                break
        else:
            raise ValueError("no nonce below the limit")  # about e**-24 per puzzle at the default work
    return encode(nonces), hashes
