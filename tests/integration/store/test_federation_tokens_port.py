"""Contract: the federation endpoint's sign-in tokens on SQLite and PostgreSQL: one row per hash, spent once
(also when two units race for it), never after expiry, purged by the janitor's expired-rows port."""

from __future__ import annotations

import asyncio

import pytest

from integration.store import rows
from vestibule.store.models import FederationSigninToken
from vestibule.store.repositories import Conflict, Store


def _token(token_hash: str, expires_at: float = rows.NOW + 900) -> FederationSigninToken:
    return FederationSigninToken(token_hash=token_hash, credential_id="ASIAEXAMPLE000000001", session_seconds=3600,
                                 created_at=rows.NOW, expires_at=expires_at, used_at=None)


async def test_tokens_are_spent_once_and_not_after_expiry(store: Store) -> None:
    async with store.unit() as uow:
        await uow.federation_signin_tokens.add(_token("a" * 64))
        await uow.federation_signin_tokens.add(_token("b" * 64, expires_at=rows.NOW + 10))
    async with store.unit() as uow:
        assert await uow.federation_signin_tokens.spend("c" * 64, rows.NOW) is None  # unknown
        assert await uow.federation_signin_tokens.spend("b" * 64, rows.NOW + 10) is None  # expired (at its end)
        spent = await uow.federation_signin_tokens.spend("a" * 64, rows.NOW + 1)
        assert spent is not None and spent.used_at == rows.NOW + 1 and spent.session_seconds == 3600
        assert spent.credential_id == "ASIAEXAMPLE000000001"
        assert await uow.federation_signin_tokens.spend("a" * 64, rows.NOW + 2) is None  # once
    async with store.unit() as uow:
        kept = await uow.federation_signin_tokens.get("a" * 64)
        assert kept is not None and kept.used_at == rows.NOW + 1
        stale = await uow.federation_signin_tokens.get("b" * 64)
        assert stale is not None and stale.used_at is None
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.federation_signin_tokens.add(_token("a" * 64))


async def test_two_units_racing_for_one_token(store: Store) -> None:
    async with store.unit() as uow:
        await uow.federation_signin_tokens.add(_token("d" * 64))

    async def spend() -> bool:
        async with store.unit() as uow:
            return await uow.federation_signin_tokens.spend("d" * 64, rows.NOW + 1) is not None

    results = await asyncio.gather(*(spend() for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_expired_tokens_are_purged(store: Store) -> None:
    async with store.unit() as uow:
        await uow.federation_signin_tokens.add(_token("e" * 64, expires_at=rows.NOW + 100))
        await uow.federation_signin_tokens.add(_token("f" * 64, expires_at=rows.NOW + 900))
    async with store.unit() as uow:
        assert await uow.expired.federation_signin_tokens(rows.NOW + 500) == 1
    async with store.unit() as uow:
        assert await uow.federation_signin_tokens.get("e" * 64) is None
        assert await uow.federation_signin_tokens.get("f" * 64) is not None
