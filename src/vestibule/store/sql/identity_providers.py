"""IAM identity providers of an account: OIDC providers and SAML providers, found by ARN and listed by ARN."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from ..models import OidcProvider, SamlProvider
from .base import Repository


class OidcProviders(Repository):
    async def add(self, provider: OidcProvider) -> None:
        await self._add(provider)

    async def by_arn(self, arn: str) -> OidcProvider | None:
        stmt = select(OidcProvider).where(OidcProvider.arn == arn)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_url(self, account_id: str, url: str) -> OidcProvider | None:
        stmt = select(OidcProvider).where(OidcProvider.account_id == account_id, OidcProvider.url == url)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def in_account(self, account_id: str) -> Sequence[OidcProvider]:
        stmt = select(OidcProvider).where(OidcProvider.account_id == account_id).order_by(OidcProvider.arn)
        return (await self.db.execute(stmt)).scalars().all()

    async def count_in_account(self, account_id: str) -> int:
        stmt = select(func.count()).select_from(OidcProvider).where(OidcProvider.account_id == account_id)
        return int((await self.db.execute(stmt)).scalar_one())

    async def save(self, provider: OidcProvider) -> None:
        await self._flush()

    async def delete(self, provider: OidcProvider) -> None:
        await self.db.delete(provider)
        await self.db.flush()


class SamlProviders(Repository):
    async def add(self, provider: SamlProvider) -> None:
        await self._add(provider)

    async def by_arn(self, arn: str) -> SamlProvider | None:
        stmt = select(SamlProvider).where(SamlProvider.arn == arn)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def in_account(self, account_id: str) -> Sequence[SamlProvider]:
        stmt = select(SamlProvider).where(SamlProvider.account_id == account_id).order_by(SamlProvider.arn)
        return (await self.db.execute(stmt)).scalars().all()

    async def count_in_account(self, account_id: str) -> int:
        stmt = select(func.count()).select_from(SamlProvider).where(SamlProvider.account_id == account_id)
        return int((await self.db.execute(stmt)).scalar_one())

    async def save(self, provider: SamlProvider) -> None:
        await self._flush()

    async def delete(self, provider: SamlProvider) -> None:
        await self.db.delete(provider)
        await self.db.flush()
