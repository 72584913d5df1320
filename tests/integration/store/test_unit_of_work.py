"""The unit of work: one transaction, repositories built on first use, after-commit actions."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.repositories import Conflict, Store, UnitOfWork


async def test_repositories_are_built_on_first_use_and_kept(store: Store) -> None:
    async with store.unit() as uow:
        assert "accounts" not in vars(uow) and "access_keys" not in vars(uow)
        first = uow.accounts
        assert uow.accounts is first
        assert [name for name in ("accounts", "users", "access_keys") if name in vars(uow)] == ["accounts"]


async def test_commit_on_success_rollback_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.unit() as uow:
            await uow.accounts.add(rows.account())
            raise RuntimeError("boom")
    async with store.unit() as uow:
        assert await uow.accounts.get("111122223333") is None
        await uow.accounts.add(rows.account())
    async with store.unit() as uow:
        found = await uow.accounts.get("111122223333")
        assert found is not None and found.alias == "acme"


async def test_duplicate_unique_value_is_a_conflict(store: Store) -> None:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.accounts.add(rows.account("444455556666", alias="acme", email="other@example.com"))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.accounts.add(rows.account("444455556666", alias="other", email="owner@example.com"))


async def test_after_commit_runs_once_the_change_is_visible_and_never_after_a_rollback(store: Store) -> None:
    seen: list[str | None] = []

    async def read_back() -> None:
        async with store.unit() as other:
            account = await other.accounts.get("111122223333")
            seen.append(account.alias if account else None)

    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        uow.after_commit(read_back)
        assert seen == []
    assert seen == ["acme"]

    with pytest.raises(RuntimeError):
        async with store.unit() as uow:
            account = await uow.accounts.get("111122223333")
            assert account is not None
            account.alias = "renamed"
            uow.after_commit(read_back)
            raise RuntimeError("boom")
    assert seen == ["acme"]


def test_every_repository_is_a_lazy_attribute() -> None:
    from functools import cached_property

    names = [n for n, v in vars(UnitOfWork).items() if isinstance(v, cached_property)]
    assert {"accounts", "users", "password_history", "mfa", "virtual_mfa", "sessions", "browsers", "flows",
            "recovery", "captchas", "throttle", "audit", "access_keys", "temp_credentials", "groups", "roles",
            "policies", "tags", "expired"} <= set(names)
