"""Server certificates of an account, found by name (case-insensitively) and listed by name."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from ..models import ServerCertificate
from .base import Repository
from .keyset import page_of, starts_with


class ServerCertificates(Repository):
    async def add(self, certificate: ServerCertificate) -> None:
        await self._add(certificate)

    async def by_name(self, account_id: str, name: str) -> ServerCertificate | None:
        stmt = select(ServerCertificate).where(ServerCertificate.account_id == account_id,
                                               ServerCertificate.name_lower == name.lower())
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def in_account(self, account_id: str) -> Sequence[ServerCertificate]:
        stmt = (select(ServerCertificate).where(ServerCertificate.account_id == account_id)
                .order_by(ServerCertificate.name_lower))
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, path_prefix: str, after: Sequence[str] | None,
                   limit: int) -> Sequence[ServerCertificate]:
        """Up to `limit + 1` certificates under `path_prefix` after the key (name_lower, id)."""
        stmt = select(ServerCertificate).where(ServerCertificate.account_id == account_id,
                                               starts_with(ServerCertificate.path, path_prefix))
        stmt = page_of(stmt, (ServerCertificate.name_lower, ServerCertificate.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def count_in_account(self, account_id: str) -> int:
        stmt = select(func.count()).select_from(ServerCertificate).where(ServerCertificate.account_id == account_id)
        return int((await self.db.execute(stmt)).scalar_one())

    async def rename(self, certificate: ServerCertificate, name: str, path: str) -> None:
        certificate.name, certificate.name_lower, certificate.path = name, name.lower(), path
        await self._flush()

    async def delete(self, certificate: ServerCertificate) -> None:
        await self.db.delete(certificate)
        await self.db.flush()
