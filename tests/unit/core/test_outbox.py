"""The outbox's retry schedule: exponential, capped, a limited number of attempts, never past the mail's expiry."""

from __future__ import annotations

from vestibule.core.outbox import RetryPolicy

POLICY = RetryPolicy(max_attempts=6, first_delay=10, max_delay=60)


def test_delays_double_up_to_the_cap() -> None:
    assert [POLICY.delay(n) for n in range(1, 7)] == [10, 20, 40, 60, 60, 60]


def test_next_attempt_is_scheduled_until_the_attempts_are_used() -> None:
    assert POLICY.next_attempt(1, 1000.0, 5000.0) == 1010.0
    assert POLICY.next_attempt(3, 1000.0, 5000.0) == 1040.0
    assert POLICY.next_attempt(5, 1000.0, 5000.0) == 1060.0
    assert POLICY.next_attempt(6, 1000.0, 5000.0) is None, "the cap on attempts"


def test_a_permanent_refusal_or_the_mails_expiry_ends_the_retries() -> None:
    assert POLICY.next_attempt(1, 1000.0, 5000.0, permanent=True) is None
    assert POLICY.next_attempt(2, 1000.0, 1020.0) is None, "a retry after the code expired would be noise"
    assert POLICY.next_attempt(2, 1000.0, 1020.1) == 1020.0


def test_jitter_scales_the_delay() -> None:
    assert POLICY.next_attempt(2, 1000.0, 5000.0, jitter=1.1) == 1022.0
