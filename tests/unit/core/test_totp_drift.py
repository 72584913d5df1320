"""A drifting device's clock (RFC 6238 section 6): a resync finds two consecutive codes up to RESYNC_WINDOW steps
away, and the drift it records moves the normal one-step window of later checks."""

from __future__ import annotations

import pyotp

from vestibule.core import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_015.0
STEP = totp.step_of(NOW)


def _code(step: int) -> str:
    return pyotp.TOTP(SECRET).at(step * totp.STEP_SECONDS)


def test_a_device_minutes_ahead_is_found_by_a_resync_only() -> None:
    ahead = STEP + 6  # three minutes fast
    assert totp.verify_consecutive(SECRET, _code(ahead - 1), _code(ahead), NOW) is None, "enrolment: one step"
    assert totp.verify_consecutive(SECRET, _code(ahead - 1), _code(ahead), NOW, totp.RESYNC_WINDOW) == ahead
    behind = STEP - totp.RESYNC_WINDOW
    assert totp.verify_consecutive(SECRET, _code(behind - 1), _code(behind), NOW, totp.RESYNC_WINDOW) == behind
    too_far = STEP + totp.RESYNC_WINDOW + 1
    assert totp.verify_consecutive(SECRET, _code(too_far - 1), _code(too_far), NOW, totp.RESYNC_WINDOW) is None
    # not consecutive, or in the wrong order
    assert totp.verify_consecutive(SECRET, _code(ahead), _code(ahead - 1), NOW, totp.RESYNC_WINDOW) is None
    assert totp.verify_consecutive(SECRET, _code(ahead - 2), _code(ahead), NOW, totp.RESYNC_WINDOW) is None


def test_the_recorded_drift_moves_the_window() -> None:
    ahead = STEP + 6
    assert not totp.verify(SECRET, _code(ahead + 1), NOW, None).accepted
    check = totp.verify(SECRET, _code(ahead + 1), NOW, ahead, drift=6)
    assert check.accepted and check.step == ahead + 1
    assert totp.verify(SECRET, _code(ahead), NOW, ahead, drift=6).replayed, "the resync's step stays used"
    assert not totp.verify(SECRET, _code(STEP), NOW, None, drift=6).accepted, "the true time is now outside"
    assert not totp.verify(SECRET, _code(ahead + 2), NOW, None, drift=6).accepted, "one step either side only"
