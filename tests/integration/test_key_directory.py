"""The per-process access-key cache: one lookup per key at a time, stale answers while refreshing,
`forget` applying at once, and key changes reaching it through the invalidation bus."""

from __future__ import annotations

import asyncio

from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts
from vestibule.services.aws_identity import KeyDirectory, KeyRecord
from vestibule.services.invalidation import ACCESS_KEY


async def _key(runtime: Runtime) -> str:
    async with runtime.deps.store.unit() as uow:
        created = await accounts.create_account(runtime.deps, uow, email="cache@example.com",
                                                password="root password 1")
        key = await access_keys.create(runtime.deps, uow, created.account_id, f"root:{created.account_id}")
    return key.access_key_id


class CountingDirectory(KeyDirectory):
    loads = 0

    async def _load(self, key_id: str) -> KeyRecord | None:
        self.loads += 1
        await asyncio.sleep(0.05)
        return await super()._load(key_id)


async def test_concurrent_misses_share_one_lookup(runtime: Runtime) -> None:
    key_id = await _key(runtime)
    directory = CountingDirectory(runtime.deps, ttl=0.2, max_stale=10)
    records = await asyncio.gather(*[directory.lookup(key_id) for _ in range(50)])
    assert directory.loads == 1 and all(r is not None and r.active for r in records)
    await asyncio.sleep(0.25)  # stale now: answered at once from the cache while one refresh runs
    again = await asyncio.gather(*[directory.lookup(key_id) for _ in range(50)])
    assert all(r is not None for r in again)
    await asyncio.sleep(0.1)
    assert directory.loads == 2


async def test_forget_applies_at_once(runtime: Runtime) -> None:
    key_id = await _key(runtime)
    directory = KeyDirectory(runtime.deps, ttl=3600)
    record = await directory.lookup(key_id)
    assert record is not None and record.active
    async with runtime.deps.store.unit() as uow:
        key = await uow.access_keys.get(key_id)
        assert key is not None
        key.status = "Inactive"
    cached = await directory.lookup(key_id)
    assert cached is not None and cached.active  # still the cached answer
    directory.forget(key_id)
    refreshed = await directory.lookup(key_id)
    assert refreshed is not None and not refreshed.active


async def test_deactivating_or_deleting_a_key_reaches_the_directory_through_the_bus(runtime: Runtime) -> None:
    """No caller calls `forget`: the access-key service publishes ("access-key", key ID) once committed and
    the directory, subscribed to the bus, forgets it."""
    key_id = await _key(runtime)
    directory = KeyDirectory(runtime.deps, ttl=3600)
    heard: list[str] = []
    runtime.deps.bus.subscribe(ACCESS_KEY, heard.append)
    record = await directory.lookup(key_id)
    assert record is not None and record.active
    owner = record.caller.principal_key
    async with runtime.deps.store.unit() as uow:
        await access_keys.set_status(runtime.deps, uow, key_id, owner, "Inactive")
        assert heard == []  # not before the commit: another node could re-read the old row
    assert heard == [key_id]
    refreshed = await directory.lookup(key_id)
    assert refreshed is not None and not refreshed.active
    async with runtime.deps.store.unit() as uow:
        await access_keys.delete(runtime.deps, uow, key_id, owner)
    assert heard == [key_id, key_id] and await directory.lookup(key_id) is None


async def test_a_change_that_rolls_back_publishes_nothing(runtime: Runtime) -> None:
    key_id = await _key(runtime)
    directory = KeyDirectory(runtime.deps, ttl=3600)
    heard: list[str] = []
    runtime.deps.bus.subscribe(ACCESS_KEY, heard.append)
    record = await directory.lookup(key_id)
    assert record is not None
    try:
        async with runtime.deps.store.unit() as uow:
            await access_keys.set_status(runtime.deps, uow, key_id, record.caller.principal_key, "Inactive")
            raise RuntimeError("abandon the change")
    except RuntimeError:
        pass
    assert heard == []
    cached = await directory.lookup(key_id)
    assert cached is not None and cached.active
