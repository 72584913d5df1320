"""The Alembic chain builds exactly the schema the models declare, on every backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from vestibule.store.database import current_revision, make_engine
from vestibule.store.models import Base
from vestibule.store.repositories import Store


def _differences(conn: Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


def _script_head() -> str | None:
    """The newest revision of the migration chain (so adding a migration needs no edit here)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from vestibule.store import database

    config = Config()
    config.set_main_option("script_location", str(database._MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


async def test_migrations_match_the_models(store: Store, backend_url: str) -> None:
    engine = make_engine(backend_url)
    try:
        assert await current_revision(engine) == _script_head()
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_expiry_columns_are_indexed(store: Store, backend_url: str) -> None:
    from sqlalchemy import inspect

    engine = make_engine(backend_url)
    try:
        async with engine.connect() as conn:
            def indexed(sync: Connection) -> set[tuple[str, str]]:
                inspector = inspect(sync)
                return {(table, column) for table in ("sessions", "recovery_tokens", "captchas", "flows",
                                                      "temporary_credentials", "throttle_counters")
                        for index in inspector.get_indexes(table) for column in index["column_names"] if column}

            found = await conn.run_sync(indexed)
        assert {("sessions", "expires_at"), ("sessions", "revoked_at"), ("recovery_tokens", "expires_at"),
                ("captchas", "expires_at"), ("flows", "expires_at"), ("temporary_credentials", "expires_at"),
                ("throttle_counters", "last_failure_at")} <= found
    finally:
        await engine.dispose()
