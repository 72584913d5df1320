"""Maintained IAM entity counts (issue 14): moved by the repositories in the inserting or deleting transaction
(a rolled-back creation counts nothing), read in one statement; the instance-profile quota is checked by the
increment itself, so concurrent creations never pass it. On every configured backend."""

from __future__ import annotations

import asyncio

import pytest

from integration.store import rows
from vestibule.store.models import InstanceProfile, ManagedPolicyVersion
from vestibule.store.repositories import Store

ACCT = "111122223333"


def _profile(n: int) -> InstanceProfile:
    return InstanceProfile(id=f"AIPA{n:017d}", account_id=ACCT, name=f"p{n}", name_lower=f"p{n}", path="/",
                           role_id=None, created_at=rows.NOW)


@pytest.fixture
async def account(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.accounts.add(rows.account("444455556666", alias=None, email="other@example.com"))
    return store


async def _counts(store: Store, account_id: str = ACCT) -> dict[str, int]:
    async with store.unit() as uow:
        return {k: n for k, n in (await uow.entity_counts.of_account(account_id)).items() if n}


async def test_counts_follow_inserts_and_deletes(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        users = [rows.user(name=f"u{n}") for n in range(3)]
        for user in users:
            await uow.users.add(user)
        await uow.users.add(rows.user("444455556666", name="elsewhere"))
        await uow.groups.add(group := rows.group("admins"))
        await uow.roles.add(rows.role("deployer"))
        await uow.policies.add(policy := rows.policy("read"))
        for v in ("v1", "v2"):
            await uow.policies.add_version(ManagedPolicyVersion(policy_arn=policy.arn, version_id=v, document="{}",
                                                                created_at=rows.NOW))
        await uow.instance_profiles.add(_profile(1))
    assert await _counts(store) == {"users": 3, "groups": 1, "roles": 1, "policies": 1, "policy_versions": 2,
                                    "instance_profiles": 1}
    assert await _counts(store, "444455556666") == {"users": 1}
    with pytest.raises(RuntimeError):
        async with store.unit() as uow:
            await uow.users.add(rows.user(name="rolled-back"))
            raise RuntimeError("the unit fails")
    async with store.unit() as uow:
        await uow.users.delete(users[0])
        await uow.groups.delete(group)
        found = await uow.policies.get(policy.arn)
        assert found is not None
        await uow.policies.delete(found)
    assert await _counts(store) == {"users": 2, "roles": 1, "instance_profiles": 1}


async def test_the_instance_profile_quota_holds_under_concurrent_creations(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        assert await uow.instance_profiles.add(_profile(1), limit=3)
        assert await uow.instance_profiles.add(_profile(2), limit=3)

    async def create(n: int) -> bool:
        async with store.unit() as uow:
            return await uow.instance_profiles.add(_profile(n), limit=3)

    results = await asyncio.gather(*(create(n) for n in range(3, 9)))
    assert sorted(results) == [False] * 5 + [True], "one free place, one creation"
    assert (await _counts(store))["instance_profiles"] == 3
    async with store.unit() as uow:
        assert await uow.instance_profiles.count_in_account(ACCT) == 3
