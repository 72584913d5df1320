"""SCIM bearer tokens: by the token's hash, by identity store, revocation and last use."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update

from ..models import ScimToken
from .base import Repository, rowcount


class ScimTokens(Repository):
    async def add(self, row: ScimToken) -> None:
        await self._add(row)

    async def by_hash(self, token_hash: str) -> ScimToken | None:
        stmt = select(ScimToken).where(ScimToken.token_hash == token_hash)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def of_store(self, identity_store_id: str) -> Sequence[ScimToken]:
        stmt = (select(ScimToken).where(ScimToken.identity_store_id == identity_store_id)
                .order_by(ScimToken.created_at, ScimToken.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def revoke(self, identity_store_id: str, token_id: str, now: float) -> bool:
        """True when the token existed in that store and was not revoked before."""
        stmt = (update(ScimToken).where(ScimToken.id == token_id, ScimToken.identity_store_id == identity_store_id,
                                        ScimToken.revoked_at.is_(None)).values(revoked_at=now))
        return rowcount(await self.db.execute(stmt)) > 0

    async def note_use(self, token_id: str, now: float, older_than: float) -> None:
        """Last use, written at most once per `now - older_than` seconds per token."""
        stmt = (update(ScimToken).where(ScimToken.id == token_id,
                                        or_(ScimToken.last_used_at.is_(None), ScimToken.last_used_at < older_than))
                .values(last_used_at=now))
        await self.db.execute(stmt)
