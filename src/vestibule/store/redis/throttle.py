"""Throttle counters shared by every node: a hash per key (failures `n`, last failure time `t`), expiring with
its rule's window. Every change is a compare-and-set in one Lua script (atomic in Redis): the counts are
read, decided on here (`core.throttle`), and written only if no other node changed them meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...core import throttle as rules
from ...core.throttle import ThrottleDecision, ThrottleKey, ThrottleState
from .client import RedisClient, connect

# KEYS: the counters. ARGV: their expected (n, t) as read ('' when missing), then the new (n, t, ttl) of
# each. Writes (n = 0 deletes) only when every counter still holds what was read; otherwise returns the
# current (n, t) of each, for the caller to decide again.
_COMPARE_AND_SET = """
local n = #KEYS
for i = 1, n do
  local cur = redis.call('HMGET', KEYS[i], 'n', 't')
  if (cur[1] or '') ~= ARGV[2 * i - 1] or (cur[2] or '') ~= ARGV[2 * i] then
    local out = {}
    for j = 1, n do
      local c = redis.call('HMGET', KEYS[j], 'n', 't')
      out[2 * j - 1] = c[1] or ''
      out[2 * j] = c[2] or ''
    end
    return out
  end
end
local base = 2 * n
for i = 1, n do
  local count = ARGV[base + 3 * i - 2]
  if count == '0' then
    redis.call('DEL', KEYS[i])
  else
    redis.call('HSET', KEYS[i], 'n', count, 't', ARGV[base + 3 * i - 1])
    redis.call('EXPIRE', KEYS[i], ARGV[base + 3 * i])
  end
end
return 1
"""
_TRIES = 200  # compare-and-set rounds under contention; each lost round means another attempt was counted

Change = Callable[[list[ThrottleState]], list[ThrottleState] | None]
_Raw = tuple[str, str]


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


def _state(raw: _Raw) -> ThrottleState:
    n, t = raw
    return ThrottleState(int(n), float(t)) if n and t else ThrottleState()


class RedisThrottle:
    def __init__(self, url: str = "", prefix: str = "vestibule:throttle:", *,
                 client: RedisClient | None = None) -> None:
        self._owned = client is None
        self._redis = client if client is not None else connect(url)
        self._prefix = prefix
        self._cas = self._redis.register_script(_COMPARE_AND_SET)

    async def _read(self, names: Sequence[str]) -> list[_Raw]:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hmget(name, "n", "t")
        return [(_text(n), _text(t)) for n, t in await pipe.execute()]

    async def _update(self, keys: Sequence[ThrottleKey], change: Change) -> bool | None:
        """True when `change` was applied atomically, False when it declined; None when other writers kept
        winning (the caller treats that as a refusal)."""
        names = [self._prefix + key.name for key in keys]
        raw = await self._read(names)
        for _ in range(_TRIES):
            new = change([_state(r) for r in raw])
            if new is None:
                return False
            args: list[str] = [part for r in raw for part in r]
            for key, state in zip(keys, new, strict=True):
                args += [str(state.failures), repr(state.last_failure_at or 0.0), str(key.rule.window)]
            answer = await self._cas(keys=names, args=args)
            if not isinstance(answer, list):
                return True
            values = [_text(v) for v in answer]
            raw = list(zip(values[0::2], values[1::2], strict=True))
        return None

    async def states(self, keys: Sequence[ThrottleKey], now: float) -> list[ThrottleState]:
        raw = await self._read([self._prefix + key.name for key in keys])
        return [_state(r).current(key.rule, now) for key, r in zip(keys, raw, strict=True)]

    async def reserve(self, keys: Sequence[ThrottleKey], now: float, captcha_solved: bool) -> ThrottleDecision | None:
        keys = list(dict.fromkeys(keys))
        refused: list[ThrottleDecision] = []

        def change(states: list[ThrottleState]) -> list[ThrottleState] | None:
            decision, new = rules.reserve(keys, states, now, captcha_solved)
            if new is None:
                refused.append(decision)
            return new

        done = await self._update(keys, change)
        if done:
            return None
        return refused[-1] if done is False else ThrottleDecision(False, 1)

    async def settle(self, clear: Sequence[ThrottleKey], release: Sequence[ThrottleKey]) -> None:
        cleared = set(clear)
        keys = list(dict.fromkeys([*clear, *release]))
        if keys:
            await self._update(keys, lambda states: [ThrottleState() if key in cleared else state.taken_back()
                                                     for key, state in zip(keys, states, strict=True)])

    def settlement(self, clear: Sequence[ThrottleKey], release: Sequence[ThrottleKey]) -> None:
        """Counters in Redis are never changed inside a database transaction: callers `settle` instead."""
        return None

    async def close(self) -> None:
        if self._owned:
            await self._redis.aclose()
