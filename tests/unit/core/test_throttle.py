"""Guessing budgets: the rule per kind of counter, the decision for one attempt, the reservation, forgetting
after the window, and the daily budgets the constants allow."""

from __future__ import annotations

import pytest

from vestibule.core.throttle import (
    CAPTCHA_AFTER,
    CODE_REFUSAL_SECONDS,
    CODE_REFUSE_AFTER,
    DELAY_AFTER,
    LONGEST_WINDOW_SECONDS,
    MAX_DELAY_SECONDS,
    RULES,
    WINDOW_SECONDS,
    Scope,
    ThrottleDecision,
    ThrottleKey,
    ThrottleState,
    decide,
    guesses_per_day,
    reserve,
    wait_without_captcha,
)

T = 1_700_000_000.0
PASSWORDS = RULES[Scope.PRINCIPAL]
ACCOUNT = RULES[Scope.ACCOUNT]
CODES = RULES[Scope.CODES]


def test_constants() -> None:
    assert (CAPTCHA_AFTER, DELAY_AFTER, MAX_DELAY_SECONDS, WINDOW_SECONDS) == (3, 6, 300, 3600)
    client = RULES[Scope.CLIENT]  # many people share an address: room for sign-ins in progress at once
    assert (client.captcha_after, client.delay_after, client.max_delay, client.window) == (20, 40, 60, 3600)
    assert (PASSWORDS.captcha_after, PASSWORDS.delay_after, PASSWORDS.max_delay) == (3, 6, 300)
    assert (ACCOUNT.captcha_after, ACCOUNT.delay_after, ACCOUNT.max_delay, ACCOUNT.window) == (10, 20, 60, 3600)
    assert RULES[Scope.DEVICE] == CODES and CODES.captcha_after is None
    assert (CODES.delay_after, CODES.refuse_after, CODES.refusal, CODES.window) == (5, 10, 3600, 86400)
    assert (CODE_REFUSE_AFTER, CODE_REFUSAL_SECONDS) == (10, 3600)
    assert LONGEST_WINDOW_SECONDS == 86400


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (1, 0), (3, 0), (5, 0), (6, 2), (7, 4), (8, 8), (9, 16), (10, 32), (12, 128), (13, 256), (14, 300),
     (15, 300), (100, 300), (10_000, 300)],
)
def test_password_delay(failures: int, delay: int) -> None:
    assert PASSWORDS.delay(failures) == delay


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (4, 0), (5, 2), (6, 4), (9, 32), (10, 3600), (11, 3600), (1_000_000, 3600)],
)
def test_code_delay_then_refusal(failures: int, delay: int) -> None:
    assert CODES.delay(failures) == delay


def test_delays_never_decrease_and_are_capped() -> None:
    for rule in RULES.values():
        delays = [rule.delay(n) for n in range(500)]
        assert delays == sorted(delays)
        assert max(delays) == (rule.refusal if rule.refuse_after is not None else rule.max_delay)


def test_no_counters_means_go_ahead() -> None:
    assert decide([], T) == ThrottleDecision(captcha_required=False, retry_after=0)


@pytest.mark.parametrize(("failures", "captcha"), [(0, False), (2, False), (3, True), (50, True)])
def test_captcha_after_threshold(failures: int, captcha: bool) -> None:
    decision = decide([(PASSWORDS, ThrottleState(failures, T - 1000))], T)
    assert decision.captcha_required is captcha and decision.retry_after == 0


@pytest.mark.parametrize(
    ("failures", "elapsed", "retry_after"),
    [(5, 0, 0), (6, 0, 2), (6, 0.5, 2), (6, 1, 1), (6, 2, 0), (7, 3.25, 1), (10, 10, 22), (14, 0, 300),
     (14, 299, 1), (14, 300, 0), (1000, 0, 300)],
)
def test_retry_after_from_last_failure(failures: int, elapsed: float, retry_after: int) -> None:
    assert decide([(PASSWORDS, ThrottleState(failures, T))], T + elapsed).retry_after == retry_after


def test_strictest_of_several_keys() -> None:
    counted = [
        (PASSWORDS, ThrottleState(1, T - 5)),  # the principal: quiet
        (PASSWORDS, ThrottleState(8, T - 3)),  # the address: an 8 s delay, 5 left
        (ACCOUNT, ThrottleState(7, T)),  # the account: below its CAPTCHA threshold
    ]
    assert decide(counted, T) == ThrottleDecision(captcha_required=True, retry_after=5)
    assert decide(list(reversed(counted)), T) == decide(counted, T)


