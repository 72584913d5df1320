"""The federation endpoint's sign-in tokens: stored by hash, spent once (compare-and-set), purged after expiry."""

from __future__ import annotations

from sqlalchemy import update

from ..models import FederationSigninToken
from .base import Repository, rowcount


class FederationSigninTokens(Repository):
    async def add(self, token: FederationSigninToken) -> None:
        await self._add(token)

    async def get(self, token_hash: str) -> FederationSigninToken | None:
        return await self.db.get(FederationSigninToken, token_hash)

    async def spend(self, token_hash: str, at: float) -> FederationSigninToken | None:
        """The token, marked used at `at`, when it was unused and unexpired; None otherwise (also to the loser
        of two concurrent spends)."""
        result = await self.db.execute(
            update(FederationSigninToken)
            .where(FederationSigninToken.token_hash == token_hash, FederationSigninToken.used_at.is_(None),
                   FederationSigninToken.expires_at > at)
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            return None
        return await self.db.get(FederationSigninToken, token_hash, populate_existing=True)
