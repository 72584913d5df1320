"""The audio CAPTCHA: six digits, each in a voice of its own, interrupted, over babble and band-limited noise.

The only recordings at hand are the `captcha` package's public voice files, so a clip must not contain them as
they are (matching those files solved every old clip). Each digit is re-voiced by pitch-synchronous
overlap-add with its own pitch and formants (pitch up, formants down, so that no change of playback speed
undoes both) and a tempo of its own in each quarter; noise-like grains are turned over and around; the digit
is interrupted 7-11 times a second (listeners restore the gaps, a template sees holes), each stretch between
two gaps gets its own tone colour; digits start at random offsets and may overlap; under everything runs a
babble of re-pitched snippets of any character (half of them reversed) and noise in a random band.
Standard library only.
"""

from __future__ import annotations

import io
import math
import os
import random
import secrets
import sys
import wave
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from operator import add, mul

from captcha.audio import DATA_DIR

RATE = 8000
DIGITS = "0123456789"
LENGTH = 6

# Voice changes per digit (factors of the recording's): pitch up, formants down, neither close to 1. Lowering
# the pitch instead would keep whole periods of the recording in step every few periods, and raising the
# formants is what the library's own speed changes do.
PITCH = (1.14, 1.45)
FORMANT = (0.8, 0.9)
TEMPO = (0.7, 1.5)  # for each of TEMPO_PARTS equal parts of the recording
TEMPO_PARTS = 4
GATE_RATE = (7.0, 11.0)  # interruptions per second
GATE_DUTY = (0.55, 0.7)  # share of the time the digit is heard
BABBLE_DB = (-20.0, -13.0)  # each babble snippet, relative to the digits
NOISE_DB = (-26.0, -20.0)
MIN_SNR_DB = 6.0  # each digit against the babble and noise under it, gaps included
_LEVEL = 0.25  # RMS of a digit before the final normalisation

_FRAME, _HOP, _MIN_LAG, _MAX_LAG = 320, 80, 20, 100  # pitch analysis: 40 ms frames, 10 ms hop, 80-400 Hz
_UNVOICED = 80  # grain spacing (samples) where there is no pitch
_RAMP = 40  # 5 ms


@dataclass(frozen=True)
class Voice:
    """One recording with its pitch marks: sample index, local period, voiced or not."""

    samples: tuple[float, ...]
    marks: tuple[int, ...]
    periods: tuple[int, ...]
    voiced: tuple[bool, ...]


@dataclass(frozen=True)
class VoiceChange:
    pitch: float
    formant: float
    tempo: tuple[float, ...]
    gate_period: float  # samples
    gate_duty: float
    gate_phase: float  # samples

    def heard(self, i: int) -> bool:
        """Whether sample `i` of the digit is between two interruptions."""
        return (i + self.gate_phase) % self.gate_period < self.gate_duty * self.gate_period


@dataclass(frozen=True)
class Placement:
    """Where a digit went and what was done to it (tests use it to judge what a listener gets)."""

    char: str
    start: int
    length: int
    change: VoiceChange
    snr_db: float  # the digit against the babble and noise under it


@dataclass(frozen=True)
class Clip:
    samples: list[float]  # -1..1
    placements: list[Placement]


# ---- the recordings ------------------------------------------------------------------------------

@cache
def recordings(char: str) -> tuple[tuple[float, ...], ...]:
    folder = os.path.join(DATA_DIR, char)
    found = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".wav"):
            with wave.open(os.path.join(folder, name)) as w:
                width, data = w.getsampwidth(), w.readframes(w.getnframes())
            if width == 1:
                found.append(tuple((b - 128) / 128.0 for b in data))
            else:
                found.append(tuple(v / 32768.0 for v in memoryview(data).cast("h")))
    return tuple(found)


@cache
def voices(char: str) -> tuple[Voice, ...]:
    return tuple(Voice(x, *_pitch_marks(x)) for x in recordings(char))


