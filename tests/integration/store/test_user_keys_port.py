"""Contract: SSH public keys, signing certificates and service-specific credentials, on SQLite and PostgreSQL:
per-owner listings in upload order, lookups, deletes, and the uniqueness rules the use cases rely on (one
fingerprint per user, one certificate per account)."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.models import ServiceSpecificCredential, SigningCertificate, SshPublicKey
from vestibule.store.repositories import Conflict, Store

ACCT = "111122223333"
ALICE, BOB = "user:AIDA00000000000000001", "user:AIDA00000000000000002"


@pytest.fixture
async def account(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
    return store


def _ssh(key_id: str, owner: str, fingerprint: str, at: float) -> SshPublicKey:
    return SshPublicKey(id=key_id, account_id=ACCT, principal_key=owner, body="ssh-rsa AAAA", fingerprint=fingerprint,
                        status="Active", uploaded_at=at)


def _certificate(certificate_id: str, owner: str, digest: str, at: float) -> SigningCertificate:
    return SigningCertificate(id=certificate_id, account_id=ACCT, principal_key=owner, body="-----BEGIN",
                              der_sha256=digest, status="Active", uploaded_at=at)


def _credential(credential_id: str, owner: str, service: str, at: float) -> ServiceSpecificCredential:
    return ServiceSpecificCredential(id=credential_id, account_id=ACCT, principal_key=owner, service_name=service,
                                     service_user_name="alice-at-111122223333", secret_hash="h" * 64, status="Active",
                                     created_at=at)


async def test_ssh_public_keys(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        await uow.ssh_keys.add(_ssh("APKA2", ALICE, "f2", rows.NOW + 1))
        await uow.ssh_keys.add(_ssh("APKA1", ALICE, "f1", rows.NOW))
        await uow.ssh_keys.add(_ssh("APKA3", BOB, "f1", rows.NOW))  # another user may hold the same key
    async with store.unit() as uow:
        assert [k.id for k in await uow.ssh_keys.for_principal(ALICE)] == ["APKA1", "APKA2"]
        assert [k.id for k in await uow.ssh_keys.for_principal(BOB)] == ["APKA3"]
        found = await uow.ssh_keys.get("APKA2")
        assert found is not None and found.fingerprint == "f2"
        assert await uow.ssh_keys.get("APKA9") is None
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.ssh_keys.add(_ssh("APKA4", ALICE, "f1", rows.NOW + 2))
    async with store.unit() as uow:
        key = await uow.ssh_keys.get("APKA1")
        assert key is not None
        await uow.ssh_keys.delete(key)
    async with store.unit() as uow:
        assert [k.id for k in await uow.ssh_keys.for_principal(ALICE)] == ["APKA2"]


async def test_signing_certificates(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        await uow.signing_certificates.add(_certificate("C2", ALICE, "d2", rows.NOW + 1))
        await uow.signing_certificates.add(_certificate("C1", ALICE, "d1", rows.NOW))
        await uow.signing_certificates.add(_certificate("C3", "root:111122223333", "d3", rows.NOW))
    async with store.unit() as uow:
        assert [c.id for c in await uow.signing_certificates.for_principal(ALICE)] == ["C1", "C2"]
        found = await uow.signing_certificates.by_digest(ACCT, "d3")
        assert found is not None and found.id == "C3"
        assert await uow.signing_certificates.by_digest(ACCT, "d9") is None
    with pytest.raises(Conflict):  # one certificate belongs to one user of the account
        async with store.unit() as uow:
            await uow.signing_certificates.add(_certificate("C4", BOB, "d1", rows.NOW + 2))
    async with store.unit() as uow:
        certificate = await uow.signing_certificates.get("C2")
        assert certificate is not None
        await uow.signing_certificates.delete(certificate)
    async with store.unit() as uow:
        assert [c.id for c in await uow.signing_certificates.for_principal(ALICE)] == ["C1"]


async def test_service_specific_credentials(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        await uow.service_credentials.add(_credential("ACCA2", ALICE, "codecommit.amazonaws.com", rows.NOW + 1))
        await uow.service_credentials.add(_credential("ACCA1", ALICE, "cassandra.amazonaws.com", rows.NOW))
        await uow.service_credentials.add(_credential("ACCA3", BOB, "codecommit.amazonaws.com", rows.NOW + 2))
    async with store.unit() as uow:
        assert [c.id for c in await uow.service_credentials.for_principal(ALICE)] == ["ACCA1", "ACCA2"]
        assert [c.id for c in await uow.service_credentials.for_principal(
            ALICE, "codecommit.amazonaws.com")] == ["ACCA2"]
        assert [c.id for c in await uow.service_credentials.in_account(ACCT)] == ["ACCA1", "ACCA2", "ACCA3"]
        assert [c.id for c in await uow.service_credentials.in_account(
            ACCT, "codecommit.amazonaws.com")] == ["ACCA2", "ACCA3"]
        credential = await uow.service_credentials.get("ACCA3")
        assert credential is not None
        await uow.service_credentials.delete(credential)
    async with store.unit() as uow:
        assert await uow.service_credentials.get("ACCA3") is None
        assert await uow.service_credentials.in_account("999988887777") == []


async def test_rows_go_with_their_account(account: Store) -> None:
    store = account
    async with store.unit() as uow:
        await uow.ssh_keys.add(_ssh("APKA1", ALICE, "f1", rows.NOW))
        await uow.signing_certificates.add(_certificate("C1", ALICE, "d1", rows.NOW))
        await uow.service_credentials.add(_credential("ACCA1", ALICE, "codecommit.amazonaws.com", rows.NOW))
    async with store.unit() as uow:
        acct = await uow.accounts.get(ACCT)
        assert acct is not None
        await uow.db.delete(acct)
    async with store.unit() as uow:
        assert await uow.ssh_keys.for_principal(ALICE) == []
        assert await uow.signing_certificates.for_principal(ALICE) == []
        assert await uow.service_credentials.for_principal(ALICE) == []
