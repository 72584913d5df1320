"""Guessing budgets: the rule each kind of counter follows, and the decision for one attempt.

A counter holds the failures of one key (a principal's passwords, an account, a client address, a principal's
one-time codes, an MFA device). An attempt touches several keys and goes ahead only when every one admits it.
It is counted as a failure *before* the secret is checked (a reservation, made atomically by the backend), so
concurrent attempts see each other; one that turns out right is taken back. A count is forgotten `window`
seconds after its last failure. No rule locks anyone out for good: the longest wait is `refusal` (or
`max_delay`) after the last failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

CAPTCHA_AFTER = 3
DELAY_AFTER = 6
MAX_DELAY_SECONDS = 300
WINDOW_SECONDS = 3600


class Scope(StrEnum):
    PRINCIPAL = "principal"  # the passwords of one root user or one IAM user (sign-in, ChangePassword)
    ACCOUNT = "account"  # the passwords of every IAM user of one account, together
    CLIENT = "client"  # passwords tried from one client address
    CODES = "codes"  # the one-time codes (TOTP, mailed) of one principal, in every flow and API call
    DEVICE = "device"  # the TOTP codes of one MFA device
    REQUESTS = "requests"  # anonymous requests that store a row (CLI sign-in registrations), per client address


@dataclass(frozen=True)
class Rule:
    captcha_after: int | None  # failures from which an attempt needs a solved CAPTCHA; None: never asked
    delay_after: int  # failures from which an attempt waits 2, 4, 8 ... s after the last failure
    max_delay: int  # the cap of that wait
    window: int  # a count is forgotten this long after its last failure
    refuse_after: int | None = None  # failures from which every attempt waits `refusal` after the last one
    refusal: int = 0

    def delay(self, failures: int) -> int:
        """Seconds an attempt waits after the last of `failures` failures."""
        if self.refuse_after is not None and failures >= self.refuse_after:
            return self.refusal
        if failures < self.delay_after:
            return 0
        return int(min(self.max_delay, 2 ** min(failures - self.delay_after + 1, 62)))


_PASSWORDS = Rule(captcha_after=CAPTCHA_AFTER, delay_after=DELAY_AFTER, max_delay=MAX_DELAY_SECONDS,
                  window=WINDOW_SECONDS)
CODE_REFUSE_AFTER = 10
CODE_REFUSAL_SECONDS = 3600
_CODES = Rule(captcha_after=None, delay_after=5, max_delay=MAX_DELAY_SECONDS, window=86400,
              refuse_after=CODE_REFUSE_AFTER, refusal=CODE_REFUSAL_SECONDS)

RULES: Mapping[Scope, Rule] = {
    Scope.PRINCIPAL: _PASSWORDS,
    # One address is often many people (an office behind NAT, a proxy), and a sign-in in progress counts until
    # its password is known to be right: a rule as tight as one user's would ask everyone behind one address for
    # a CAPTCHA as soon as three of them sign in at the same moment. Each user keeps its own 3, the account its 10.
    Scope.CLIENT: Rule(captcha_after=20, delay_after=40, max_delay=60, window=WINDOW_SECONDS),
    # Gentler than one user's: it stops spraying one password over many users without making every user of
    # the account wait long behind one attacker.
    Scope.ACCOUNT: Rule(captcha_after=10, delay_after=20, max_delay=60, window=WINDOW_SECONDS),
    Scope.CODES: _CODES,
    Scope.DEVICE: _CODES,
    # Every such request counts (none is "right"): 60 an hour from one address freely, then one a minute at most.
    Scope.REQUESTS: Rule(captcha_after=None, delay_after=60, max_delay=60, window=WINDOW_SECONDS),
}
LONGEST_WINDOW_SECONDS = max(rule.window for rule in RULES.values())

_MAX_IDENT = 160


@dataclass(frozen=True, order=True)
class ThrottleKey:
    scope: Scope
    ident: str  # what is counted: a principal, an account ID, an address, a device ID

    @property
    def name(self) -> str:
        """The stored key (at most 200 characters: a long identifier is stored as its SHA-256)."""
        ident = self.ident
        if len(ident) > _MAX_IDENT:
            ident = "#" + hashlib.sha256(ident.encode()).hexdigest()
        return f"{self.scope.value}:{ident}"

    @property
    def rule(self) -> Rule:
        return RULES[self.scope]


@dataclass(frozen=True)
class ThrottleState:
    """Failures counted for one key, and the time of the last one."""

    failures: int = 0
    last_failure_at: float | None = None

    def current(self, rule: Rule, now: float) -> ThrottleState:
        """This state, or an empty one once the window after the last failure has passed."""
        if self.failures <= 0 or self.last_failure_at is None or now - self.last_failure_at > rule.window:
            return ThrottleState()
        return self

    def after_failure(self, rule: Rule, now: float) -> ThrottleState:
        """One failure more at `now` (a later failure already counted by a concurrent request keeps its time)."""
        current = self.current(rule, now)
        return ThrottleState(current.failures + 1, max(now, current.last_failure_at or now))

    def taken_back(self) -> ThrottleState:
        """One reserved failure less (an attempt that turned out right); empty at zero."""
        if self.failures <= 1:
            return ThrottleState()
        return ThrottleState(self.failures - 1, self.last_failure_at)


@dataclass(frozen=True)
class ThrottleDecision:
    captcha_required: bool  # an attempt now needs a solved CAPTCHA
    retry_after: int  # seconds to wait before an attempt is considered; 0 = go ahead

    def admits(self, captcha_solved: bool) -> bool:
        return self.retry_after == 0 and (captcha_solved or not self.captcha_required)


def _decide_one(rule: Rule, state: ThrottleState, now: float) -> ThrottleDecision:
    state = state.current(rule, now)
    captcha = rule.captcha_after is not None and state.failures >= rule.captcha_after
    delay = rule.delay(state.failures)
    wait = 0
    if delay > 0 and state.last_failure_at is not None:
        wait = max(0, int(state.last_failure_at + delay - now + 0.999))
    return ThrottleDecision(captcha, wait)


def decide(counted: Sequence[tuple[Rule, ThrottleState]], now: float) -> ThrottleDecision:
    """The strictest decision over every key that applies to an attempt."""
    captcha = False
    wait = 0
    for rule, state in counted:
        one = _decide_one(rule, state, now)
        captcha = captcha or one.captcha_required
        wait = max(wait, one.retry_after)
    return ThrottleDecision(captcha, wait)


def reserve(keys: Sequence[ThrottleKey], states: Sequence[ThrottleState], now: float,
            captcha_solved: bool) -> tuple[ThrottleDecision, list[ThrottleState] | None]:
    """The decision for an attempt on `keys` (whose current `states` are given, in the same order), and the
    states to store when it is admitted (the attempt counted as a failure on every key); None when refused."""
    decision = decide([(key.rule, state) for key, state in zip(keys, states, strict=True)], now)
    if not decision.admits(captcha_solved):
        return decision, None
    return decision, [state.after_failure(key.rule, now) for key, state in zip(keys, states, strict=True)]


def wait_without_captcha(keys: Sequence[ThrottleKey], states: Sequence[ThrottleState], now: float) -> int:
    """For a caller who cannot solve a CAPTCHA (an API call): seconds until every key admits an attempt."""
    wait = 0
    for key, state in zip(keys, states, strict=True):
        current = state.current(key.rule, now)
        one = _decide_one(key.rule, current, now)
        if one.captcha_required and current.last_failure_at is not None:
            wait = max(wait, int(current.last_failure_at + key.rule.window - now) + 1)
        wait = max(wait, one.retry_after)
    return wait


def guesses_per_day(rules: Sequence[Rule], *, captcha_solved: bool, day: int = 86400) -> int:
    """How many guesses one patient attacker gets through keys following `rules` (every guess touching all
    of them, every guess wrong, each made the first second it is admitted) in `day` seconds."""
    states = [ThrottleState() for _ in rules]
    now, guesses = 0.0, 0
    while now < day:
        decision = decide(list(zip(rules, states, strict=True)), now)
        if decision.admits(captcha_solved):
            states = [state.after_failure(rule, now) for rule, state in zip(rules, states, strict=True)]
            guesses += 1
        elif decision.retry_after > 0:
            now += decision.retry_after
        else:  # a CAPTCHA is asked and not solved: wait until the counts that ask for it are forgotten
            now = max(state.last_failure_at + rule.window + 1 for rule, state in zip(rules, states, strict=True)
                      if state.last_failure_at is not None and _decide_one(rule, state, now).captcha_required)
    return guesses
