"""Contract: accounts, IAM users, password history, MFA devices."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.repositories import Conflict, Store


async def test_accounts_by_id_alias_and_email_and_save(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    async with store.unit() as uow:
        by_alias = await uow.accounts.by_alias("acme")
        by_email = await uow.accounts.by_email("owner@example.com")
        assert by_alias is not None and by_email is not None and by_alias.id == by_email.id == "111122223333"
        assert await uow.accounts.by_alias("nobody") is None
        by_alias.alias = "renamed"
        await uow.accounts.save()
    async with store.unit() as uow:
        await uow.accounts.add(rows.account("444455556666", alias="other", email="two@example.com"))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            taken = await uow.accounts.get("444455556666")
            assert taken is not None
            taken.alias = "renamed"
            await uow.accounts.save()
    async with store.unit() as uow:
        first = await uow.accounts.get("111122223333")
        assert first is not None and first.alias == "renamed"


async def test_users_by_name_ignore_case_and_list_in_name_order(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        bob, alice = rows.user(name="bob"), rows.user(name="Alice")
        await uow.users.add(bob)
        await uow.users.add(alice)
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.users.add(rows.user(name="ALICE"))
    async with store.unit() as uow:
        found = await uow.users.by_name("111122223333", "alice")
        assert found is not None and found.id == alice.id
        assert await uow.users.by_name("999999999999", "alice") is None
        assert [u.name for u in await uow.users.list("111122223333")] == ["Alice", "bob"]
        await uow.users.note_password_use(alice.id, rows.NOW + 5, rehashed="$argon2id$new")
        await uow.users.note_password_use(bob.id, rows.NOW + 6)
    async with store.unit() as uow:
        got_alice, got_bob = await uow.users.get(alice.id), await uow.users.get(bob.id)
        assert got_alice is not None and got_alice.password_last_used_at == rows.NOW + 5
        assert got_alice.password_hash == "$argon2id$new"
        assert got_bob is not None and got_bob.password_last_used_at == rows.NOW + 6 and got_bob.password_hash is None


async def test_password_history_newest_first_limited(store: Store) -> None:
    async with store.unit() as uow:
        for i in range(5):
            await uow.password_history.add("user:AIDA1", f"hash{i}", rows.NOW + i)
        await uow.password_history.add("user:AIDA2", "other", rows.NOW)
    async with store.unit() as uow:
        assert list(await uow.password_history.recent("user:AIDA1", 3)) == ["hash4", "hash3", "hash2"]
        assert list(await uow.password_history.recent("user:nobody", 3)) == []


async def test_mfa_devices_enabled_serial_steps_and_deletes(store: Store) -> None:
    serial = "arn:aws:iam::111122223333:mfa/phone"
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.mfa.add(rows.mfa_device(serial))
        await uow.mfa.add(rows.mfa_device("arn:aws:iam::111122223333:mfa/pending", enabled_at=None))
        await uow.mfa.add(rows.mfa_device("arn:aws:iam::111122223333:mfa/spare", principal_key=None, enabled_at=None))
        # an access portal user's device, kept under the instance's account: not one of the account's IAM devices
        await uow.mfa.add(rows.mfa_device("arn:aws:iam::111122223333:mfa/sso-0123456789-phone",
                                          principal_key="directory-user:AAECAwQFBgcICQoLDA0ODw"))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.mfa.add(rows.mfa_device(serial))
    async with store.unit() as uow:
        enabled = await uow.mfa.enabled_for("root:111122223333")
        assert [d.serial for d in enabled] == [serial]
        device = await uow.mfa.by_serial(serial)
        assert device is not None
        assert await uow.mfa.mark_used(device.id, 100, 3000.0) is True
        assert await uow.mfa.mark_used(device.id, 100, 3001.0) is False, "a step is used once"
        assert await uow.mfa.mark_used(device.id, 99, 3002.0) is False, "never an earlier step"
        assert await uow.mfa.mark_used(device.id, 101, 3030.0) is True
        assert [d.serial for d in await uow.virtual_mfa.in_account("111122223333")] == sorted(
            [serial, "arn:aws:iam::111122223333:mfa/pending", "arn:aws:iam::111122223333:mfa/spare"])
        assert len(await uow.virtual_mfa.all_for("root:111122223333")) == 2
    async with store.unit() as uow:
        device = await uow.mfa.by_serial(serial)
        assert device is not None and device.last_used_step == 101
        assert device.last_used_at == 3030.0, "the time of the last accepted step, not of a refused one"
        await uow.mfa.delete(device)
        assert await uow.mfa.delete_all_for("root:111122223333") == 1
    async with store.unit() as uow:
        remaining = await uow.virtual_mfa.in_account("111122223333")
        assert [d.serial for d in remaining] == ["arn:aws:iam::111122223333:mfa/spare"]
