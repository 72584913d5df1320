"""The CAPTCHA's proof of work: what a proof is, what it costs to find, and that only a right one passes."""

from __future__ import annotations

import base64
import hashlib
import statistics

import pytest

from vestibule.core import proof_of_work as pow_

CHEAP = 1 << 12  # expected hashes per challenge in these tests (the default is 2**22)


def _head(seed: bytes, number: int, nonce: int) -> int:
    """The rule, written out independently of the module."""
    message = seed + number.to_bytes(4, "big") + nonce.to_bytes(4, "big")
    return int.from_bytes(hashlib.sha256(message).digest()[:4], "big")


def test_a_solved_puzzle_verifies_and_each_nonce_meets_the_rule() -> None:
    puzzle = pow_.new_puzzle(CHEAP)
    proof, _ = pow_.solve(puzzle)
    assert pow_.verify(puzzle, proof)
    assert proof.startswith("~") and len(proof) == 1 + 4 * pow_.PUZZLES <= 32  # fits the captcha field
    raw = base64.urlsafe_b64decode(proof[1:])
    nonces = [int.from_bytes(raw[i:i + 3], "big") for i in range(0, len(raw), 3)]
    assert all(_head(puzzle.seed, i, n) < puzzle.target for i, n in enumerate(nonces))


def test_default_parameters() -> None:
    puzzle = pow_.new_puzzle()
    assert len(puzzle.seed) == 16 and puzzle.count == 6
    assert puzzle.expected_hashes == pow_.WORK == 1 << 22
    assert pow_.new_puzzle().seed != puzzle.seed


def test_a_proof_is_bound_to_its_seed() -> None:
    first, second = pow_.new_puzzle(CHEAP), pow_.new_puzzle(CHEAP)
    proof, _ = pow_.solve(first)
    # With 6 puzzles each passing by chance with p = 6/4096, another seed accepts it with p ~ 1e-17.
    assert not pow_.verify(second, proof)


def test_wrong_nonces_are_refused() -> None:
    puzzle = pow_.new_puzzle(1 << 30)  # hard: a guessed nonce passes with p = 6/2**30 per puzzle
    assert not pow_.verify(puzzle, pow_.encode([0, 1, 2, 3, 4, 5]))
    easy = pow_.new_puzzle(CHEAP)
    proof, _ = pow_.solve(easy)
    nonces = pow_._decode(proof, easy.count)
    assert nonces is not None
    for i in range(easy.count):  # one nonce changed to one that fails its puzzle
        bad = list(nonces)
        bad[i] = next(n for n in range(pow_.NONCE_LIMIT) if _head(easy.seed, i, n) >= easy.target)
        assert not pow_.verify(easy, pow_.encode(bad))


@pytest.mark.parametrize("proof", [
    "", "~", "ABCDEF", "~" + "A" * 23, "~" + "A" * 25, "~" + "A" * 23 + "=", "~" + "A" * 23 + "+", "~" + "A" * 23 + "/",
    "~" + "Ａ" * 24, "~" + "²" * 24, " ~" + "A" * 24, "~" + "A" * 24 + "\n", "~" + "A" * 5000,
])
def test_malformed_proofs_are_refused_without_error(proof: str) -> None:
    anything = pow_.new_puzzle(1)  # work 1: every hash is below the target, so only the form is judged
    assert pow_.verify(anything, "~" + "A" * 24)
    assert not pow_.verify(anything, proof)


def test_a_script_pays_the_expected_number_of_hashes() -> None:
    """solve() counts what it hashed: the mean over many challenges is the puzzle's expected work."""
    paid = [pow_.solve(pow_.new_puzzle(CHEAP))[1] for _ in range(200)]
    mean = statistics.fmean(paid)
    # Each challenge costs a sum of 6 geometric variables (mean 4096, sd ~1672); the mean of 200 has sd ~118.
    assert 0.85 * CHEAP < mean < 1.15 * CHEAP
    assert min(paid) >= pow_.PUZZLES
