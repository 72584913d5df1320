"""Contract: instance profiles on SQLite and PostgreSQL: names unique per account whatever their case, listings by
name under a path prefix, and the one role a profile holds put and taken by compare-and-set (a second role, or a
role taken twice, changes nothing)."""

from __future__ import annotations

import asyncio

import pytest

from integration.store import rows
from vestibule.store.models import InstanceProfile
from vestibule.store.repositories import Conflict, Store

ACCT = "111122223333"


def _profile(profile_id: str, name: str, path: str = "/") -> InstanceProfile:
    return InstanceProfile(id=profile_id, account_id=ACCT, name=name, name_lower=name.lower(), path=path,
                           role_id=None, created_at=rows.NOW)


@pytest.fixture
async def account(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    return store


async def test_names_listings_and_deletes(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        await uow.instance_profiles.add(_profile("AIPA1", "web", "/apps/"))
        await uow.instance_profiles.add(_profile("AIPA2", "Batch"))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.instance_profiles.add(_profile("AIPA3", "WEB"))
    async with store.unit() as uow:
        found = await uow.instance_profiles.by_name(ACCT, "Web")
        assert found is not None and found.id == "AIPA1"
        assert await uow.instance_profiles.by_name("999988887777", "web") is None
        assert [p.name for p in await uow.instance_profiles.list(ACCT)] == ["Batch", "web"]
        assert [p.name for p in await uow.instance_profiles.list(ACCT, "/apps/")] == ["web"]
        await uow.instance_profiles.delete(found)
    async with store.unit() as uow:
        assert [p.name for p in await uow.instance_profiles.list(ACCT)] == ["Batch"]


async def test_one_role_per_profile(account: Store) -> None:
    store = account
    first, second = rows.role("first"), rows.role("second")
    async with store.unit() as uow:
        await uow.roles.add(first)
        await uow.roles.add(second)
        await uow.instance_profiles.add(_profile("AIPA1", "web"))
        await uow.instance_profiles.add(_profile("AIPA2", "batch"))
    async with store.unit() as uow:
        web = await uow.instance_profiles.by_name(ACCT, "web")
        assert web is not None and await uow.instance_profiles.put_role(web, first.id)
        assert web.role_id == first.id
        assert not await uow.instance_profiles.put_role(web, second.id)
        batch = await uow.instance_profiles.by_name(ACCT, "batch")
        assert batch is not None and await uow.instance_profiles.put_role(batch, first.id)
    async with store.unit() as uow:
        assert [p.name for p in await uow.instance_profiles.holding(first.id)] == ["batch", "web"]
        assert await uow.instance_profiles.holding(second.id) == []
        web = await uow.instance_profiles.by_name(ACCT, "web")
        assert web is not None and web.role_id == first.id
        assert not await uow.instance_profiles.take_role(web, second.id)
        assert await uow.instance_profiles.take_role(web, first.id) and web.role_id is None
        assert not await uow.instance_profiles.take_role(web, first.id)
    async with store.unit() as uow:
        assert [p.name for p in await uow.instance_profiles.holding(first.id)] == ["batch"]


async def test_concurrent_puts_leave_one_role(account: Store) -> None:
    store = account
    roles = [rows.role(f"r{i}") for i in range(6)]
    async with store.unit() as uow:
        for role in roles:
            await uow.roles.add(role)
        await uow.instance_profiles.add(_profile("AIPA1", "web"))

    async def put(role_id: str) -> bool:
        async with store.unit() as uow:
            profile = await uow.instance_profiles.by_name(ACCT, "web")
            assert profile is not None
            return await uow.instance_profiles.put_role(profile, role_id)

    outcomes = await asyncio.gather(*(put(r.id) for r in roles))
    assert sorted(outcomes) == [False] * 5 + [True]
    async with store.unit() as uow:
        profile = await uow.instance_profiles.by_name(ACCT, "web")
        assert profile is not None and profile.role_id in {r.id for r in roles}
