"""Escalating throttling: a CAPTCHA after a few failures, then growing delays; never a lockout."""

from __future__ import annotations

from dataclasses import dataclass

CAPTCHA_AFTER = 3
DELAY_AFTER = 6
MAX_DELAY_SECONDS = 300
WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ThrottleState:
    """Failures counted for one key (an identifier or a client address) in the window."""

    failures: int = 0
    last_failure_at: float | None = None


@dataclass(frozen=True)
class ThrottleDecision:
    captcha_required: bool
    retry_after: int  # seconds to wait before the next attempt is considered; 0 = go ahead


def delay_for(failures: int) -> int:
    """0 up to DELAY_AFTER failures, then 2, 4, 8 ... seconds, capped."""
    if failures < DELAY_AFTER:
        return 0
    return int(min(MAX_DELAY_SECONDS, 2 ** (failures - DELAY_AFTER + 1)))


def decide(states: list[ThrottleState], now: float, client_captcha_after: int = CAPTCHA_AFTER) -> ThrottleDecision:
    """The strictest decision over every key that applies to an attempt."""
    captcha = False
    wait = 0
    for state in states:
        if state.failures >= client_captcha_after:
            captcha = True
        if state.last_failure_at is not None:
            remaining = int(state.last_failure_at + delay_for(state.failures) - now + 0.999)
            wait = max(wait, remaining)
    return ThrottleDecision(captcha_required=captcha, retry_after=max(0, wait))
