"""The member pages (GetGroup, ListEntitiesForPolicy by attachment or permissions boundary,
ListInstanceProfilesForRole) are read from an index in their
key order: the plan of each page's statement has no sort of the group's, policy's or role's members (SQLite:
no temporary B-tree for ORDER BY; PostgreSQL, with sorts and sequential scans priced out: no Sort node); and the
member's sort key in the join table follows a rename."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from integration.store import rows
from vestibule.store.models import InstanceProfile
from vestibule.store.repositories import Store
from vestibule.store.sql.unit import UnitOfWork

ACCT = "111122223333"


async def _plan(uow: UnitOfWork, read: Callable[[], Awaitable[object]]) -> str:
    """The database's plan of the one statement `read` runs, with the same parameters."""
    conn: AsyncConnection = await uow.db.connection()
    seen: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: Any, _context: object,
                _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(conn.sync_engine, "before_cursor_execute", capture)
    try:
        await read()
    finally:
        event.remove(conn.sync_engine, "before_cursor_execute", capture)
    statement, parameters = seen[-1]
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SET LOCAL enable_sort = off")
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        found = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        return "\n".join(str(row[0]) for row in found)
    found = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return "\n".join(str(row[-1]) for row in found)


def _sorted_whole(plan: str, backend: str) -> bool:
    if backend == "postgresql":
        return any(line.strip().lstrip("-> ").startswith(("Sort", "Incremental Sort")) for line in plan.splitlines())
    return "TEMP B-TREE" in plan


async def test_member_pages_are_read_in_index_order(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        group, role, policy = rows.group("team"), rows.role("held"), rows.policy("shared")
        await uow.groups.add(group)
        await uow.roles.add(role)
        await uow.policies.add(policy)
        users = [rows.user(name=f"User-{i:02d}") for i in range(30)]
        for user in users:
            user.permissions_boundary = policy.arn
            await uow.users.add(user)
            await uow.groups.add_member(group.id, user.id)
            await uow.policies.attach(ACCT, policy.arn, "user", user.id)
        for i in range(30):
            uow.db.add(InstanceProfile(id=f"AIPA{i:017d}", account_id=ACCT, name=f"p-{i:02d}", name_lower=f"p-{i:02d}",
                                       path="/", role_id=role.id, created_at=rows.NOW))
    async with store.unit() as uow:
        backend = (await uow.db.connection()).dialect.name
        after = ("user-04", users[4].id)
        plans = {
            "GetGroup": await _plan(uow, lambda: uow.groups.members_page(group.id, after, 5)),
            "ListEntitiesForPolicy": await _plan(uow, lambda: uow.policies.entities_page(
                policy.arn, ACCT, "user", "/", after, 5)),
            "ListEntitiesForPolicy boundaries": await _plan(uow, lambda: uow.policies.entities_page(
                policy.arn, ACCT, "user", "/", after, 5, boundaries=True)),
            "ListInstanceProfilesForRole": await _plan(uow, lambda: uow.instance_profiles.holding_page(
                role.id, ("p-04", f"AIPA{4:017d}"), 5)),
        }
        index = {"GetGroup": "ix_group_memberships_group_name",
                 "ListEntitiesForPolicy": "ix_policy_attachments_policy_name",
                 "ListEntitiesForPolicy boundaries": "ix_iam_users_boundary_name",
                 "ListInstanceProfilesForRole": "ix_instance_profiles_role_name"}
        for operation, plan in plans.items():
            assert not _sorted_whole(plan, backend), (operation, plan)
            assert index[operation] in plan, (operation, plan)
        page = await uow.groups.members_page(group.id, after, 5)
        assert [u.name for u in page] == [f"User-{i:02d}" for i in range(5, 11)]
        entities = await uow.policies.entities_page(policy.arn, ACCT, "user", "/", after, 5)
        assert [e[1] for e in entities] == [f"User-{i:02d}" for i in range(5, 11)]
        profiles = await uow.instance_profiles.holding_page(role.id, ("p-04", f"AIPA{4:017d}"), 5)
        assert [p.name for p in profiles] == [f"p-{i:02d}" for i in range(5, 11)]


async def test_the_sort_key_follows_a_rename(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        group, policy = rows.group("team"), rows.policy("shared")
        await uow.groups.add(group)
        await uow.policies.add(policy)
        users = [rows.user(name=name) for name in ("anna", "bert", "carl")]
        for user in users:
            await uow.users.add(user)
            await uow.groups.add_member(group.id, user.id)
            await uow.policies.attach(ACCT, policy.arn, "user", user.id)
        await uow.policies.attach(ACCT, policy.arn, "group", group.id)
    async with store.unit() as uow:
        await uow.groups.member_renamed(users[0].id, "zed")
        await uow.policies.target_renamed("user", users[0].id, "zed")
        await uow.policies.target_renamed("group", group.id, "crew")
    async with store.unit() as uow:
        assert [u.id for u in await uow.groups.members_page(group.id, None, 10)] == [
            users[1].id, users[2].id, users[0].id]
        assert [e[0] for e in await uow.policies.entities_page(policy.arn, ACCT, "user", "/", ("carl", users[2].id),
                                                                  10)] == [users[0].id]
        assert [e[0] for e in await uow.policies.entities_page(policy.arn, ACCT, "group", "/", ("crew", ""), 10)] == [
            group.id]
