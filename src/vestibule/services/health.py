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
from ..store.probes import Probes, head_revision
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
        reasons: dict[str, str] = {}
        stuck_before = self._clock() - self._stuck_seconds
        database, redis = await asyncio.gather(self._within("database", self._probes.database(stuck_before), reasons),
                                               self._within("redis", self._probes.redis_answers(), reasons))
        checks = {"database": _word(database is not None)}
        checks["migrations"] = _word(database is not None and database.revision == self.head)
        if database is not None and database.revision != self.head:
            reasons["migrations"] = f"the schema is at {database.revision}, this release at {self.head}"
        if self._probes.has_redis:
            checks["redis"] = _word(redis is True)
        checks["mail_outbox"] = _word(database is not None and not database.mail_stuck)
        if database is not None and database.mail_stuck:
            reasons["mail_outbox"] = f"a mail has been due for over {self._stuck_seconds:.0f} s"
        answer = Readiness(checks)
        if answer.ready != self._last_ready:
            if answer.ready:
                log.info("ready")
            else:
                log.warning("not ready: %s", "; ".join(
                    f"{name} failing" + (f" ({reasons[name]})" if name in reasons else "")
                    for name, word in checks.items() if word != OK))
            self._last_ready = answer.ready
        return answer

    async def _within(self, name: str, work: Awaitable[T], reasons: dict[str, str] | None = None) -> T | None:
        """`work`'s answer, or None when it raised or took longer than the timeout (the exception's type, never its
        text, which may name hosts, goes to `reasons`)."""
        try:
            return await asyncio.wait_for(work, self._timeout)
        except TimeoutError:
            why = f"no answer within {self._timeout:g} s"
        except Exception as exc:  # any failure is the check failing
            why = type(exc).__name__
        if reasons is not None:
            reasons[name] = why
        log.debug("check %s: %s", name, why)
        return None

    async def snapshot(self) -> metrics.Snapshot:
        """The database's gauges for a scrape; a reading that fails or times out is left out."""
        now = self._clock()
        sessions, outbox = await asyncio.gather(self._within("sessions", self._probes.active_sessions(now)),
                                                self._within("outbox", self._probes.outbox_counts()))
        return metrics.Snapshot(sessions=sessions, outbox=outbox)


def _word(ok: bool) -> str:
    return OK if ok else FAILING
