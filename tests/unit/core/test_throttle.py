"""Escalating throttling: CAPTCHA first, then growing delays, never a lockout."""

from __future__ import annotations

import pytest

from vestibule.core.throttle import (
    CAPTCHA_AFTER,
    DELAY_AFTER,
    MAX_DELAY_SECONDS,
    ThrottleDecision,
    ThrottleState,
    decide,
    delay_for,
)

T = 1_700_000_000.0


def test_constants() -> None:
    assert (CAPTCHA_AFTER, DELAY_AFTER, MAX_DELAY_SECONDS) == (3, 6, 300)
    assert CAPTCHA_AFTER < DELAY_AFTER


@pytest.mark.parametrize(
    ("failures", "delay"),
    [
        (0, 0),
        (1, 0),
        (3, 0),
        (5, 0),
        (6, 2),
        (7, 4),
        (8, 8),
        (9, 16),
        (10, 32),
        (12, 128),
        (13, 256),
        (14, 300),
        (15, 300),
        (100, 300),
        (10_000, 300),
    ],
)
def test_delay_for(failures: int, delay: int) -> None:
    assert delay_for(failures) == delay


def test_delay_never_decreases_and_is_capped() -> None:
    delays = [delay_for(n) for n in range(500)]
    assert delays == sorted(delays)
    assert max(delays) == MAX_DELAY_SECONDS


def test_no_states_means_go_ahead() -> None:
    assert decide([], T) == ThrottleDecision(captcha_required=False, retry_after=0)


@pytest.mark.parametrize(
    ("failures", "captcha"),
    [(0, False), (1, False), (2, False), (3, True), (4, True), (6, True), (50, True)],
)
def test_captcha_after_threshold(failures: int, captcha: bool) -> None:
    decision = decide([ThrottleState(failures=failures)], T)
    assert decision.captcha_required is captcha
    assert decision.retry_after == 0  # no last failure, nothing to wait for


@pytest.mark.parametrize(
    ("threshold", "failures", "captcha"),
    [(1, 0, False), (1, 1, True), (5, 4, False), (5, 5, True), (0, 0, True)],
)
def test_client_captcha_threshold(threshold: int, failures: int, captcha: bool) -> None:
    decision = decide([ThrottleState(failures=failures)], T, client_captcha_after=threshold)
    assert decision.captcha_required is captcha


@pytest.mark.parametrize(
    ("failures", "elapsed", "retry_after"),
    [
        (0, 0, 0),
        (5, 0, 0),  # below DELAY_AFTER: CAPTCHA only
        (6, 0, 2),
        (6, 0.5, 2),  # rounds up: 1.5 s left -> 2
        (6, 1, 1),
        (6, 1.5, 1),
        (6, 2, 0),
        (6, 60, 0),
        (7, 0, 4),
        (7, 3.25, 1),
        (10, 10, 22),
        (14, 0, 300),
        (14, 299, 1),
        (14, 300, 0),
        (1000, 0, 300),
        (1000, 300, 0),
    ],
)
def test_retry_after_from_last_failure(failures: int, elapsed: float, retry_after: int) -> None:
    decision = decide([ThrottleState(failures=failures, last_failure_at=T)], T + elapsed)
    assert decision.retry_after == retry_after


def test_strictest_of_several_keys() -> None:
    states = [
        ThrottleState(failures=1, last_failure_at=T - 5),  # identifier: quiet
        ThrottleState(failures=8, last_failure_at=T - 3),  # client address: 8 s delay, 5 left
        ThrottleState(failures=7, last_failure_at=T),  # other key: 4 s delay, 4 left
    ]
    assert decide(states, T) == ThrottleDecision(captcha_required=True, retry_after=5)


@pytest.mark.parametrize(
    "states",
    [
        [ThrottleState(failures=3), ThrottleState(failures=0)],
        [ThrottleState(failures=0), ThrottleState(failures=3)],
        [ThrottleState(failures=0), ThrottleState(failures=1), ThrottleState(failures=9, last_failure_at=T - 1000)],
    ],
)
def test_captcha_if_any_key_requires_it(states: list[ThrottleState]) -> None:
    decision = decide(states, T)
    assert decision.captcha_required is True
    assert decision.retry_after == 0


def test_order_of_keys_does_not_matter() -> None:
    states = [
        ThrottleState(failures=2, last_failure_at=T - 1),
        ThrottleState(failures=9, last_failure_at=T - 10),
        ThrottleState(failures=6, last_failure_at=T),
    ]
    assert decide(states, T) == decide(list(reversed(states)), T) == ThrottleDecision(True, 6)


@pytest.mark.parametrize("failures", [0, 2, 3, 5, 6, 7, 10, 13, 14, 50, 1_000, 1_000_000])
def test_never_a_permanent_lockout(failures: int) -> None:
    state = ThrottleState(failures=failures, last_failure_at=T)
    delay = delay_for(failures)
    assert delay <= MAX_DELAY_SECONDS
    assert decide([state], T + delay).retry_after == 0
    assert decide([state], T + MAX_DELAY_SECONDS).retry_after == 0
    assert decide([state], T + 10 * MAX_DELAY_SECONDS).retry_after == 0


def test_retry_after_never_negative() -> None:
    state = ThrottleState(failures=8, last_failure_at=T)
    assert decide([state], T + 1_000_000).retry_after == 0
