"""Migration 0023 (recovery codes): up from 0022 with an account in it, a code stored, down to 0022 (the table
gone, the account kept), up again; on SQLite and on the suite's PostgreSQL. The codes go with their account."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision

ACCOUNT = "333344445555"


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())




async def test_migration_0023_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = database.make_engine(url)
    insert_code = ("INSERT INTO recovery_codes (account_id, principal_key, code_hash, created_at) "
                   f"VALUES ('{ACCOUNT}', 'root:{ACCOUNT}', '{'a' * 64}', 1)")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0022", down=backend == "postgresql"))
            assert "recovery_codes" not in await conn.run_sync(_tables)
            await conn.execute(text(
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                f"created_at) VALUES ('{ACCOUNT}', 'n', 'm23@example.com', 'h', 1, 'active', 1)"))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0023"))
            await conn.execute(text(insert_code))
        async with engine.connect() as conn:
            rows = list(await conn.execute(text("SELECT principal_key, used_at FROM recovery_codes")))
            assert rows == [(f"root:{ACCOUNT}", None)]
        with pytest.raises(Exception, match=r"(?i)unique"):  # one row per code hash
            async with engine.begin() as conn:
                await conn.execute(text(insert_code))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0022", down=True))
        async with engine.connect() as conn:
            assert "recovery_codes" not in await conn.run_sync(_tables)
            assert list(await conn.execute(text("SELECT id, status FROM accounts"))) == [(ACCOUNT, "active")]
        async with engine.begin() as conn:
            await conn.run_sync(_to("0023"))
            assert "recovery_codes" in await conn.run_sync(_tables)
    finally:
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
        async with engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM accounts WHERE id = '{ACCOUNT}'"))
        await engine.dispose()
