"""MFA devices: the console's enrolment and IAM virtual MFA share one table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update

from ...core.principals import PrincipalKind
from ..models import MfaDevice
from .base import Repository, rowcount
from .keyset import page_of

_DIRECTORY_USER = f"{PrincipalKind.DIRECTORY_USER.value}:"


class MfaDevices(Repository):
    async def add(self, device: MfaDevice) -> None:
        await self._add(device)

    async def enabled_for(self, principal_key: str) -> Sequence[MfaDevice]:
        stmt = (
            select(MfaDevice)
            .where(MfaDevice.principal_key == principal_key, MfaDevice.enabled_at.is_not(None))
            .order_by(MfaDevice.enabled_at)
        )
        return (await self.db.execute(stmt)).scalars().all()

    async def by_serial(self, serial: str) -> MfaDevice | None:
        return (await self.db.execute(select(MfaDevice).where(MfaDevice.serial == serial))).scalar_one_or_none()

    async def delete(self, device: MfaDevice) -> None:
        await self.db.delete(device)
        await self.db.flush()

    async def delete_all_for(self, principal_key: str) -> int:
        result = await self.db.execute(delete(MfaDevice).where(MfaDevice.principal_key == principal_key))
        return rowcount(result)

    async def mark_used(self, device_id: int, step: int, at: float) -> bool:
        """Record the time step (and the time `at`, the device's last use) atomically; False when another
        request used this or a later step."""
        stmt = (
            update(MfaDevice)
            .where(MfaDevice.id == device_id)
            .where((MfaDevice.last_used_step.is_(None)) | (MfaDevice.last_used_step < step))
            .values(last_used_step=step, last_used_at=at)
        )
        result = await self.db.execute(stmt)
        return rowcount(result) > 0


class VirtualMfa(Repository):
    async def in_account(self, account_id: str) -> Sequence[MfaDevice]:
        """The account's IAM devices (the root user's, IAM users', unassigned ones): not the devices its Identity
        Center users registered in the access portal, which are kept under the instance's account too."""
        stmt = (select(MfaDevice).where(MfaDevice.account_id == account_id)
                .where(MfaDevice.principal_key.is_(None) | ~MfaDevice.principal_key.startswith(_DIRECTORY_USER))
                .order_by(MfaDevice.serial))
        return (await self.db.execute(stmt)).scalars().all()

    async def page(self, account_id: str, assignment: str, after: Sequence[str] | None,
                   limit: int) -> Sequence[MfaDevice]:
        """Up to `limit + 1` of the account's IAM devices after the key (serial,), from ix_mfa_devices_account_serial;
        `assignment`: "Assigned", "Unassigned" or "Any"."""
        stmt = (select(MfaDevice).where(MfaDevice.account_id == account_id)
                .where(MfaDevice.principal_key.is_(None) | ~MfaDevice.principal_key.startswith(_DIRECTORY_USER)))
        if assignment == "Assigned":
            stmt = stmt.where(MfaDevice.principal_key.is_not(None))
        elif assignment == "Unassigned":
            stmt = stmt.where(MfaDevice.principal_key.is_(None))
        return (await self.db.execute(page_of(stmt, (MfaDevice.serial,), after, limit))).scalars().all()

    async def all_for(self, principal_key: str) -> Sequence[MfaDevice]:
        stmt = select(MfaDevice).where(MfaDevice.principal_key == principal_key).order_by(MfaDevice.serial)
        return (await self.db.execute(stmt)).scalars().all()
