"""Migration 0026 (the MFA device's label, last use and clock drift): up from 0025 with a device in it (the new
columns empty), down to 0025 (the columns gone, the device kept), up again; on SQLite and on the suite's
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision

SERIAL = "arn:aws:iam::111122223333:mfa/phone"


def _columns(conn: Connection) -> set[str]:
    return {col["name"] for col in inspect(conn).get_columns("mfa_devices")}




async def test_migration_0026_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = database.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0025", down=backend == "postgresql"))  # PostgreSQL's is at the head
            await conn.execute(text(
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                "created_at) VALUES ('111122223333', 'n', 'm26@example.com', 'h', 1, 'active', 1)"))
            await conn.execute(text(
                "INSERT INTO mfa_devices (account_id, principal_key, name, serial, secret_sealed, enabled_at, "
                f"last_used_step, created_at) VALUES ('111122223333', 'root:111122223333', 'phone', '{SERIAL}', "
                "'sealed', 5, 7, 5)"))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0026"))
        async with engine.connect() as conn:
            assert {"label", "last_used_at", "drift_steps"} <= await conn.run_sync(_columns)
            rows = list(await conn.execute(text(
                "SELECT serial, label, last_used_at, drift_steps, last_used_step FROM mfa_devices")))
            assert rows == [(SERIAL, None, None, None, 7)]
            await conn.execute(text("UPDATE mfa_devices SET label = 'Work phone', last_used_at = 9, drift_steps = -2"))
            await conn.commit()
        async with engine.begin() as conn:
            await conn.run_sync(_to("0025", down=True))
        async with engine.connect() as conn:
            assert not {"label", "last_used_at", "drift_steps"} & await conn.run_sync(_columns)
            assert list(await conn.execute(text("SELECT serial, last_used_step FROM mfa_devices"))) == [(SERIAL, 7)]
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            assert {"label", "last_used_at", "drift_steps"} <= await conn.run_sync(_columns)
    finally:
        if backend == "postgresql":  # the suite's database: back at the head, whatever happened
            await database.migrate(engine)
        await engine.dispose()
