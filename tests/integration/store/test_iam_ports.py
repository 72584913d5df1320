"""Contract: access keys, temporary credentials, groups, roles, policies, tags."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.repositories import Conflict, Store

NOW = rows.NOW
ACCT = "111122223333"


@pytest.fixture
async def account(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    return store


async def test_access_keys(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        await uow.access_keys.add(rows.access_key("AKIA0000000000000002", created_at=NOW + 1))
        await uow.access_keys.add(rows.access_key("AKIA0000000000000001", created_at=NOW))
        await uow.access_keys.add(rows.access_key("AKIA0000000000000003", "user:AIDA1"))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.access_keys.add(rows.access_key("AKIA0000000000000001"))
    async with store.unit() as uow:
        mine = await uow.access_keys.for_principal(f"root:{ACCT}")
        assert [k.id for k in mine] == ["AKIA0000000000000001", "AKIA0000000000000002"]
        assert await uow.access_keys.count_in_account(ACCT) == 3
        key = await uow.access_keys.get("AKIA0000000000000002")
        assert key is not None
        key.status = "Inactive"
    async with store.unit() as uow:
        key = await uow.access_keys.get("AKIA0000000000000002")
        assert key is not None and key.status == "Inactive"
        await uow.access_keys.delete(key)
    async with store.unit() as uow:
        assert await uow.access_keys.get("AKIA0000000000000002") is None
        assert await uow.access_keys.count_in_account(ACCT) == 2


async def test_temporary_credentials(store: Store) -> None:
    async with store.unit() as uow:
        await uow.temp_credentials.add(rows.temporary_credential("ASIA0000000000000001"))
        await uow.temp_credentials.add(rows.temporary_credential("ASIA0000000000000002", expires_at=NOW - 2 * 86400))
    async with store.unit() as uow:
        cred = await uow.temp_credentials.get("ASIA0000000000000001")
        assert cred is not None and cred.token_hash == "t" * 64 and cred.kind == "session"
        await uow.temp_credentials.purge_expired(NOW)
    async with store.unit() as uow:
        assert await uow.temp_credentials.get("ASIA0000000000000002") is None
        assert await uow.temp_credentials.get("ASIA0000000000000001") is not None


async def test_groups_and_members(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        admins, devs = rows.group("Admins"), rows.group("devs", "/eng/")
        alice, bob = rows.user(name="alice"), rows.user(name="bob")
        for row in (admins, devs):
            await uow.groups.add(row)
        for u in (alice, bob):
            await uow.users.add(u)
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.groups.add(rows.group("ADMINS"))
    async with store.unit() as uow:
        found = await uow.groups.by_name(ACCT, "admins")
        assert found is not None and found.id == admins.id
        assert [g.name for g in await uow.groups.list(ACCT)] == ["Admins", "devs"]
        assert [g.name for g in await uow.groups.list(ACCT, "/eng/")] == ["devs"]
        await uow.groups.add_member(admins.id, alice.id)
        await uow.groups.add_member(admins.id, alice.id)  # idempotent
        await uow.groups.add_member(admins.id, bob.id)
        await uow.groups.add_member(devs.id, alice.id)
    async with store.unit() as uow:
        assert [u.name for u in await uow.groups.members(admins.id)] == ["alice", "bob"]
        assert [g.name for g in await uow.groups.of_user(alice.id)] == ["Admins", "devs"]
        assert await uow.groups.remove_member(admins.id, bob.id) is True
        assert await uow.groups.remove_member(admins.id, bob.id) is False
        await uow.groups.remove_user_everywhere(alice.id)
    async with store.unit() as uow:
        assert list(await uow.groups.of_user(alice.id)) == []
        group = await uow.groups.by_name(ACCT, "devs")
        assert group is not None
        await uow.groups.delete(group)
    async with store.unit() as uow:
        assert await uow.groups.by_name(ACCT, "devs") is None


async def test_roles(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        deploy = rows.role("Deploy", "/ci/")
        await uow.roles.add(deploy)
        await uow.roles.add(rows.role("audit"))
    async with store.unit() as uow:
        found = await uow.roles.by_name(ACCT, "DEPLOY")
        assert found is not None and found.id == deploy.id and (await uow.roles.get(deploy.id)) is not None
        assert [r.name for r in await uow.roles.list(ACCT)] == ["audit", "Deploy"]
        assert [r.name for r in await uow.roles.list(ACCT, "/ci/")] == ["Deploy"]
        await uow.roles.delete(found)
    async with store.unit() as uow:
        assert await uow.roles.get(deploy.id) is None


async def test_policies_attachments_and_inline(account: Store) -> None:
    store = account
    managed = rows.policy("ReadOnly")
    async with store.unit() as uow:
        await uow.policies.add(managed)
        await uow.policies.add(rows.policy("Ops", "/ops/"))
        await uow.policies.attach(ACCT, managed.arn, "user", "AIDA1")
        await uow.policies.attach(ACCT, managed.arn, "user", "AIDA1")  # idempotent
        await uow.policies.attach(ACCT, managed.arn, "group", "AGPA1")
        await uow.policies.attach(ACCT, "arn:aws:iam::aws:policy/ReadOnlyAccess", "user", "AIDA1")
    async with store.unit() as uow:
        assert [p.name for p in await uow.policies.list(ACCT)] == ["Ops", "ReadOnly"]
        assert [p.name for p in await uow.policies.list(ACCT, "/ops/")] == ["Ops"]
        assert list(await uow.policies.attached_to("user", "AIDA1")) == sorted(
            [managed.arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"])
        assert await uow.policies.attachment_count(managed.arn, ACCT) == 2
        assert {(a.target_kind, a.target_id) for a in await uow.policies.attachments_of(managed.arn, ACCT)} == {
            ("user", "AIDA1"), ("group", "AGPA1")}
        assert await uow.policies.detach(managed.arn, "group", "AGPA1") is True
        assert await uow.policies.detach(managed.arn, "group", "AGPA1") is False
        await uow.policies.detach_all_from("user", "AIDA1")
        assert await uow.policies.attachment_count(managed.arn, ACCT) == 0
        await uow.policies.put_inline(ACCT, "role", "AROA1", "s3", '{"v": 1}')
        await uow.policies.put_inline(ACCT, "role", "AROA1", "s3", '{"v": 2}')
        await uow.policies.put_inline(ACCT, "role", "AROA1", "ec2", "{}")
    async with store.unit() as uow:
        inline = await uow.policies.get_inline("role", "AROA1", "s3")
        assert inline is not None and inline.document == '{"v": 2}'
        assert [p.name for p in await uow.policies.inline_of("role", "AROA1")] == ["ec2", "s3"]
        await uow.policies.delete_inline(inline)
        assert [p.name for p in await uow.policies.inline_of("role", "AROA1")] == ["ec2"]
        await uow.policies.delete_all_inline("role", "AROA1")
        assert list(await uow.policies.inline_of("role", "AROA1")) == []
        got = await uow.policies.get(managed.arn)
        assert got is not None
        await uow.policies.delete(got)
    async with store.unit() as uow:
        assert await uow.policies.get(managed.arn) is None


async def test_tags(store: Store) -> None:
    async with store.unit() as uow:
        await uow.tags.put("user", "AIDA1", "team", "red")
        await uow.tags.put("user", "AIDA1", "team", "blue")
        await uow.tags.put("user", "AIDA1", "cost", "7")
        await uow.tags.put("role", "AROA1", "team", "green")
    async with store.unit() as uow:
        assert [(t.key, t.value) for t in await uow.tags.of("user", "AIDA1")] == [("cost", "7"), ("team", "blue")]
        await uow.tags.remove("user", "AIDA1", ["cost", "absent"])
        assert [t.key for t in await uow.tags.of("user", "AIDA1")] == ["team"]
        await uow.tags.remove_all("user", "AIDA1")
        assert list(await uow.tags.of("user", "AIDA1")) == []
        assert [t.value for t in await uow.tags.of("role", "AROA1")] == ["green"]
