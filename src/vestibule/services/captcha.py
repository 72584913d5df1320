"""CAPTCHA challenges: one per browser, single use, expiring, sealed at rest.

A challenge is solved in one of three ways: the proof of work a browser with JavaScript computes, the
characters of the image, or the digits of the audio clip. Checking consumes it whatever the answer, so every
attempt needs a new challenge (and a new proof of work).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ..core import proof_of_work
from ..core.tokens import same
from .context import Deps

ALPHABET = "ABCDEFHJKLMNPRSTUVWXYZ2345678"
LENGTH = 6
AUDIO_DIGITS = "0123456789"  # letters are too easily confused when heard (B, D, E, P, T, V, Z)
LIFETIME = 10 * 60


def random_text() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def random_digits() -> str:
    return "".join(secrets.choice(AUDIO_DIGITS) for _ in range(LENGTH))


@dataclass(frozen=True)
class Challenge:
    text: str  # shown in the image
    digits: str  # read out in the audio clip
    puzzle: proof_of_work.Puzzle


def _seal_payload(challenge: Challenge) -> bytes:
    p = challenge.puzzle
    return json.dumps({"text": challenge.text, "digits": challenge.digits, "seed": p.seed.hex(),
                       "count": p.count, "target": p.target}).encode()


def _open_payload(data: bytes) -> Challenge | None:
    """None for anything else (a row written by an older version reads as no challenge: a new one is shown)."""
    try:
        v = json.loads(data)
        puzzle = proof_of_work.Puzzle(bytes.fromhex(v["seed"]), int(v["count"]), int(v["target"]))
        return Challenge(str(v["text"]), str(v["digits"]), puzzle)
    except (ValueError, TypeError, KeyError):
        return None


class CaptchaService:
    """`text_source` makes the image text; tests pass one that also tells them the answer. `work` is the
    expected number of hashes a proof of work costs."""

    def __init__(self, deps: Deps, text_source: Callable[[], str] = random_text, *,
                 work: int = proof_of_work.WORK, digits_source: Callable[[], str] = random_digits) -> None:
        self._deps = deps
        self._text_source = text_source
        self._digits_source = digits_source
        self._work = work

    def _purpose(self, browser_hash: str) -> str:
        return f"captcha:{browser_hash}"

    async def issue(self, browser_hash: str) -> Challenge:
        """A new challenge for the browser, replacing the one it had."""
        challenge = Challenge(self._text_source(), self._digits_source(), proof_of_work.new_puzzle(self._work))
        sealed = self._deps.box.seal(_seal_payload(challenge), self._purpose(browser_hash))
        async with self._deps.store.unit() as uow:
            await uow.captchas.put(browser_hash, sealed, self._deps.clock() + LIFETIME)
        return challenge

    async def current(self, browser_hash: str) -> Challenge | None:
        async with self._deps.store.unit() as uow:
            row = await uow.captchas.get(browser_hash)
        if row is None or row.expires_at <= self._deps.clock():
            return None
        return _open_payload(self._deps.box.open(row.answer_sealed, self._purpose(browser_hash)))

    async def current_or_new(self, browser_hash: str) -> Challenge:
        return await self.current(browser_hash) or await self.issue(browser_hash)

    async def check(self, browser_hash: str, answer: str) -> bool:
        """Consume the browser's challenge and say whether `answer` (a proof of work, the image's characters
        or the audio's digits) solved it."""
        async with self._deps.store.unit() as uow:
            row = await uow.captchas.take(browser_hash)
        answer = answer.strip()
        if row is None or row.expires_at <= self._deps.clock() or not answer:
            return False
        challenge = _open_payload(self._deps.box.open(row.answer_sealed, self._purpose(browser_hash)))
        if challenge is None:
            return False
        if proof_of_work.is_proof(answer):
            return proof_of_work.verify(challenge.puzzle, answer)
        typed = answer.upper().replace(" ", "")
        return same(typed, challenge.text) | same(typed, challenge.digits)
