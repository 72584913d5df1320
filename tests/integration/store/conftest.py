"""Contract suites for the storage ports: every test runs on each configured backend.

SQLite always; PostgreSQL when VESTIBULE_TEST_DATABASE_URL is set (an unreachable one fails the run);
Redis-backed ports on VESTIBULE_TEST_REDIS_URL or the local default (see `support.reachable_redis_url`).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from support import reachable_redis_url
from vestibule.store.database import make_engine, migrate, sessionmaker_for, table_names
from vestibule.store.redis import RedisClient, connect
from vestibule.store.repositories import Store

PG_URL = os.environ.get("VESTIBULE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


@pytest.fixture(scope="session")
def sqlite_contract_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('contract')) / 'contract.db'}"

    async def _prepare() -> None:
        engine = make_engine(url)
        await migrate(engine)
        await engine.dispose()

    asyncio.run(_prepare())
    return url


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, sqlite_contract_url: str) -> str:
    if request.param == "postgresql":
        url = request.getfixturevalue("clean_database")  # the suite's PostgreSQL, migrated and wiped
        assert isinstance(url, str) and url.startswith("postgresql")
        return url
    return sqlite_contract_url


async def _wipe_sqlite(url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    async with engine.begin() as conn:
        for name in reversed(table_names()):
            await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()


@pytest.fixture
async def store(backend_url: str) -> AsyncIterator[Store]:
    if backend_url.startswith("sqlite"):
        await _wipe_sqlite(backend_url)
    engine = make_engine(backend_url)
    store = Store(sessionmaker_for(engine))
    try:
        yield store
    finally:
        await store.close()
        await engine.dispose()


@pytest.fixture
async def redis_client() -> AsyncIterator[RedisClient]:
    client = connect(await reachable_redis_url())
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test (or concurrent run on the same Redis) uses."""
    run = uuid.uuid4().hex[:10]
    return lambda name: f"test:{run}:{name}"


def migration_step(revision: str, *, down: bool = False) -> Callable[[Connection], None]:
    """For `conn.run_sync`: Alembic up (or down) to `revision` on that connection (the migration tests)."""
    from alembic import command

    from vestibule.store import database

    def run(conn: Connection) -> None:
        (command.downgrade if down else command.upgrade)(database._alembic_config(conn), revision)

    return run


@pytest.fixture(params=BACKENDS)
def migration_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file, or the suite's PostgreSQL (migrated and wiped: a sync fixture, it runs its own loop)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("clean_database")
        assert isinstance(url, str)
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
