"""Console credentials for the command line: authorization requests and codes, login sessions' data, refresh
tokens, the DPoP replay cache. Every single-use step (a decision, a code exchanged, a refresh token rotated, a
proof first seen) is one conditional UPDATE or one INSERT whose outcome says whether this caller won."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from ..models import Session
from ..models.cli_login import CliLogin, CliLoginGrant, CliLoginRefreshToken, DpopReplay
from .base import Repository, rowcount

PENDING, ALLOWED, DENIED, USED = "pending", "allowed", "denied", "used"


class CliLoginGrants(Repository):
    async def add(self, row: CliLoginGrant) -> None:
        await self._add(row)

    async def get(self, grant_id: str) -> CliLoginGrant | None:
        return await self.db.get(CliLoginGrant, grant_id)

    async def by_code(self, code_hash: str) -> CliLoginGrant | None:
        stmt = select(CliLoginGrant).where(CliLoginGrant.code_hash == code_hash)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def decide(self, grant_id: str, now: float, *, allowed: bool, approved_session_hash: str,
                     principal_key: str, account_id: str, code_hash: str | None, expires_at: float | None) -> bool:
        """Pending -> allowed (with its code) or denied, once, before it expires. True when this call decided."""
        values: dict[str, object] = dict(status=ALLOWED if allowed else DENIED, decided_at=now,
                                         approved_session_hash=approved_session_hash, principal_key=principal_key,
                                         account_id=account_id)
        if code_hash is not None:
            values["code_hash"] = code_hash
        if expires_at is not None:
            values["expires_at"] = expires_at
        stmt = (update(CliLoginGrant).where(CliLoginGrant.id == grant_id, CliLoginGrant.status == PENDING,
                                            CliLoginGrant.expires_at > now).values(**values))
        return rowcount(await self.db.execute(stmt)) == 1

    async def claim(self, grant_id: str, now: float) -> bool:
        """Allowed -> used, once, before its code expires. True when this call claimed it."""
        stmt = (update(CliLoginGrant).where(CliLoginGrant.id == grant_id, CliLoginGrant.status == ALLOWED,
                                            CliLoginGrant.expires_at > now).values(status=USED, used_at=now))
        return rowcount(await self.db.execute(stmt)) == 1

    async def session_of(self, grant_id: str) -> str | None:
        """The login session this grant's code created, as committed now (a fresh read past the identity map:
        after a lost claim, the winner's session)."""
        stmt = select(CliLoginGrant.session_hash).where(CliLoginGrant.id == grant_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def burn(self, grant_id: str, now: float) -> None:
        """A code presented with the wrong verifier or redirect URI: it can never be exchanged."""
        stmt = (update(CliLoginGrant).where(CliLoginGrant.id == grant_id,
                                            CliLoginGrant.status.in_((PENDING, ALLOWED)))
                .values(status=USED, used_at=now))
        await self.db.execute(stmt)

    async def link_session(self, grant_id: str, session_hash: str) -> None:
        """The login session this grant's code created (ended if the code is presented again)."""
        await self.db.execute(update(CliLoginGrant).where(CliLoginGrant.id == grant_id)
                              .values(session_hash=session_hash))

    async def delete_expired(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(CliLoginGrant).where(CliLoginGrant.expires_at < before)))


class CliLogins(Repository):
    async def add(self, row: CliLogin) -> None:
        await self._add(row)

    async def get(self, session_hash: str) -> CliLogin | None:
        return await self.db.get(CliLogin, session_hash)

    async def delete_orphans(self) -> int:
        """Rows whose login session the janitor has purged."""
        gone = ~select(Session.id_hash).where(Session.id_hash == CliLogin.session_hash).exists()
        return rowcount(await self.db.execute(delete(CliLogin).where(gone)))


class CliLoginRefreshTokens(Repository):
    async def add(self, row: CliLoginRefreshToken) -> None:
        await self._add(row)

    async def get(self, token_hash: str) -> CliLoginRefreshToken | None:
        return await self.db.get(CliLoginRefreshToken, token_hash)

    async def rotate(self, token_hash: str, now: float) -> bool:
        """A live, unused refresh token -> used, once. True when this call rotated it."""
        stmt = (update(CliLoginRefreshToken)
                .where(CliLoginRefreshToken.token_hash == token_hash, CliLoginRefreshToken.used_at.is_(None),
                       CliLoginRefreshToken.expires_at > now).values(used_at=now))
        return rowcount(await self.db.execute(stmt)) == 1

    async def delete_expired(self, before: float) -> int:
        stmt = delete(CliLoginRefreshToken).where(CliLoginRefreshToken.expires_at < before)
        return rowcount(await self.db.execute(stmt))


class DpopReplays(Repository):
    async def add(self, key: str, expires_at: float) -> None:
        """Records a proof as seen; Conflict when it was seen before (a replay), on any node."""
        await self._add(DpopReplay(key=key, expires_at=expires_at))

    async def delete_expired(self, before: float) -> int:
        return rowcount(await self.db.execute(delete(DpopReplay).where(DpopReplay.expires_at < before)))
