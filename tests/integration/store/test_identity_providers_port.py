"""Contract: IAM identity providers on SQLite and PostgreSQL: OIDC providers found by ARN and by (account, URL),
SAML providers by ARN, listed by ARN and counted per account, one URL or name per account (another account may
use it), JSON lists kept in order, changes saved, deleted, gone with their account."""

from __future__ import annotations

import pytest

from integration.store import rows
from vestibule.store.models import OidcProvider, SamlProvider
from vestibule.store.repositories import Conflict, Store

ACCT, OTHER = "111122223333", "444455556666"


@pytest.fixture
async def accounts(store: Store) -> Store:
    async with store.unit() as uow:
        await uow.accounts.add(rows.account())
        await uow.accounts.add(rows.account(OTHER, alias="other", email="other@example.com"))
    return store


def _oidc(provider_id: str, url: str, account_id: str = ACCT) -> OidcProvider:
    return OidcProvider(id=provider_id, account_id=account_id, url=url, issuer=f"https://{url}",
                        arn=f"arn:aws:iam::{account_id}:oidc-provider/{url}", client_ids=["b", "a"],
                        thumbprints=[], created_at=rows.NOW)


def _saml(provider_id: str, name: str, account_id: str = ACCT) -> SamlProvider:
    return SamlProvider(id=provider_id, account_id=account_id, name=name,
                        arn=f"arn:aws:iam::{account_id}:saml-provider/{name}", metadata_xml="<md/>",
                        uuid="U" * 26, entity_id="https://idp.example.com", valid_until=None, created_at=rows.NOW,
                        updated_at=rows.NOW)


async def test_oidc_providers(accounts: Store) -> None:
    store = accounts
    async with store.unit() as uow:
        await uow.oidc_providers.add(_oidc("OIDP2", "z.example.com"))
        await uow.oidc_providers.add(_oidc("OIDP1", "a.example.com/tenant"))
        await uow.oidc_providers.add(_oidc("OIDP3", "z.example.com", OTHER))
    async with store.unit() as uow:
        assert [p.id for p in await uow.oidc_providers.in_account(ACCT)] == ["OIDP1", "OIDP2"]
        assert await uow.oidc_providers.count_in_account(ACCT) == 2
        found = await uow.oidc_providers.by_arn(f"arn:aws:iam::{OTHER}:oidc-provider/z.example.com")
        assert found is not None and found.id == "OIDP3"
        by_url = await uow.oidc_providers.by_url(ACCT, "a.example.com/tenant")
        assert by_url is not None and by_url.client_ids == ["b", "a"]
        assert await uow.oidc_providers.by_url(ACCT, "A.example.com/tenant") is None  # exact match
        by_url.client_ids = [*by_url.client_ids, "c"]
        by_url.thumbprints = ["f" * 40]
        await uow.oidc_providers.save(by_url)
    async with store.unit() as uow:
        saved = await uow.oidc_providers.by_arn(f"arn:aws:iam::{ACCT}:oidc-provider/a.example.com/tenant")
        assert saved is not None and saved.client_ids == ["b", "a", "c"] and saved.thumbprints == ["f" * 40]
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.oidc_providers.add(_oidc("OIDP4", "z.example.com"))
    async with store.unit() as uow:
        gone = await uow.oidc_providers.by_url(ACCT, "z.example.com")
        assert gone is not None
        await uow.oidc_providers.delete(gone)
    async with store.unit() as uow:
        assert [p.id for p in await uow.oidc_providers.in_account(ACCT)] == ["OIDP1"]
        other = await uow.accounts.get(OTHER)
        assert other is not None
        await uow.db.delete(other)
    async with store.unit() as uow:
        assert await uow.oidc_providers.in_account(OTHER) == []


async def test_saml_providers(accounts: Store) -> None:
    store = accounts
    async with store.unit() as uow:
        await uow.saml_providers.add(_saml("SAMP2", "okta"))
        await uow.saml_providers.add(_saml("SAMP1", "adfs"))
        await uow.saml_providers.add(_saml("SAMP3", "okta", OTHER))
    async with store.unit() as uow:
        assert [p.id for p in await uow.saml_providers.in_account(ACCT)] == ["SAMP1", "SAMP2"]
        assert await uow.saml_providers.count_in_account(OTHER) == 1
        okta = await uow.saml_providers.by_arn(f"arn:aws:iam::{ACCT}:saml-provider/okta")
        assert okta is not None and okta.id == "SAMP2"
        okta.metadata_xml, okta.valid_until = "<md:EntityDescriptor/>", rows.NOW + 60
        await uow.saml_providers.save(okta)
    async with store.unit() as uow:
        okta = await uow.saml_providers.by_arn(f"arn:aws:iam::{ACCT}:saml-provider/okta")
        assert okta is not None and okta.metadata_xml == "<md:EntityDescriptor/>"
        assert okta.valid_until == rows.NOW + 60
    with pytest.raises(Conflict):
        async with store.unit() as uow:
            await uow.saml_providers.add(_saml("SAMP4", "okta"))
    async with store.unit() as uow:
        okta = await uow.saml_providers.by_arn(f"arn:aws:iam::{ACCT}:saml-provider/okta")
        assert okta is not None
        await uow.saml_providers.delete(okta)
    async with store.unit() as uow:
        assert [p.id for p in await uow.saml_providers.in_account(ACCT)] == ["SAMP1"]
        assert await uow.saml_providers.by_arn(f"arn:aws:iam::{ACCT}:saml-provider/okta") is None
