"""Recovery codes of a root user: replaced all at once, each used once (a conditional UPDATE decides)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from ..models import RecoveryCode
from .base import Repository, rowcount


class RecoveryCodes(Repository):
    async def replace_all(self, account_id: str, principal_key: str, code_hashes: list[str], at: float) -> None:
        """Drop the principal's codes (used or not) and store these."""
        await self.db.execute(delete(RecoveryCode).where(RecoveryCode.principal_key == principal_key))
        self.db.add_all([RecoveryCode(account_id=account_id, principal_key=principal_key, code_hash=h,
                                      created_at=at) for h in code_hashes])
        await self.db.flush()

    async def delete_all(self, principal_key: str) -> int:
        result = await self.db.execute(delete(RecoveryCode).where(RecoveryCode.principal_key == principal_key))
        return rowcount(result)

    async def unused(self, principal_key: str) -> int:
        stmt = select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.principal_key == principal_key, RecoveryCode.used_at.is_(None))
        return int((await self.db.execute(stmt)).scalar_one())

    async def issued_at(self, principal_key: str) -> float | None:
        stmt = select(func.max(RecoveryCode.created_at)).where(RecoveryCode.principal_key == principal_key)
        value = (await self.db.execute(stmt)).scalar_one_or_none()
        return float(value) if value is not None else None

    async def use(self, principal_key: str, code_hash: str, at: float) -> bool:
        """Mark the code used; False when it is not the principal's or was used already (of two requests
        racing with one code, one wins)."""
        result = await self.db.execute(
            update(RecoveryCode)
            .where(RecoveryCode.principal_key == principal_key, RecoveryCode.code_hash == code_hash,
                   RecoveryCode.used_at.is_(None))
            .values(used_at=at)
        )
        return rowcount(result) > 0
