"""Contract: SCIM tokens on SQLite and PostgreSQL: found by hash, listed per identity store in creation order,
revoked once (only in their own store), last use written at most once per interval, one row per hash."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.models import ScimToken
from vestibule.store.repositories import Conflict, Store

ACCT = "111122223333"
STORE, OTHER_STORE = "d-1234567890", "d-0987654321"


def _token(token_id: str, token_hash: str, store: str = STORE, created_at: float = rows.NOW) -> ScimToken:
    return ScimToken(id=token_id, identity_store_id=store, owner_account_id=ACCT, token_hash=token_hash,
                     created_at=created_at, expires_at=None, last_used_at=None, revoked_at=None)


async def test_scim_tokens(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.scim_tokens.add(_token("t2", "b" * 64, created_at=rows.NOW + 1))
        await uow.scim_tokens.add(_token("t1", "a" * 64))
        await uow.scim_tokens.add(_token("t3", "c" * 64, OTHER_STORE))
    async with store.unit() as uow:
        found = await uow.scim_tokens.by_hash("b" * 64)
        assert found is not None and found.id == "t2" and await uow.scim_tokens.by_hash("d" * 64) is None
        assert [t.id for t in await uow.scim_tokens.of_store(STORE)] == ["t1", "t2"]
        assert not await uow.scim_tokens.revoke(OTHER_STORE, "t1", rows.NOW)  # another store's token
        assert await uow.scim_tokens.revoke(STORE, "t1", rows.NOW + 5)
        assert not await uow.scim_tokens.revoke(STORE, "t1", rows.NOW + 6)  # once
        await uow.scim_tokens.note_use("t2", rows.NOW + 10, rows.NOW + 10 - 60)
        await uow.scim_tokens.note_use("t2", rows.NOW + 20, rows.NOW + 20 - 60)  # within the interval: kept
    async with store.unit() as uow:
        listed = {t.id: t for t in await uow.scim_tokens.of_store(STORE)}
        assert listed["t1"].revoked_at == rows.NOW + 5 and listed["t2"].last_used_at == rows.NOW + 10
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.scim_tokens.add(_token("t4", "a" * 64))
