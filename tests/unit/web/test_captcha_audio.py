"""The audio CAPTCHA against a solver built from the `captcha` package's own voice files (audio_solver.py).

The old clip (the package's AudioCaptcha, as /captcha/audio served it) is solved by sliding the voice files
over it; the new clip is not, by that matcher nor by one on mel-band energies. The clips are drawn from seeded
generators, so the counts below are the same on every run.
"""

from __future__ import annotations

import io
import random
import wave
from collections.abc import Sequence
from typing import TypeVar

import captcha.audio
import numpy as np
import pytest
from captcha.audio import AudioCaptcha

from unit.web.audio_solver import SpectralMatcher, WaveformMatcher, read_wav
from vestibule.services.captcha import ALPHABET
from vestibule.web import captcha_audio
from vestibule.web.captcha_audio import DIGITS, Clip, VoiceChange

OLD_CLIPS = 20
NEW_CLIPS = 30
T = TypeVar("T")


class _SeededSecrets:
    """What captcha.audio draws from `secrets`, from a seeded generator instead (same distributions)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def randbelow(self, n: int) -> int:
        return self._rng.randrange(n)

    def choice(self, seq: Sequence[T]) -> T:
        return self._rng.choice(seq)


def old_audio(text: str, rng: random.Random | None = None) -> bytes:
    """The clip /captcha/audio served before: the package's AudioCaptcha reading the image's text (its random
    choices from `rng` when given, so that a test sees the same clips every run)."""
    if rng is None:
        return bytes(AudioCaptcha().generate(text))
    real = getattr(captcha.audio, "secrets")  # noqa: B009 (the module does not export it)
    setattr(captcha.audio, "secrets", _SeededSecrets(rng))  # noqa: B010
    try:
        return bytes(AudioCaptcha().generate(text))
    finally:
        setattr(captcha.audio, "secrets", real)  # noqa: B010


def _texts(rng: random.Random, alphabet: str, count: int) -> list[str]:
    return ["".join(rng.choice(alphabet) for _ in range(6)) for _ in range(count)]


def _rates(guesses: list[str], truths: list[str]) -> tuple[int, float]:
    """Challenges fully solved, and the share of characters right in their place."""
    solved = sum(g == t for g, t in zip(guesses, truths, strict=True))
    right = sum(a == b for g, t in zip(guesses, truths, strict=True) for a, b in zip(g, t, strict=True))
    return solved, right / (6 * len(truths))


@pytest.fixture(scope="module")
def new_clips() -> list[tuple[str, Clip]]:
    rng = random.Random(2)
    return [(text, captcha_audio.render(text, rng)) for text in _texts(rng, DIGITS, NEW_CLIPS)]


def test_matching_the_voice_files_solves_the_old_audio() -> None:
    rng = random.Random(1)
    truths = _texts(rng, ALPHABET, OLD_CLIPS)
    matcher = WaveformMatcher(ALPHABET)
    solved, chars = _rates([matcher.solve(read_wav(old_audio(t, rng))) for t in truths], truths)
    print(f"old audio, waveform matcher: {solved}/{OLD_CLIPS} challenges, {chars:.0%} of characters")
    assert solved >= 0.9 * OLD_CLIPS and chars >= 0.95


def test_the_new_audio_defeats_the_same_matching(new_clips: list[tuple[str, Clip]]) -> None:
    truths = [text for text, _ in new_clips]
    for matcher, ceiling in ((WaveformMatcher(DIGITS), 0.25), (SpectralMatcher(DIGITS), 0.4)):
        guesses = [matcher.solve(np.array(clip.samples)) for _, clip in new_clips]
        solved, chars = _rates(guesses, truths)
        print(f"new audio, {type(matcher).__name__}: {solved}/{NEW_CLIPS} challenges, {chars:.0%} of digits "
              f"(chance: 10%)")
        assert solved == 0
        assert chars <= ceiling


def _unchanged_voice(rng: random.Random) -> VoiceChange:
    return VoiceChange(pitch=1.0, formant=1.0, tempo=(1.0,) * 4, gate_period=1000.0, gate_duty=1.0, gate_phase=0.0)


def test_the_babble_and_noise_alone_leave_the_digits_to_be_found() -> None:
    """With each digit's voice left as recorded, the same masking lets the waveform matcher find most digits:
    the babble and noise are not what hides them from it, the voice changes are, and those are what a
    listener hears past (a different voice, an interrupted word)."""
    rng = random.Random(3)
    truths = _texts(rng, DIGITS, 10)
    clips = [captcha_audio.render(t, rng, _unchanged_voice) for t in truths]
    _, chars = _rates([WaveformMatcher(DIGITS).solve(np.array(c.samples)) for c in clips], truths)
    print(f"babble and noise only: {chars:.0%} of digits found")
    assert chars >= 0.7


def test_each_digit_stands_out_and_its_heard_parts_carry_it(new_clips: list[tuple[str, Clip]]) -> None:
    """Every digit is at least 6 dB above the babble and noise under it (gaps included). Told where a digit is
    and when it is heard (what a listener's restoration of the gaps supplies), the mel-band matcher names
    far more digits than blind: the digit is in the clip for a listener, not in a shape a template finds."""
    placements = [p for _, clip in new_clips for p in clip.placements]
    assert min(p.snr_db for p in placements) >= captcha_audio.MIN_SNR_DB - 1e-9
    matcher = SpectralMatcher(DIGITS)
    right = 0
    for _, clip in new_clips[:10]:
        samples = np.array(clip.samples)
        for p in clip.placements:
            heard = np.array([p.change.heard(i) for i in range(p.length)])
            right += matcher.classify(samples[p.start:p.start + p.length], heard) == p.char
    print(f"digits named when their place and gaps are known: {right}/60")
    assert right >= 0.6 * 60


def test_every_digit_gets_its_own_voice(new_clips: list[tuple[str, Clip]]) -> None:
    changes = [p.change for _, clip in new_clips for p in clip.placements]
    assert len({(c.pitch, c.formant) for c in changes}) == len(changes)
    assert all(captcha_audio.PITCH[0] <= c.pitch <= captcha_audio.PITCH[1] for c in changes)
    assert all(captcha_audio.FORMANT[0] <= c.formant <= captcha_audio.FORMANT[1] for c in changes)
    assert all(captcha_audio.GATE_DUTY[0] <= c.gate_duty <= captcha_audio.GATE_DUTY[1] for c in changes)


def test_the_clip_is_a_short_8_khz_wav_and_differs_every_time() -> None:
    first, second = captcha_audio.generate("123456"), captcha_audio.generate("123456")
    assert first != second
    with wave.open(io.BytesIO(first)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert 2.5 <= w.getnframes() / 8000 <= 7.0
