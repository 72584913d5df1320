"""Flows, recovery tokens and CAPTCHA answers: short-lived self-service state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..models import Captcha, FlowRecord, RecoveryToken
from .base import Repository, rowcount


class Flows(Repository):
    async def add(self, flow: FlowRecord) -> None:
        await self._add(flow)

    async def get(self, flow_id: str) -> FlowRecord | None:
        return await self.db.get(FlowRecord, flow_id)

    async def replace(self, flow_id: str, version: int, *, state: str, data: dict[str, Any],
                      expires_at: float) -> bool:
        """Compare-and-set: write the flow's new state when it is still at `version` (which then moves on by
        one); False when another request changed it first or it is gone."""
        result = await self.db.execute(
            update(FlowRecord)
            .where(FlowRecord.id == flow_id, FlowRecord.version == version)
            .values(state=state, data=data, expires_at=expires_at, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def of_kinds(self, kinds: Sequence[str], now: float) -> list[FlowRecord]:
        """The unexpired flows of these kinds (short-lived: a few per recent sign-in or sign-up)."""
        stmt = select(FlowRecord).where(FlowRecord.kind.in_(list(kinds)), FlowRecord.expires_at >= now)
        return list((await self.db.execute(stmt)).scalars().all())

    async def delete_ids(self, flow_ids: Sequence[str]) -> int:
        if not flow_ids:
            return 0
        return rowcount(await self.db.execute(delete(FlowRecord).where(FlowRecord.id.in_(list(flow_ids)))))

    async def purge_expired(self, now: float) -> None:
        await self.db.execute(delete(FlowRecord).where(FlowRecord.expires_at < now - 86400))


class RecoveryTokens(Repository):
    async def add(self, token: RecoveryToken) -> None:
        await self._add(token)

    async def get(self, token_hash: str) -> RecoveryToken | None:
        return await self.db.get(RecoveryToken, token_hash)

    async def created_since(self, account_id: str, since: float) -> int:
        """How many links were made for `account_id` since `since` (served by the account_id index)."""
        stmt = select(func.count()).select_from(RecoveryToken).where(
            RecoveryToken.account_id == account_id, RecoveryToken.created_at >= since)
        return int((await self.db.execute(stmt)).scalar_one())

    async def supersede(self, account_id: str, at: float) -> None:
        await self.db.execute(
            update(RecoveryToken)
            .where(RecoveryToken.account_id == account_id, RecoveryToken.used_at.is_(None))
            .values(used_at=at)
        )

    async def consume(self, token_hash: str, at: float) -> bool:
        result = await self.db.execute(
            update(RecoveryToken)
            .where(RecoveryToken.token_hash == token_hash, RecoveryToken.used_at.is_(None),
                   RecoveryToken.expires_at > at)
            .values(used_at=at)
        )
        return rowcount(result) > 0


class Captchas(Repository):
    """One challenge per browser. Both writes are single statements, so concurrent requests of one browser
    neither collide on the insert nor use one answer twice."""

    async def put(self, browser_hash: str, answer_sealed: str, expires_at: float) -> None:
        dialect = sqlite if self.db.get_bind().dialect.name == "sqlite" else postgresql
        new = dialect.insert(Captcha).values(browser_hash=browser_hash, answer_sealed=answer_sealed,
                                             expires_at=expires_at)
        await self.db.execute(new.on_conflict_do_update(index_elements=[Captcha.browser_hash], set_={
            "answer_sealed": new.excluded.answer_sealed, "expires_at": new.excluded.expires_at}))

    async def get(self, browser_hash: str) -> Captcha | None:
        return await self.db.get(Captcha, browser_hash)

    async def take(self, browser_hash: str) -> Captcha | None:
        """The challenge, deleted in the same statement: of requests racing for it, one gets it."""
        row = (await self.db.execute(
            delete(Captcha).where(Captcha.browser_hash == browser_hash)
            .returning(Captcha.answer_sealed, Captcha.expires_at)
            .execution_options(synchronize_session=False))).first()
        if row is None:
            return None
        return Captcha(browser_hash=browser_hash, answer_sealed=row[0], expires_at=row[1])
