"""What readiness and metrics read from the backends: each a small indexed statement or a ping, with plain
values out (services/health.py and services/metrics.py decide and name them)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import and_, event, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

from ..core.outbox import MailStatus
from .models import OutboxMail, Session
from .redis import RedisClient

_MIGRATIONS = Path(__file__).parent / "migrations"


@functools.cache
def head_revision() -> str:
    """The newest migration this code ships (read from the migration scripts once)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


@dataclass(frozen=True)
class DatabaseState:
    revision: str | None  # the schema's alembic revision (None: an empty version table)
    mail_stuck: bool  # a due mail has waited longer than the limit


class Probes:
    """One engine (and Redis client, when configured) looked at from outside the units of work."""

    def __init__(self, engine: AsyncEngine, redis: RedisClient | None) -> None:
        self._engine = engine
        self._redis = redis

    @property
    def has_redis(self) -> bool:
        return self._redis is not None

    async def database(self, stuck_before: float) -> DatabaseState:
        """One connection, two statements: the schema revision (which proves the database answers) and whether
        a pending mail was due before `stuck_before` (the outbox's (status, next_attempt_at) index)."""
        stuck = (select(literal(1)).select_from(OutboxMail)
                 .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at < stuck_before).limit(1))
        async with self._engine.connect() as conn:
            revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            mail_stuck = (await conn.execute(stuck)).first() is not None
            await conn.rollback()
        return DatabaseState(str(revision) if revision is not None else None, mail_stuck)

    async def redis_answers(self) -> bool:
        """Whether Redis answers a PING (True without Redis); raises when it cannot be reached."""
        return True if self._redis is None else bool(await self._redis.ping())

    async def active_sessions(self, now: float) -> dict[str, int]:
        """Sessions neither revoked nor past their absolute or idle end, per kind (console | cli); an index scan
        (`revoked_at IS NULL` or the `expires_at` range, as the planner finds fewer rows)."""
        query = (select(Session.kind, func.count())
                 .where(and_(Session.expires_at > now, Session.revoked_at.is_(None),
                             Session.last_seen_at + Session.idle_seconds > now))
                 .group_by(Session.kind))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            await conn.rollback()
        return {str(kind): int(n) for kind, n in rows}

    async def outbox_counts(self) -> dict[str, int]:
        """Messages per status (the index's leading column)."""
        query = select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            await conn.rollback()
        found = {str(status): int(n) for status, n in rows}
        return {status.value: found.get(status.value, 0) for status in MailStatus}


    def watch_pool(self, checked_out: Callable[[int], None], size: Callable[[int], None]) -> None:
        """`size(n)` now with the connections the pool keeps (0 for a pool without a size, such as SQLite in
        memory), then `checked_out(+1)` when a connection is lent out and `checked_out(-1)` when it comes back.
        Once per engine, however many apps share it."""
        pool = self._engine.sync_engine.pool
        if pool in _WATCHED:
            return
        _WATCHED.add(pool)
        keeps: Callable[[], int] | None = getattr(pool, "size", None)
        size(int(keeps()) if keeps is not None else 0)

        def lent(*_: Any) -> None:
            checked_out(1)

        def returned(*_: Any) -> None:
            checked_out(-1)

        event.listen(pool, "checkout", lent)
        event.listen(pool, "checkin", returned)


_WATCHED: weakref.WeakSet[Pool] = weakref.WeakSet()
