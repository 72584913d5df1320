"""An audio CAPTCHA solver built only from public assets: the `captcha` package's own voice files and its
own speed change. It slides templates over the clip, as a script that wants to skip the CAPTCHA would.

- `WaveformMatcher`: correlation of the waveform with every voice file at each of the 31 speeds the
  library plays them at (what solved every old clip).
- `SpectralMatcher`: the same on log mel-band energies (MFCC-like, blind to phase and small pitch changes),
  with the voice files at seven speeds.
Both pick the six best non-overlapping matches and read them in time order.
"""

from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass

import numpy as np
from captcha.audio import DATA_DIR, change_speed
from numpy.typing import NDArray

Signal = NDArray[np.float64]
RATE = 8000
LIBRARY_SPEEDS = [(90 + i) / 100 for i in range(31)]  # AudioCaptcha._twist_pick: randbelow(31) + 90


def read_wav(data: bytes) -> Signal:
    with wave.open(io.BytesIO(data)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        width, frames = w.getsampwidth(), w.readframes(w.getnframes())
    if width == 1:
        return (np.frombuffer(frames, np.uint8).astype(np.float64) - 128) / 128
    return np.frombuffer(frames, "<i2").astype(np.float64) / 32768


def voice_file(char: str) -> bytearray:
    with wave.open(os.path.join(DATA_DIR, char, "default.wav")) as w:
        return bytearray(w.readframes(w.getnframes()))


def _from_bytes(body: bytearray) -> Signal:
    return (np.frombuffer(bytes(body), np.uint8).astype(np.float64) - 128) / 128


DECIMATE = 2
_TAPS = np.sinc(np.arange(-15, 16) * 0.9 / DECIMATE) * np.hanning(31)  # low-pass at 0.9 x the new Nyquist
_TAPS /= _TAPS.sum()


def _halve(x: Signal) -> Signal:
    """Half the sample rate, low-passed first: a quarter of the work; speech below 1.8 kHz is kept, and a
    sound that starts on an odd sample still lines up with its voice file."""
    return np.asarray(np.convolve(x, _TAPS, mode="same")[::DECIMATE], dtype=np.float64)


def _pick(scores: NDArray[np.float64], who: NDArray[np.int64], lengths: NDArray[np.int64], alphabet: str,
          n: int) -> str:
    """The n best matches that do not overlap, in time order."""
    scores = scores.copy()
    picks = []
    for _ in range(n):
        i = int(np.argmax(scores))
        picks.append((i, alphabet[int(who[i])]))
        m = int(lengths[i])
        scores[max(0, i - m + 1): i + m] = -np.inf
    return "".join(char for _, char in sorted(picks))


class WaveformMatcher:
    """Correlation with each voice file at each library speed, in blocks of the clip (the voice files'
    spectra computed once). A match's score is the energy of the clip the voice file explains (its
    correlation squared, the file having unit norm), so that a file that fits a part of another (E in T, A in
    K: the letters share their vowels) scores below the whole one."""

    BLOCK = 1 << 14

    def __init__(self, alphabet: str) -> None:
        self.alphabet = alphabet
        self.lengths: list[int] = []  # per character: its length at the middle speed
        self.spectra: list[NDArray[np.complex64]] = []  # per character: one row per library speed
        files = []
        for char in alphabet:
            body = voice_file(char)
            variants = []
            for speed in LIBRARY_SPEEDS:
                t = _halve(_from_bytes(change_speed(body, speed)))
                t = t - t.mean()
                variants.append((t / np.linalg.norm(t)).astype(np.float32))
            files.append(variants)
            self.lengths.append(len(variants[len(variants) // 2]))
        self.longest = max(len(t) for variants in files for t in variants)
        for variants in files:
            padded = np.zeros((len(variants), self.BLOCK), np.float32)
            for row, t in zip(padded, variants, strict=True):
                row[: len(t)] = t
            self.spectra.append(np.fft.rfft(padded, axis=1).conj().astype(np.complex64))

    def scores(self, clip: Signal) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
        """For each offset: the best score, which character gave it, and its length."""
        x = _halve(clip).astype(np.float32)
        n = len(x)
        step = self.BLOCK - self.longest
        best = np.zeros(n)
        who = np.zeros(n, np.int64)
        lengths = np.ones(n, np.int64)
        for start in range(0, n, step):
            block = np.zeros(self.BLOCK, np.float32)
            part = x[start:start + self.BLOCK]
            block[: len(part)] = part
            spectrum = np.fft.rfft(block)
            span = slice(start, min(n, start + step))
            width = span.stop - span.start
            for index, spectra in enumerate(self.spectra):
                corr = np.fft.irfft(spectra * spectrum, self.BLOCK, axis=1)[:, :width].max(axis=0)
                score = np.where(corr > 0, corr, 0.0) ** 2
                better = score > best[span]
                best[span][better] = score[better]
                who[span][better] = index
                lengths[span][better] = self.lengths[index]
        return best, who, lengths

    def solve(self, clip: Signal, n: int = 6) -> str:
        return _pick(*self.scores(clip), self.alphabet, n)


_FRAME, _HOP, _BANDS = 256, 64, 24  # 32 ms frames every 8 ms, 24 mel bands from 100 Hz to 3.8 kHz


def _mel_filters() -> NDArray[np.float64]:
    def mel(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(2595 * np.log10(1 + f / 700), dtype=np.float64)

    edges = 700 * (10 ** (np.linspace(mel(np.array(100.0)), mel(np.array(3800.0)), _BANDS + 2) / 2595) - 1)
    freqs = np.fft.rfftfreq(_FRAME, 1 / RATE)
    filters = np.zeros((_BANDS, len(freqs)))
    for b in range(_BANDS):
        lo, mid, hi = edges[b: b + 3]
        filters[b] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return filters


_FILTERS = _mel_filters()
_WINDOW = np.hanning(_FRAME)


def features(x: Signal) -> NDArray[np.float64]:
    """Log mel-band energies, one row per frame."""
    if len(x) < _FRAME:
        x = np.pad(x, (0, _FRAME - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return np.asarray(np.log(power @ _FILTERS.T + 1e-4), dtype=np.float64)


def _resample(x: Signal, speed: float) -> Signal:
    n = int(len(x) * speed)
    return np.interp(np.arange(n) / speed, np.arange(len(x)), x)


@dataclass(frozen=True)
class _Pattern:
    index: int
    values: NDArray[np.float64]  # zero mean, unit norm

    @property
    def frames(self) -> int:
        return int(self.values.shape[0])


class SpectralMatcher:
    SPEEDS = (0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)

    def __init__(self, alphabet: str) -> None:
        self.alphabet = alphabet
        self.patterns = []
        for index, char in enumerate(alphabet):
            for speed in self.SPEEDS:
                f = features(_resample(_from_bytes(voice_file(char)), speed))
                f = f - f.mean()
                self.patterns.append(_Pattern(index, f / np.linalg.norm(f)))

    def scores(self, clip: Signal) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
        f = features(clip)
        n, bands = f.shape
        size = 1 << int(np.ceil(np.log2(n + max(p.frames for p in self.patterns))))
        spectrum = np.fft.rfft(f, size, axis=0)
        sums = np.concatenate([[0.0], np.cumsum(f.sum(axis=1))])
        squares = np.concatenate([[0.0], np.cumsum((f * f).sum(axis=1))])
        best = np.full(n, -np.inf)
        who = np.zeros(n, np.int64)
        lengths = np.ones(n, np.int64)
        for p in self.patterns:
            m = p.frames
            if m > n:
                continue
            corr = np.fft.irfft((spectrum * np.conj(np.fft.rfft(p.values, size, axis=0))).sum(axis=1), size)
            s1, s2 = sums[m:] - sums[:-m], squares[m:] - squares[:-m]
            ncc = corr[: n - m + 1] / np.sqrt(np.maximum(s2 - s1 * s1 / (m * bands), 1e-9))
            better = ncc > best[: n - m + 1]
            best[: n - m + 1][better] = ncc[better]
            who[: n - m + 1][better] = p.index
            lengths[: n - m + 1][better] = m
        return best, who, lengths

    def solve(self, clip: Signal, n: int = 6) -> str:
        return _pick(*self.scores(clip), self.alphabet, n)

    def classify(self, segment: Signal, heard: NDArray[np.bool_] | None = None) -> str:
        """The best character for a segment known to hold one; `heard` (one flag per sample) restricts the
        match to frames the digit is heard in, as a listener bridges the interruptions."""
        f = features(segment)
        mask = np.ones(len(f), bool)
        if heard is not None:
            covered = np.lib.stride_tricks.sliding_window_view(np.pad(heard, (0, _FRAME)), _FRAME)[::_HOP]
            mask = covered[: len(f)].mean(axis=1) > 0.8
        best, choice = -np.inf, 0
        for p in self.patterns:
            m = p.frames
            for lag in range(0, max(1, len(f) - m + 1)):
                window, keep = f[lag: lag + m], mask[lag: lag + m]
                if len(window) < m or keep.sum() < m // 3:
                    continue
                w, t = window[keep], p.values[: len(window)][keep]
                w, t = w - w.mean(), t - t.mean()
                score = float((w * t).sum() / (np.linalg.norm(w) * np.linalg.norm(t) + 1e-9))
                if score > best:
                    best, choice = score, p.index
        return self.alphabet[choice]
