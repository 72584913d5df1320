"""Cache invalidation across workers and nodes: `publish(topic, ident)` makes every subscriber forget.

Delivery in the publishing process is immediate and synchronous, so the process that made a change
never serves the old answer again. With a transport (Redis pub/sub when `VESTIBULE_REDIS_URL` is set)
every other process hears the same message moments later. If a transport loses messages (a dropped
connection), subscribers are told through `on_gap` so they can forget everything they cached.
Publish after the change is committed (`uow.after_commit`), or another node may re-read the old row.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("vestibule.invalidation")

ACCESS_KEY = "access-key"
SESSION = "session"
ACCOUNT = "account"  # an account closed or suspended: everything cached of it is forgotten

Forget = Callable[[str], None]
ForgetAll = Callable[[], None]


@dataclass(frozen=True)
class Invalidation:
    topic: str
    ident: str
    node: str

    def encode(self) -> bytes:
        return json.dumps({"t": self.topic, "i": self.ident, "n": self.node}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Invalidation | None:
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        topic, ident, node = data.get("t"), data.get("i"), data.get("n")
        if not (isinstance(topic, str) and isinstance(ident, str) and isinstance(node, str)):
            return None
        return cls(topic, ident, node)


class Transport(Protocol):
    """Carries encoded invalidations between processes."""

    async def send(self, payload: bytes) -> None: ...
    async def listen(self, on_message: Callable[[bytes], None], on_gap: Callable[[], None]) -> None:
        """Start delivering every payload sent by any process; returns once listening (or given up for now)."""
    async def close(self) -> None: ...


@dataclass(frozen=True)
class _Subscription:
    forget: Forget
    forget_all: ForgetAll | None


class InvalidationBus:
    def __init__(self, transport: Transport | None = None, node: str | None = None) -> None:
        self._transport = transport
        self.node = node or secrets.token_hex(8)
        self._subscriptions: dict[str, list[_Subscription]] = {}
        self._listening = False

    @property
    def crosses_processes(self) -> bool:
        return self._transport is not None

    def subscribe(self, topic: str, callback: Forget, *, on_gap: ForgetAll | None = None) -> Callable[[], None]:
        """Call `callback(ident)` for every invalidation of `topic`; returns a function that unsubscribes."""
        entry = _Subscription(callback, on_gap)
        self._subscriptions.setdefault(topic, []).append(entry)

        def unsubscribe() -> None:
            entries = self._subscriptions.get(topic, [])
            if entry in entries:
                entries.remove(entry)

        return unsubscribe

    async def publish(self, topic: str, ident: str) -> None:
        self._deliver(topic, ident)
        if self._transport is None:
            return
        try:
            await self._transport.send(Invalidation(topic, ident, self.node).encode())
        except Exception:  # the change is committed; other nodes fall back to their cache lifetimes
            log.warning("could not publish invalidation %s %s to other nodes", topic, ident, exc_info=True)

    async def start(self) -> None:
        if self._transport is not None and not self._listening:
            self._listening = True
            await self._transport.listen(self._on_message, self._on_gap)

    async def close(self) -> None:
        if self._transport is not None:
            self._listening = False
            await self._transport.close()

    def _on_message(self, raw: bytes) -> None:
        message = Invalidation.decode(raw)
        if message is None:
            log.warning("ignored a malformed invalidation message")
        elif message.node != self.node:  # our own were delivered when published
            self._deliver(message.topic, message.ident)

    def _on_gap(self) -> None:
        for entries in self._subscriptions.values():
            for entry in list(entries):
                if entry.forget_all is not None:
                    self._call(entry.forget_all)

    def _deliver(self, topic: str, ident: str) -> None:
        for entry in list(self._subscriptions.get(topic, ())):
            self._call(entry.forget, ident)

    @staticmethod
    def _call(fn: Callable[..., None], *args: str) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("an invalidation subscriber failed")
