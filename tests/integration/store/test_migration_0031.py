"""Migration 0031 (the members' sort keys in the join tables): up from 0030 with memberships and attachments in
it (their names filled in from the users, groups and roles), down to 0030 (the columns and indexes gone, the rows
kept), up again; on SQLite and on the suite's PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from integration.store.conftest import migration_step as _to
from vestibule.store import database
from vestibule.store.probes import head_revision

ACCT = "111122223333"
ARN = f"arn:aws:iam::{ACCT}:policy/shared"
INDEXES = {"ix_group_memberships_group_name", "ix_policy_attachments_policy_name", "ix_instance_profiles_role_name",
           "ix_iam_users_boundary_name", "ix_iam_roles_boundary_name", "ix_mfa_devices_account_serial",
           "ix_service_specific_credentials_account_created"}


def _shape(conn: Connection) -> tuple[set[str], set[str]]:
    inspector = inspect(conn)
    tables = ("group_memberships", "policy_attachments", "instance_profiles", "iam_users", "iam_roles", "mfa_devices",
              "service_specific_credentials")
    columns = {f"{table}.{col['name']}" for table in tables[:2] for col in inspector.get_columns(table)}
    return columns, {str(index["name"]) for table in tables for index in inspector.get_indexes(table)}


async def test_migration_0031_up_down_up(migration_url: str) -> None:
    url = migration_url
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    engine = database.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0030", down=backend == "postgresql"))  # PostgreSQL's is at the head
            for statement in (
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                f"created_at) VALUES ('{ACCT}', 'n', 'm31@example.com', 'h', 1, 'active', 1)",
                "INSERT INTO iam_users (id, account_id, name, name_lower, path, password_reset_required, created_at)"
                f" VALUES ('AIDA1', '{ACCT}', 'Alice', 'alice', '/', false, 1)",
                "INSERT INTO iam_groups (id, account_id, name, name_lower, path, created_at) VALUES "
                f"('AGPA1', '{ACCT}', 'Team', 'team', '/', 1)",
                "INSERT INTO iam_roles (id, account_id, name, name_lower, path, trust_policy, max_session_duration, "
                f"created_at) VALUES ('AROA1', '{ACCT}', 'Ops', 'ops', '/', '{{}}', 3600, 1)",
                "INSERT INTO group_memberships (group_id, user_id) VALUES ('AGPA1', 'AIDA1')",
                *(f"INSERT INTO policy_attachments (account_id, policy_arn, target_kind, target_id) VALUES "
                  f"('{ACCT}', '{ARN}', '{kind}', '{target}')"
                  for kind, target in (("user", "AIDA1"), ("group", "AGPA1"), ("role", "AROA1"),
                                       ("user", "AIDAGONE")))):
                await conn.execute(text(statement))
        async with engine.begin() as conn:
            await conn.run_sync(_to("0031"))
        async with engine.connect() as conn:
            columns, indexes = await conn.run_sync(_shape)
            assert {"group_memberships.user_name_lower", "policy_attachments.target_name_lower"} <= columns
            assert indexes >= INDEXES
            assert list(await conn.execute(text("SELECT user_id, user_name_lower FROM group_memberships"))) == [
                ("AIDA1", "alice")]
            assert sorted(await conn.execute(text(
                "SELECT target_id, target_name_lower FROM policy_attachments"))) == [
                ("AGPA1", "team"), ("AIDA1", "alice"), ("AIDAGONE", ""), ("AROA1", "ops")]
        async with engine.begin() as conn:
            await conn.run_sync(_to("0030", down=True))
        async with engine.connect() as conn:
            columns, indexes = await conn.run_sync(_shape)
            assert not {"group_memberships.user_name_lower", "policy_attachments.target_name_lower"} & columns
            assert not INDEXES & indexes
            assert list(await conn.execute(text("SELECT group_id, user_id FROM group_memberships"))) == [
                ("AGPA1", "AIDA1")]
            assert len(list(await conn.execute(text("SELECT * FROM policy_attachments")))) == 4
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            assert (await conn.run_sync(_shape))[1] >= INDEXES
    finally:
        if backend == "postgresql":  # the suite's database: back at the head, whatever happened
            await database.migrate(engine)
        await engine.dispose()
