"""Migration 0025 (closed and suspended accounts): up from 0024 with an account in it (no lifecycle row), a
lifecycle row written, down to 0024 (the table gone, the account kept), up again; on SQLite and on the suite's
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision

ACCOUNT = "222233334444"


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())




async def test_migration_0025_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = database.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0024", down=backend == "postgresql"))
            assert "account_lifecycle" not in await conn.run_sync(_tables)
            await conn.execute(text(
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                f"created_at) VALUES ('{ACCOUNT}', 'n', 'm25@example.com', 'h', 1, 'closed', 1)"))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0025"))
            await conn.execute(text(
                "INSERT INTO account_lifecycle (account_id, closed_at, closure_code_attempts) "
                f"VALUES ('{ACCOUNT}', 5, 0)"))
        async with engine.connect() as conn:
            rows = list(await conn.execute(text("SELECT account_id, closed_at, suspended_at FROM account_lifecycle")))
            assert rows == [(ACCOUNT, 5.0, None)]
        async with engine.begin() as conn:
            await conn.run_sync(_to("0024", down=True))
        async with engine.connect() as conn:
            assert "account_lifecycle" not in await conn.run_sync(_tables)
            assert list(await conn.execute(text("SELECT id, status FROM accounts"))) == [(ACCOUNT, "closed")]
    finally:
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
        async with engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM accounts WHERE id = '{ACCOUNT}'"))
        await engine.dispose()