def _frame_periods(x: tuple[float, ...]) -> list[int]:
    """Per 10 ms frame: the shortest lag whose normalised autocorrelation is near the best, 0 if unvoiced."""
    periods = []
    for start in range(0, max(1, len(x) - _FRAME), _HOP):
        seg = x[start:start + _FRAME]
        squares = [0.0, *accumulate(map(mul, seg, seg))]
        energy = squares[-1]
        period = 0
        if energy > 1e-4 * len(seg):
            lags = range(_MIN_LAG, min(_MAX_LAG, len(seg) // 2) + 1)
            r = [sum(map(mul, seg, seg[k:])) / math.sqrt(squares[-1 - k] * (energy - squares[k]) or 1e-12)
                 for k in lags]
            best = max(r)
            if best > 0.5:
                period = next(k for k, v in zip(lags, r, strict=True) if v >= 0.85 * best)
        periods.append(period)
    return periods


def _pitch_marks(x: tuple[float, ...]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[bool, ...]]:
    """Epochs for overlap-add: the waveform's peak about one period after the previous mark where voiced,
    every 10 ms where not."""
    frame_period = _frame_periods(x)
    n = len(x)
    marks: list[int] = []
    periods: list[int] = []
    voiced: list[bool] = []
    t = 0
    while t < n:
        period = frame_period[min(len(frame_period) - 1, t // _HOP)]
        if period:
            after_voiced = bool(marks) and voiced[-1]
            lo = t + (period * 4 // 5 if after_voiced else 0)
            hi = min(n, t + (period * 6 // 5 if after_voiced else period))
            if hi <= lo:
                break
            window = x[lo:hi]
            t = lo + max(range(len(window)), key=window.__getitem__)
            marks.append(t)
            periods.append(period)
            voiced.append(True)
        else:
            t += _UNVOICED if marks else _UNVOICED // 2
            if t < n:
                marks.append(t)
                periods.append(_UNVOICED)
                voiced.append(False)
    return tuple(marks), tuple(periods), tuple(voiced)


# ---- signal helpers ------------------------------------------------------------------------------

@cache
def _hann(length: int) -> tuple[float, ...]:
    return tuple(0.5 - 0.5 * math.cos(2 * math.pi * (i + 0.5) / length) for i in range(length))


def _resample(x: list[float], factor: float) -> list[float]:
    """`x` read `factor` times as fast (linear interpolation): factor > 1 raises pitch and formants."""
    out = []
    for j in range(int((len(x) - 1) / factor)):
        pos = j * factor
        i = int(pos)
        out.append(x[i] + (x[i + 1] - x[i]) * (pos - i))
    return out


def _mix_into(out: list[float], start: int, part: list[float], gain: float = 1.0) -> None:
    begin, end = max(0, start), min(len(out), start + len(part))
    if end > begin:
        chunk = part[begin - start:end - start]
        out[begin:end] = map(add, out[begin:end], chunk if gain == 1.0 else [v * gain for v in chunk])


def _rms(x: list[float]) -> float:
    return math.sqrt(sum(map(mul, x, x)) / max(1, len(x))) or 1e-9


def _log_uniform(low: float, high: float, rng: random.Random) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


# ---- one digit -----------------------------------------------------------------------------------

def draw_change(rng: random.Random) -> VoiceChange:
    period = RATE / rng.uniform(*GATE_RATE)
    return VoiceChange(pitch=_log_uniform(*PITCH, rng), formant=_log_uniform(*FORMANT, rng),
                       tempo=tuple(rng.uniform(*TEMPO) for _ in range(TEMPO_PARTS)), gate_period=period,
                       gate_duty=rng.uniform(*GATE_DUTY), gate_phase=rng.uniform(0, period))


def revoice(voice: Voice, change: VoiceChange, rng: random.Random) -> list[float]:
    """Pitch-synchronous overlap-add: grains of two periods around each mark, re-spaced for the new pitch,
    resampled for the new formants, taken from where each part's tempo says."""
    x, marks, tempo = voice.samples, voice.marks, change.tempo
    n_in = len(x)
    part = n_in / len(tempo)
    knots_out = [0.0, *accumulate(part * f for f in tempo)]
    n_out = int(knots_out[-1])
    out = [0.0] * (n_out + 2 * _MAX_LAG + 2)
    t = float(marks[0]) * tempo[0]
    while t < n_out:
        j = min(bisect_right(knots_out, t), len(tempo)) - 1
        u = part * j + (t - knots_out[j]) / tempo[j]
        k = min(bisect_right(marks, u), len(marks) - 1)
        if k and u - marks[k - 1] < marks[k] - u:
            k -= 1
        period, voiced = voice.periods[k], voice.voiced[k]
        centre = marks[k] + (rng.randint(-2, 2) if voiced else rng.randint(-40, 40))
        lo, hi = centre - period, centre + period
        grain = [0.0] * max(0, -lo) + list(x[max(0, lo):min(n_in, hi)]) + [0.0] * max(0, hi - n_in)
        grain = _resample(list(map(mul, grain, _hann(len(grain)))), change.formant)
        gain = rng.uniform(0.85, 1.15)
        if not voiced:  # noise is heard by its spectrum alone, so its waveform may be turned over and around
            gain = rng.choice((gain, -gain))
            if rng.random() < 0.5:
                grain.reverse()
        _mix_into(out, int(t) - len(grain) // 2 + _MAX_LAG, grain, gain)
        t += period / change.pitch if voiced else period * rng.uniform(0.8, 1.2)
    return out


def speak(char: str, change: VoiceChange, rng: random.Random) -> list[float]:
    """The digit re-voiced, interrupted, each stretch with its own tone colour, at the clip's digit level."""
    sound = revoice(rng.choice(voices(char)), change, rng)
    gain = _LEVEL * rng.uniform(0.75, 1.0) / _rms(sound)
    on = change.gate_duty * change.gate_period
    if change.gate_duty >= 1:
        heard = [v * gain for v in sound]
    else:
        heard = [v * gain * min(1.0, max(0.0, min(t, on - t) / _RAMP))
                 for v, t in zip(sound, ((i + change.gate_phase) % change.gate_period for i in range(len(sound))),
                                 strict=False)]
    chunk = max(1, int(change.gate_period))
    taps = [ab for _ in range(0, len(heard), chunk)
            for ab in [(rng.uniform(-0.8, 0.8), rng.uniform(-0.4, 0.4))] * chunk][:len(heard)]
    return [v + a * w1 + b * w2
            for v, w1, w2, (a, b) in zip(heard, [0.0, *heard[:-1]], [0.0, 0.0, *heard[:-2]], taps, strict=True)]


# ---- the clip ------------------------------------------------------------------------------------

def _noise(length: int, rng: random.Random) -> list[float]:
    """White noise band-limited by the difference of two moving averages (a random band, about 300-3000 Hz)."""
    total = [0.0, *accumulate(rng.random() - 0.5 for _ in range(length + 32))]
    short, long_ = rng.randint(2, 4), rng.randint(8, 24)
    return [(total[i + short] - total[i]) / short - (total[i + long_] - total[i]) / long_ for i in range(length)]


def _babble(length: int, rng: random.Random) -> list[float]:
    """Snippets (70-220 ms) of any character's recording, re-pitched, half of them reversed, overlapping."""
    out = [0.0] * length
    sources = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    t = 0
    while t < length:
        source = rng.choice(recordings(rng.choice(sources)))
        size = int(RATE * rng.uniform(0.07, 0.22))
        begin = rng.randrange(0, max(1, len(source) - size))
        snippet = list(source[begin:begin + size])
        if rng.random() < 0.5:
            snippet.reverse()
        snippet = _resample(snippet, rng.uniform(0.75, 1.4))
        snippet = list(map(mul, snippet, _hann(len(snippet))))
        _mix_into(out, t, snippet, _LEVEL * 10 ** (rng.uniform(*BABBLE_DB) / 20) / _rms(snippet))
        t += int(RATE * rng.uniform(0.03, 0.09))
    return out


def render(digits: str, rng: random.Random, draw: Callable[[random.Random], VoiceChange] = draw_change) -> Clip:
    """The clip; `draw` picks each digit's voice change (tests pass others to see what each part does)."""
    changes = [draw(rng) for _ in digits]
    spoken = [speak(char, change, rng) for char, change in zip(digits, changes, strict=True)]
    cue = int(RATE * 0.12)  # a short tone says the digits are coming
    hz = rng.uniform(600, 900)
    tone = [0.5 * _LEVEL * math.sin(2 * math.pi * hz * i / RATE) * w for i, w in enumerate(_hann(cue))]
    starts = []
    t = cue + int(RATE * rng.uniform(0.35, 0.6))
    for sound in spoken:
        starts.append(t)
        t += len(sound) + int(RATE * rng.uniform(-0.06, 0.3))
    mix = _babble(t + int(RATE * rng.uniform(0.3, 0.5)), rng)
    noise = _noise(len(mix), rng)
    _mix_into(mix, 0, noise, _LEVEL * 10 ** (rng.uniform(*NOISE_DB) / 20) / _rms(noise))
    _mix_into(mix, 0, tone)
    placements = []
    for char, start, sound, change in zip(digits, starts, spoken, changes, strict=True):
        snr = 20 * math.log10(_rms(sound) / _rms(mix[start:start + len(sound)]))
        boost = 10 ** (max(0.0, MIN_SNR_DB - snr) / 20)  # where the babble happens to be loud, so is the digit
        _mix_into(mix, start, sound, boost)
        placements.append(Placement(char, start, len(sound), change, snr + 20 * math.log10(boost)))
    scale = 0.9 / (max(map(abs, mix)) or 1.0)
    return Clip([v * scale for v in mix], placements)


def wav(samples: list[float]) -> bytes:
    """16-bit mono PCM at 8 kHz."""
    pcm = array("h", [int(max(-32767.0, min(32767.0, v * 32767.0))) for v in samples])
    if sys.byteorder == "big":
        pcm.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def random_digits() -> str:
    return "".join(secrets.choice(DIGITS) for _ in range(LENGTH))


def generate(digits: str, rng: random.Random | None = None) -> bytes:
    """A WAV clip saying `digits`; `rng` is for tests (by default the system's secure source)."""
    return wav(render(digits, rng or secrets.SystemRandom()).samples)
