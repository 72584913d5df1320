"""Contract: server certificates on SQLite and PostgreSQL: found by name whatever its case, listed by name,
counted, renamed, deleted, one name per account (case-insensitively), gone with their account."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.models import ServerCertificate
from vestibule.store.repositories import Conflict, Store

ACCT, OTHER = "111122223333", "444455556666"


@pytest.fixture
async def accounts(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.accounts.add(rows.account(OTHER, alias="other", email="other@example.com"))
    return store


def _certificate(certificate_id: str, name: str, account_id: str = ACCT) -> ServerCertificate:
    return ServerCertificate(id=certificate_id, account_id=account_id, name=name, name_lower=name.lower(), path="/",
                             body="-----BEGIN CERTIFICATE-----", chain=None, expires_at=rows.NOW + 86400,
                             uploaded_at=rows.NOW)


async def test_server_certificates(accounts: Store) -> None:
    store = accounts
    async with store.unit() as uow:
        await uow.server_certificates.add(_certificate("ASCA2", "Web"))
        await uow.server_certificates.add(_certificate("ASCA1", "api"))
        await uow.server_certificates.add(_certificate("ASCA3", "web", OTHER))  # another account may use the name
    async with store.unit() as uow:
        assert [c.id for c in await uow.server_certificates.in_account(ACCT)] == ["ASCA1", "ASCA2"]
        found = await uow.server_certificates.by_name(ACCT, "WEB")
        assert found is not None and found.id == "ASCA2"
        assert await uow.server_certificates.by_name(ACCT, "none") is None
        assert await uow.server_certificates.count_in_account(ACCT) == 2
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.server_certificates.add(_certificate("ASCA4", "API"))
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            web = await uow.server_certificates.by_name(ACCT, "web")
            assert web is not None
            await uow.server_certificates.rename(web, "Api", "/x/")
    async with store.unit() as uow:
        web = await uow.server_certificates.by_name(ACCT, "web")
        assert web is not None
        await uow.server_certificates.rename(web, "www", "/x/")
    async with store.unit() as uow:
        moved = await uow.server_certificates.by_name(ACCT, "www")
        assert moved is not None and moved.id == "ASCA2" and moved.path == "/x/"
        await uow.server_certificates.delete(moved)
    async with store.unit() as uow:
        assert [c.id for c in await uow.server_certificates.in_account(ACCT)] == ["ASCA1"]
        acct = await uow.accounts.get(OTHER)
        assert acct is not None
        await uow.db.delete(acct)
    async with store.unit() as uow:
        assert await uow.server_certificates.in_account(OTHER) == []
