"""Invalidations over Redis pub/sub: one channel, a listener task that resubscribes after failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from .client import RedisClient

log = logging.getLogger("vestibule.invalidation")
CHANNEL = "vestibule:invalidations"


class RedisChannel:
    def __init__(self, client: RedisClient, channel: str = CHANNEL, *, first_wait: float = 5.0,
                 retry_seconds: float = 1.0) -> None:
        self._redis = client
        self._channel = channel
        self._first_wait = first_wait
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None

    async def send(self, payload: bytes) -> None:
        await self._redis.publish(self._channel, payload)

    async def listen(self, on_message: Callable[[bytes], None], on_gap: Callable[[], None]) -> None:
        if self._task is not None:
            return
        subscribed = asyncio.Event()
        self._task = asyncio.create_task(self._run(on_message, on_gap, subscribed), name="invalidation listener")
        try:
            await asyncio.wait_for(subscribed.wait(), self._first_wait)
        except TimeoutError:
            log.warning("Redis is not answering; invalidations from other nodes wait until it does")

    async def _run(self, on_message: Callable[[bytes], None], on_gap: Callable[[], None],
                   subscribed: asyncio.Event) -> None:
        missed = False  # True once messages may have been sent while we were not listening
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if missed:
                    on_gap()
                subscribed.set()
                missed = True
                async for message in pubsub.listen():
                    data = message.get("data")
                    if message.get("type") == "message" and isinstance(data, bytes):
                        on_message(data)
            except (RedisError, OSError):
                log.warning("lost the invalidation channel; resubscribing", exc_info=True)
                missed = True
            finally:
                close: Callable[[], Awaitable[None]] = pubsub.aclose  # redis-py leaves aclose unannotated
                with contextlib.suppress(RedisError, OSError):
                    await close()
            await asyncio.sleep(self._retry)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
