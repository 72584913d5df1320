"""Migration 0028 (personal profiles): up from 0027 with a root MFA device in it, a profile's device without an
account (account_id NULL), down to 0027 (the profile tables and the account-less device gone, the root device
kept), up again; on SQLite and on the suite's PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision

PROFILE_TABLES = {"profiles", "profile_trusted_browsers", "profile_exports"}


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migration_0028_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = database.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0027", down=backend == "postgresql"))
            assert not PROFILE_TABLES & await conn.run_sync(_tables)
            await conn.execute(text(
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                "created_at) VALUES ('111122223333', 'n', 'm28@example.com', 'h', 1, 'active', 1)"))
            await conn.execute(text(
                "INSERT INTO mfa_devices (account_id, principal_key, name, serial, secret_sealed, created_at) "
                "VALUES ('111122223333', 'root:111122223333', 'phone', 'root-serial', 'sealed', 5)"))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0028"))
            assert await conn.run_sync(_tables) >= PROFILE_TABLES
            await conn.execute(text(
                "INSERT INTO profiles (id, email, name, password_hash, password_changed_at, created_at) "
                "VALUES ('paaaaaaaaaaaaaaaaaaaa', 'p@example.com', 'P', 'h', 1, 1)"))
            await conn.execute(text(
                "INSERT INTO profile_trusted_browsers (id, profile_id, token_hash, user_agent_hash, network, label, "
                "created_at, last_used_at, expires_at) VALUES ('b1', 'paaaaaaaaaaaaaaaaaaaa', 't', 'u', "
                "'203.0.113.0/24', 'Firefox', 1, 1, 2)"))
            await conn.execute(text(
                "INSERT INTO mfa_devices (account_id, principal_key, name, serial, secret_sealed, created_at) "
                "VALUES (NULL, 'profile:paaaaaaaaaaaaaaaaaaaa', 'app', 'profile:paaaaaaaaaaaaaaaaaaaa:mfa/1', "
                "'sealed', 5)"))
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM profiles"))  # the trusted browser goes with it
            assert list(await conn.execute(text("SELECT count(*) FROM profile_trusted_browsers"))) == [(0,)]
            await conn.execute(text(
                "INSERT INTO profiles (id, email, name, password_hash, password_changed_at, created_at) "
                "VALUES ('pbbbbbbbbbbbbbbbbbbbb', 'p@example.com', 'P', 'h', 1, 1)"))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0027", down=True))
        async with engine.connect() as conn:
            assert not PROFILE_TABLES & await conn.run_sync(_tables)
            assert list(await conn.execute(text("SELECT serial FROM mfa_devices"))) == [("root-serial",)]
            nullable = {c["name"]: c["nullable"] for c in await conn.run_sync(
                lambda sync: inspect(sync).get_columns("mfa_devices"))}
            assert nullable["account_id"] is False
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
    finally:
        if backend == "postgresql":  # the suite's database: back at the head, whatever happened
            await database.migrate(engine)
        await engine.dispose()
