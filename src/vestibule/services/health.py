"""Readiness (`/readyz`): the database answers, its schema is this code's newest migration, Redis answers when
configured, and no due mail has waited too long; and the database readings of a metrics scrape.

Each check has a short timeout; concurrent requests share one round of checks, so a load balancer polling
every second (or several polling at once) costs a few indexed statements a second and never piles up
connections while the database is slow."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ..settings import Settings
from ..store.probes import DatabaseState, Probes, head_revision
from . import metrics

log = logging.getLogger("vestibule.health")
T = TypeVar("T")

OK = "ok"
FAILING = "failing"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # name -> ok | failing, in a fixed order

    @property
    def ready(self) -> bool:
        return all(v == OK for v in self.checks.values())

    def as_json(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "not ready", "checks": dict(self.checks)}


class Health:
    def __init__(self, probes: Probes, settings: Settings, *, timeout: float = 1.0,
                 clock: Callable[[], float] = time.time, head: str | None = None) -> None:
        self._probes = probes
        self._stuck_seconds = float(settings.ready_outbox_stuck_seconds)
        self._timeout = timeout
        self._clock = clock  # wall-clock time, as the mail sender's
        self.head = head or head_revision()  # read once
        self._round: asyncio.Task[Readiness] | None = None
        self._last_ready: bool | None = None

    async def readiness(self) -> Readiness:
        """The checks now (a round already running is shared, not repeated)."""
        current = self._round
        if current is None or current.done():
            current = self._round = asyncio.create_task(self._check())
        return await asyncio.shield(current)

    async def _check(self) -> Readiness:
        database, redis = await asyncio.gather(
            self._timed("database", self._probes.database(self._clock() - self._stuck_seconds)),
            self._timed("redis", self._probes.redis()) if self._probes.has_redis else _none())
        checks: dict[str, str] = {"database": OK if isinstance(database, DatabaseState) else FAILING}
        checks["migrations"] = OK if isinstance(database, DatabaseState) and database.revision == self.head \
            else FAILING
        if self._probes.has_redis:
            checks["redis"] = OK if redis is True else FAILING
        checks["mail_outbox"] = OK if isinstance(database, DatabaseState) and not database.mail_stuck else FAILING
        answer = Readiness(checks)
        if answer.ready != self._last_ready:
            if answer.ready:
                log.info("ready")
            else:
                log.warning("not ready: %s failing", ", ".join(k for k, v in checks.items() if v != OK))
            self._last_ready = answer.ready
        return answer

    async def _timed(self, name: str, work: Awaitable[T]) -> T | bool | None:
        """`work`'s answer (True for one without), or None when it raised or took longer than the timeout."""
        try:
            answer = await asyncio.wait_for(work, self._timeout)
        except Exception as exc:  # any failure is the check failing; the reason goes to the log, not the answer
            log.debug("readiness check %s: %s", name, type(exc).__name__)
            return None
        return True if answer is None else answer

    async def snapshot(self) -> metrics.Snapshot:
        """The database's gauges for a scrape; a reading that fails or times out is left out."""
        now = self._clock()
        sessions, outbox = await asyncio.gather(self._timed("sessions", self._probes.active_sessions(now)),
                                                self._timed("outbox", self._probes.outbox_counts()))
        return metrics.Snapshot(sessions=sessions if isinstance(sessions, dict) else None,
                                outbox=outbox if isinstance(outbox, dict) else None)


async def _none() -> None:
    return None