def test_counts_are_forgotten_after_the_window() -> None:
    state = ThrottleState(9, T)
    assert state.current(PASSWORDS, T + WINDOW_SECONDS) == state
    assert state.current(PASSWORDS, T + WINDOW_SECONDS + 1) == ThrottleState()
    assert decide([(PASSWORDS, state)], T + WINDOW_SECONDS + 1) == ThrottleDecision(False, 0)
    assert state.after_failure(PASSWORDS, T + WINDOW_SECONDS + 1) == ThrottleState(1, T + WINDOW_SECONDS + 1)
    assert state.after_failure(PASSWORDS, T + 1) == ThrottleState(10, T + 1)
    assert state.current(CODES, T + WINDOW_SECONDS + 1) == state, "codes are remembered for a day"


def test_reservation_counts_the_attempt_on_every_key_or_on_none() -> None:
    keys = [ThrottleKey(Scope.PRINCIPAL, "user:111122223333:alice"), ThrottleKey(Scope.CLIENT, "192.0.2.1")]
    decision, new = reserve(keys, [ThrottleState(2, T - 10), ThrottleState()], T, captcha_solved=False)
    assert decision.admits(False) and new == [ThrottleState(3, T), ThrottleState(1, T)]
    decision, new = reserve(keys, [ThrottleState(3, T - 10), ThrottleState()], T, captcha_solved=False)
    assert new is None and decision == ThrottleDecision(True, 0)
    decision, new = reserve(keys, [ThrottleState(3, T - 10), ThrottleState()], T, captcha_solved=True)
    assert new == [ThrottleState(4, T), ThrottleState(1, T)]
    decision, new = reserve(keys, [ThrottleState(6, T - 1), ThrottleState()], T, captcha_solved=True)
    assert new is None and decision.retry_after == 1


def test_a_concurrent_later_failure_is_no_reason_to_wait() -> None:
    """Requests take `now` before they reach the counter: one may find a failure stamped after its own now."""
    assert decide([(PASSWORDS, ThrottleState(2, T + 0.5))], T) == ThrottleDecision(False, 0)
    assert decide([(PASSWORDS, ThrottleState(6, T + 0.5))], T).retry_after == 3
    assert ThrottleState(2, T + 0.5).after_failure(PASSWORDS, T) == ThrottleState(3, T + 0.5)


def test_taking_back_a_reserved_attempt() -> None:
    assert ThrottleState(3, T).taken_back() == ThrottleState(2, T)
    assert ThrottleState(1, T).taken_back() == ThrottleState()
    assert ThrottleState().taken_back() == ThrottleState()


def test_an_api_caller_waits_until_the_captcha_counts_are_forgotten() -> None:
    keys = [ThrottleKey(Scope.PRINCIPAL, "user:1:bob")]
    assert wait_without_captcha(keys, [ThrottleState(3, T)], T + 100) == WINDOW_SECONDS - 100 + 1
    assert wait_without_captcha(keys, [ThrottleState(2, T)], T + 100) == 0
    assert wait_without_captcha(keys, [ThrottleState(7, T)], T + 1) == WINDOW_SECONDS


def test_long_identifiers_are_stored_hashed() -> None:
    short = ThrottleKey(Scope.PRINCIPAL, "root-email:a@example.com")
    assert short.name == "principal:root-email:a@example.com"
    long = ThrottleKey(Scope.PRINCIPAL, "root-email:" + "a" * 300 + "@example.com")
    assert len(long.name) <= 200 and long.name.startswith("principal:#")


@pytest.mark.parametrize("failures", [0, 2, 3, 5, 6, 7, 10, 13, 14, 50, 1_000, 1_000_000])
def test_never_a_permanent_lockout(failures: int) -> None:
    for rule in RULES.values():
        state = ThrottleState(failures, T)
        longest = max(rule.max_delay, rule.refusal)
        assert decide([(rule, state)], T + longest).retry_after == 0
        assert decide([(rule, state)], T + rule.window + 1) == ThrottleDecision(False, 0)


def test_guessing_budget_per_day() -> None:
    """The figures in docs/security.md, from the constants."""
    # one IAM user or one root user (password): 3 an hour without solving CAPTCHAs, 300 a day solving them
    assert guesses_per_day([PASSWORDS], captcha_solved=False) == 72
    assert guesses_per_day([PASSWORDS], captcha_solved=True) == 300
    # an IAM user touches its own counter and its account's: its own is the stricter
    assert guesses_per_day([PASSWORDS, ACCOUNT], captcha_solved=True) == 300
    # the account (spraying over many users, from many addresses)
    assert guesses_per_day([ACCOUNT], captcha_solved=False) == 240
    assert guesses_per_day([ACCOUNT], captcha_solved=True) == 1463
    # one client address, over every account it tries
    assert guesses_per_day([RULES[Scope.CLIENT]], captcha_solved=False) == 480
    assert guesses_per_day([RULES[Scope.CLIENT]], captcha_solved=True) == 1483
    # one MFA device (and one principal's one-time codes): 10 in a row, then one an hour; no CAPTCHA helps
    assert guesses_per_day([CODES, CODES], captcha_solved=False) == 33
    assert guesses_per_day([CODES], captcha_solved=True) == 33
