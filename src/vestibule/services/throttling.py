"""The throttle port: failure counters per key, in the database or in Redis, changed atomically.

`reserve` is the one way to make a guess: it decides (`core.throttle`) and counts the attempt as a failure
on every key in one atomic step, before the secret is checked; `settle` takes a reserved attempt back when it
turned out right (clearing the keys a success clears). So concurrent guesses, on one node or many, never get
more than the budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from ..core import throttle as rules
from ..core.throttle import ThrottleDecision, ThrottleKey, ThrottleState
from ..errors import TooManyAttempts
from ..store.redis import RedisThrottle
from ..store.repositories import Store
from ..store.sql import hot
from . import metrics

__all__ = ["DatabaseThrottle", "RedisThrottle", "Throttle", "guess"]


class Throttle(Protocol):
    async def states(self, keys: Sequence[ThrottleKey], now: float) -> list[ThrottleState]:
        """The current counts (a count past its window reads as none)."""
        ...

    async def reserve(self, keys: Sequence[ThrottleKey], now: float, captcha_solved: bool) -> ThrottleDecision | None:
        """Atomically: when every key admits an attempt now, count it as a failure on each and answer None;
        otherwise count nothing and answer the decision that refused it."""
        ...

    async def settle(self, clear: Sequence[ThrottleKey], release: Sequence[ThrottleKey]) -> None:
        """A reserved attempt was right: the counts of `clear` are cleared, `release` take the attempt back."""
        ...

    def settlement(self, clear: Sequence[ThrottleKey], release: Sequence[ThrottleKey]) -> hot.ThrottleSettle | None:
        """The same as `settle`, as a change another database unit can make in its own transaction (a
        sign-in's end), or None when the counters are not in the database."""
        ...


def _stored(row: tuple[int, float] | None) -> ThrottleState:
    return ThrottleState() if row is None or row[0] <= 0 else ThrottleState(row[0], row[1])


def _rows(states: Sequence[ThrottleState]) -> list[tuple[int, float]]:
    return [(s.failures, s.last_failure_at or 0.0) for s in states]


class DatabaseThrottle:
    """Counters in the database: one node on SQLite, or any number on PostgreSQL (rows locked per unit)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def states(self, keys: Sequence[ThrottleKey], now: float) -> list[ThrottleState]:
        rows = await self._store.run(hot.throttle_rows, [k.name for k in keys])
        return [_stored(rows.get(k.name)).current(k.rule, now) for k in keys]

    async def reserve(self, keys: Sequence[ThrottleKey], now: float, captcha_solved: bool) -> ThrottleDecision | None:
        keys = list(dict.fromkeys(keys))
        refused: list[ThrottleDecision] = []

        def change(rows: list[tuple[int, float]]) -> list[tuple[int, float]] | None:
            decision, new = rules.reserve(keys, [_stored(r) for r in rows], now, captcha_solved)
            if new is None:
                refused.append(decision)
                return None
            return _rows(new)

        try:
            await self._store.run(hot.throttle_update, [k.name for k in keys], change)
        except hot.ThrottleUnchanged:
            return refused[-1]
        return None

    async def settle(self, clear: Sequence[ThrottleKey], release: Sequence[ThrottleKey]) -> None:
        settle = self.settlement(clear, release)
        if settle is not None:
            await self._store.run(hot.throttle_update, settle.keys, settle.change)

    def settlement(self, clear: Sequence[ThrottleKey], release: Sequence[ThrottleKey]) -> hot.ThrottleSettle | None:
        cleared = set(clear)
        keys = list(dict.fromkeys([*clear, *release]))
        if not keys:
            return None

        def change(rows: list[tuple[int, float]]) -> list[tuple[int, float]]:
            return _rows([ThrottleState() if key in cleared else _stored(row).taken_back()
                          for key, row in zip(keys, rows, strict=True)])

        return hot.ThrottleSettle(tuple(k.name for k in keys), change)


T = TypeVar("T")


async def guess(throttle: Throttle, clock: Callable[[], float], keys: Sequence[ThrottleKey],
                check: Callable[[], Awaitable[T | None]]) -> T | None:
    """One guess at a code, where no CAPTCHA can be asked (one-time codes, API calls): reserved on `keys`
    first (TooManyAttempts while they refuse it), then checked; a right guess clears the keys, a wrong one
    stays counted. The check's answer, None when it failed."""
    refused = await throttle.reserve(keys, clock(), captcha_solved=False)
    metrics.record_throttle("code", "allowed" if refused is None else "delayed")
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    result = await check()
    if result is not None:
        await throttle.settle(keys, ())
    return result
