"""WebAuthn credentials of any principal (root users, IAM users, personal profiles)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update

from ..models import WebAuthnCredential
from .base import Repository, rowcount


class WebAuthnCredentials(Repository):
    async def add(self, credential: WebAuthnCredential) -> None:
        """Conflict when the credential ID (or serial) is registered already."""
        await self._add(credential)

    async def for_principal(self, principal_key: str) -> Sequence[WebAuthnCredential]:
        stmt = (select(WebAuthnCredential).where(WebAuthnCredential.principal_key == principal_key)
                .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id))
        return (await self.db.execute(stmt)).scalars().all()

    async def for_principals(self, principal_keys: Sequence[str]) -> set[str]:
        """The principals among these with at least one credential."""
        if not principal_keys:
            return set()
        stmt = (select(WebAuthnCredential.principal_key).distinct()
                .where(WebAuthnCredential.principal_key.in_(list(principal_keys))))
        return set((await self.db.execute(stmt)).scalars().all())

    async def in_account(self, account_id: str) -> Sequence[WebAuthnCredential]:
        """The account's IAM keys: not those its Identity Center users registered in the access portal (no serial)."""
        stmt = (select(WebAuthnCredential).where(WebAuthnCredential.account_id == account_id,
                                                 WebAuthnCredential.serial.is_not(None))
                .order_by(WebAuthnCredential.serial))
        return (await self.db.execute(stmt)).scalars().all()

    async def by_credential_id(self, credential_id: str) -> WebAuthnCredential | None:
        stmt = select(WebAuthnCredential).where(WebAuthnCredential.credential_id == credential_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_serial(self, serial: str) -> WebAuthnCredential | None:
        stmt = select(WebAuthnCredential).where(WebAuthnCredential.serial == serial)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_id(self, row_id: int) -> WebAuthnCredential | None:
        return await self.db.get(WebAuthnCredential, row_id)

    async def mark_used(self, row_id: int, previous_count: int, new_count: int, at: float) -> bool:
        """The counter moves from `previous_count` to `new_count` (compare-and-set: two assertions racing with one
        counter value cannot both pass); False when another request moved it first."""
        stmt = (update(WebAuthnCredential)
                .where(WebAuthnCredential.id == row_id, WebAuthnCredential.sign_count == previous_count)
                .values(sign_count=new_count, last_used_at=at))
        return rowcount(await self.db.execute(stmt)) > 0

    async def delete(self, credential: WebAuthnCredential) -> None:
        await self.db.delete(credential)
        await self.db.flush()

    async def delete_all_for(self, principal_key: str) -> int:
        stmt = delete(WebAuthnCredential).where(WebAuthnCredential.principal_key == principal_key)
        return rowcount(await self.db.execute(stmt))
