"""Contract: versions of customer managed policies, the entities a policy is attached to, the policy row lock;
and migration 0008 giving every existing policy its `v1`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from integration.store import rows
from vestibule.store.database import make_engine, migrate
from vestibule.store.models import ManagedPolicyVersion
from vestibule.store.repositories import Conflict, Store

ACCT = "111122223333"


def _version(arn: str, version_id: str, document: str = "{}") -> ManagedPolicyVersion:
    return ManagedPolicyVersion(policy_arn=arn, version_id=version_id, document=document, created_at=rows.NOW)


async def test_versions_newest_first_and_gone_with_the_policy(store: Store) -> None:
    policy = rows.policy("Versioned")
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.policies.add(policy)
        for number in (1, 2, 9, 10):
            await uow.policies.add_version(_version(policy.arn, f"v{number}", f'{{"n": {number}}}'))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.policies.add_version(_version(policy.arn, "v2"))
    async with store.unit() as uow:
        assert [v.version_id for v in await uow.policies.versions(policy.arn)] == ["v10", "v9", "v2", "v1"]
        assert await uow.policies.version_count(ACCT) == 4 and await uow.policies.version_count("444455556666") == 0
        found = await uow.policies.version(policy.arn, "v9")
        assert found is not None and found.document == '{"n": 9}'
        assert await uow.policies.version(policy.arn, "v3") is None
        await uow.policies.delete_version(found)
    async with store.unit() as uow:
        assert [v.version_id for v in await uow.policies.versions(policy.arn)] == ["v10", "v2", "v1"]
        locked = await uow.policies.get(policy.arn, lock=True)
        assert locked is not None and locked.versions_created == 1
        await uow.policies.delete(locked)
    async with store.unit() as uow:
        assert await uow.policies.get(policy.arn, lock=True) is None
        assert list(await uow.policies.versions(policy.arn)) == []


async def test_locked_read_sees_the_latest_row(store: Store) -> None:
    """A row already loaded in the unit (as authorization does) is read again under the lock."""
    policy = rows.policy("Fresh")
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.policies.add(policy)
    async with store.unit() as first:
        seen = await first.policies.get(policy.arn)
        assert seen is not None and seen.versions_created == 1
        async with store.unit() as other:
            changed = await other.policies.get(policy.arn)
            assert changed is not None
            changed.versions_created = 4
        locked = await first.policies.get(policy.arn, lock=True)
        assert locked is not None and locked.versions_created == 4


async def test_attached_entities_by_kind_then_name(store: Store) -> None:
    policy = rows.policy("Shared")
    zed, amy = rows.user(name="zed"), rows.user(name="Amy")
    group, role = rows.group("team", "/ops/"), rows.role("svc")
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.accounts.add(rows.account("444455556666", alias=None, email="other@example.com"))
        await uow.policies.add(policy)
        for user in (zed, amy):
            await uow.users.add(user)
            await uow.policies.attach(ACCT, policy.arn, "user", user.id)
        await uow.groups.add(group)
        await uow.roles.add(role)
        await uow.policies.attach(ACCT, policy.arn, "group", group.id)
        await uow.policies.attach(ACCT, policy.arn, "role", role.id)
        await uow.policies.attach("444455556666", policy.arn, "user", "AIDAOTHERACCOUNT01")
    async with store.unit() as uow:
        assert list(await uow.policies.attached_entities(policy.arn, ACCT)) == [
            ("user", amy.id, "Amy", "/"), ("user", zed.id, "zed", "/"), ("group", group.id, "team", "/ops/"),
            ("role", role.id, "svc", "/")]
        assert list(await uow.policies.attached_entities(policy.arn, "444455556666")) == []


async def test_migration_gives_existing_policies_their_first_version(tmp_path: Path) -> None:
    from alembic import command

    from vestibule.store import database

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(database._alembic_config(c), "0007"))
            await conn.execute(text(
                "INSERT INTO accounts (id, name, root_email, root_password_hash, root_password_changed_at, status, "
                "created_at) "
                "VALUES ('111122223333', 'Acme', 'o@example.com', 'h', 1, 'active', 1)"))
            await conn.execute(text(
                "INSERT INTO managed_policies (arn, id, account_id, name, path, description, document, "
                "default_version, created_at, updated_at) VALUES ('arn:aws:iam::111122223333:policy/old', "
                "'ANPA000000000000001', '111122223333', 'old', '/', '', '{\"old\": true}', 'v1', 5, 6)"))
        await migrate(engine)
        store = Store(database.sessionmaker_for(engine))
        async with store.unit() as uow:
            versions = await uow.policies.versions("arn:aws:iam::111122223333:policy/old")
            assert [(v.version_id, v.document, v.created_at) for v in versions] == [("v1", '{"old": true}', 5.0)]
            policy = await uow.policies.get("arn:aws:iam::111122223333:policy/old")
            assert policy is not None and policy.versions_created == 1
        await store.close()
    finally:
        await engine.dispose()
