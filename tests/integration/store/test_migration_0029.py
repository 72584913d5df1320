"""Migration 0029 (WebAuthn credentials): up from 0028 (the table appears, a root user's and a profile's
credential stored, the credential ID unique), down to 0028 (the table gone), up again to the head; on SQLite and
on the suite's PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision

_INSERT = ("INSERT INTO webauthn_credentials (principal_key, account_id, credential_id, public_key, sign_count, "
           "transports, aaguid, discoverable, kind, user_handle, name, serial, created_at) VALUES "
           "(:key, :account, :cid, :pk, 0, 'usb', '', :disc, 'security_key', 'h', 'Key', :serial, 5)")


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _indexes(conn: Connection) -> set[str]:
    return {ix["name"] or "" for ix in inspect(conn).get_indexes("webauthn_credentials")}


async def test_migration_0029_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = database.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0028", down=backend == "postgresql"))
            assert "webauthn_credentials" not in await conn.run_sync(_tables)
            await conn.execute(text(
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                "created_at) VALUES ('111122223333', 'n', 'm29@example.com', 'h', 1, 'active', 1)"))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0029"))
            assert "ix_webauthn_credentials_principal_key" in await conn.run_sync(_indexes)
            await conn.execute(text(_INSERT), {"key": "root:111122223333", "account": "111122223333", "cid": "AAA",
                                               "pk": b"\x01", "disc": False,
                                               "serial": "arn:aws:iam::111122223333:u2f/root/Key-X"})
            await conn.execute(text(_INSERT), {"key": "profile:p1", "account": None, "cid": "BBB", "pk": b"\x02",
                                               "disc": True, "serial": None})
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text(_INSERT), {"key": "profile:p2", "account": None, "cid": "AAA",
                                                   "pk": b"\x03", "disc": True, "serial": None})
        async with engine.connect() as conn:
            rows = list(await conn.execute(text(
                "SELECT principal_key, account_id, discoverable FROM webauthn_credentials ORDER BY credential_id")))
            assert [(r[0], r[1], bool(r[2])) for r in rows] == [("root:111122223333", "111122223333", False),
                                                                 ("profile:p1", None, True)]
        async with engine.begin() as conn:
            await conn.run_sync(_to("0028", down=True))
            assert "webauthn_credentials" not in await conn.run_sync(_tables)
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            assert "webauthn_credentials" in await conn.run_sync(_tables)
    finally:
        if backend == "postgresql":
            await database.migrate(engine)
        await engine.dispose()
