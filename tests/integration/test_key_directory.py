"""The per-process access-key cache: one lookup per key at a time, stale answers while refreshing,
and `forget` applying at once."""

from __future__ import annotations

import asyncio

from vestibule.runtime import Runtime
from vestibule.services import access_keys, accounts
from vestibule.services.aws_identity import KeyDirectory, KeyRecord


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
