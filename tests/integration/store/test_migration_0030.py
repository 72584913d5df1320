"""Migration 0030 (issue 14: maintained IAM entity counts, indexes): up from 0029 with users, groups, roles,
policies, policy versions and instance profiles in two accounts (the counts are filled from them), every index of
the revision there and the two it lengthens gone; down to 0029 (the counts table and the new indexes gone, the old
ones back, the rows kept), up again; on SQLite and on the suite's PostgreSQL."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision


def _revision() -> ModuleType:
    path = Path(database.__file__).parent / "migrations" / "versions" / "0030_scale.py"
    spec = importlib.util.spec_from_file_location("migration_0030", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _indexes(conn: Connection) -> set[tuple[str, str]]:
    found = inspect(conn)
    return {(table, ix["name"] or "") for table in found.get_table_names() for ix in found.get_indexes(table)}


_SEED = [
    "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, created_at) "
    "VALUES ('111122223333', 'a', 'a30@example.com', 'h', 1, 'active', 1), "
    "('444455556666', 'b', 'b30@example.com', 'h', 1, 'active', 1)",
    "INSERT INTO iam_users (id, account_id, name, name_lower, path, password_reset_required, created_at) VALUES "
    "('AIDA1', '111122223333', 'A', 'a', '/', false, 1), ('AIDA2', '111122223333', 'B', 'b', '/', false, 1), "
    "('AIDA3', '444455556666', 'C', 'c', '/', false, 1)",
    "INSERT INTO iam_groups (id, account_id, name, name_lower, path, created_at) "
    "VALUES ('AGPA1', '111122223333', 'G', 'g', '/', 1)",
    "INSERT INTO iam_roles (id, account_id, name, name_lower, path, trust_policy, max_session_duration, created_at) "
    "VALUES ('AROA1', '444455556666', 'R', 'r', '/', '{}', 3600, 1)",
    "INSERT INTO managed_policies (arn, id, account_id, name, path, description, document, default_version, "
    "created_at, updated_at, versions_created) VALUES ('arn:aws:iam::111122223333:policy/P', 'ANPA1', "
    "'111122223333', 'P', '/', '', '{}', 'v2', 1, 1, 2)",
    "INSERT INTO managed_policy_versions (policy_arn, version_id, document, created_at) VALUES "
    "('arn:aws:iam::111122223333:policy/P', 'v1', '{}', 1), ('arn:aws:iam::111122223333:policy/P', 'v2', '{}', 1)",
    "INSERT INTO instance_profiles (id, account_id, name, name_lower, path, created_at) "
    "VALUES ('AIPA1', '111122223333', 'I', 'i', '/', 1)",
]


async def test_migration_0030_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    revision = _revision()
    wanted = {(table, name) for name, table, _columns in revision._INDEXES}
    replaced = {(table, name) for name, table, _columns in revision._REPLACED}
    engine = database.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0029", down=backend == "postgresql"))
            assert not wanted & await conn.run_sync(_indexes)
            assert replaced <= await conn.run_sync(_indexes)
            for statement in _SEED:
                await conn.execute(text(statement))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0030"))
            assert wanted <= await conn.run_sync(_indexes)
            assert not replaced & await conn.run_sync(_indexes)
            counted = set(await conn.execute(text("SELECT account_id, kind, n FROM iam_entity_counts")))
            assert counted == {("111122223333", "users", 2), ("444455556666", "users", 1),
                               ("111122223333", "groups", 1), ("444455556666", "roles", 1),
                               ("111122223333", "policies", 1), ("111122223333", "policy_versions", 2),
                               ("111122223333", "instance_profiles", 1)}
        async with engine.begin() as conn:
            await conn.run_sync(_to("0029", down=True))
        async with engine.connect() as conn:
            assert "iam_entity_counts" not in await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            assert not wanted & await conn.run_sync(_indexes)
            assert replaced <= await conn.run_sync(_indexes)
            assert list(await conn.execute(text("SELECT count(*) FROM iam_users"))) == [(3,)]
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
    finally:
        if backend == "postgresql":  # the suite's database: back at the head, whatever happened
            await database.migrate(engine)
        await engine.dispose()
