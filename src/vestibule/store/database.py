"""Engine, sessions and migrations for SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .models import Base
from .sql.keyset import CODE_POINT_COLLATIONS, CODE_POINT_ORDER

_MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> AsyncEngine:
    """`hide_parameters`: a failing statement's error (logged, and shown in tracebacks) never carries its bound
    values (emails, flow IDs, code hashes, sealed secrets)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        pool: dict[str, Any] = {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            pool = {"pool_size": 2, "max_overflow": 0}  # an in-memory database has one connection anyway
        # Two connections a process: SQLite lets one writer in at a time, and a writer kept waiting by another
        # connection sleeps in SQLite's busy handler (1, 2, 5 ... 100 ms), long after the lock is free. With the
        # default pool (5 + 10) eight CreateUser+GetUser clients got 266 calls/s with a p99 of 856 ms; with two
        # connections 408 calls/s, p99 75 ms (bench/aws_throughput.py, docs/benchmarks.md). Units wait for a
        # connection in the event loop instead; the second keeps one slow unit from holding up the process.
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_reset_on_return=None,
                                     hide_parameters=True, **pool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "postgresql":
        dialect = engine.dialect

        def note_collation(dbapi_conn: Any, _record: Any) -> None:
            """Whether the database orders text by code point: then a path prefix is read as a range of its
            index (`store/sql/keyset.starts_with`)."""
            cur = dbapi_conn.cursor()
            cur.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
            row = cur.fetchone()
            cur.close()
            setattr(dialect, CODE_POINT_ORDER, bool(row) and row[0] in CODE_POINT_COLLATIONS)

        event.listen(engine.sync_engine, "first_connect", note_collation)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_sync_sqlite_engine(url: URL) -> Engine:
    """The synchronous engine of the hot-path units (`store/sql/sync_units.py`): same file, same pragmas."""
    engine = create_engine(url.set(drivername="sqlite+pysqlite"),
                           connect_args={"timeout": 30, "check_same_thread": False}, pool_reset_on_return=None,
                           hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def sessionmaker_for(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (creating it on first start)."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_alembic_config(sync_conn), "head"))


async def migrate_to(engine: AsyncEngine, revision: str) -> None:
    """Bring the schema to `revision` (what the migrations produce there: a restore compares a backup with it)."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_alembic_config(sync_conn), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def table_names() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables]
