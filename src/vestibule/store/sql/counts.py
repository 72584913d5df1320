"""Maintained counts of an account's IAM entities: one row per (account, kind), moved by the repositories that
insert or delete the entity, in the same transaction, so reading a count is one primary-key lookup whatever the
account's size. A quota is checked by the increment itself (`UPDATE ... SET n = n + 1 WHERE n < :limit`), so two
concurrent creations cannot both pass the last free place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ...core.principals import PrincipalKind
from ..models import MfaDevice, WebAuthnCredential
from ..models.counts import EntityCount
from .base import Repository, rowcount

_table = EntityCount.__table__


async def moved(db: AsyncSession, account_id: str, kind: str, delta: int) -> None:
    """Add `delta` to the account's count of `kind` (one upsert)."""
    dialect = sqlite if db.get_bind().dialect.name == "sqlite" else postgresql
    new = dialect.insert(EntityCount).values(account_id=account_id, kind=kind, n=max(delta, 0))
    await db.execute(new.on_conflict_do_update(
        index_elements=[_table.c.account_id, _table.c.kind], set_={"n": EntityCount.n + delta}))


async def taken(db: AsyncSession, account_id: str, kind: str, limit: int) -> bool:
    """One more of `kind` unless the account already has `limit`: the check and the increment are one
    statement (the row is created first when missing)."""
    dialect = sqlite if db.get_bind().dialect.name == "sqlite" else postgresql
    await db.execute(dialect.insert(EntityCount).values(account_id=account_id, kind=kind, n=0)
                     .on_conflict_do_nothing(index_elements=[_table.c.account_id, _table.c.kind]))
    result = await db.execute(update(EntityCount).where(
        EntityCount.account_id == account_id, EntityCount.kind == kind, EntityCount.n < limit)
        .values(n=EntityCount.n + 1).execution_options(synchronize_session=False))
    return rowcount(result) == 1


@dataclass(frozen=True)
class MfaCounts:
    devices: int  # the account's IAM virtual MFA devices (assigned or not) and security keys
    in_use: int
    root: bool  # the root user has an enabled device or a security key


class EntityCounts(Repository):
    async def of_account(self, account_id: str) -> dict[str, int]:
        """Every maintained count of the account (a kind without a row counts 0)."""
        stmt = select(EntityCount.kind, EntityCount.n).where(EntityCount.account_id == account_id)
        return {kind: int(n) for kind, n in (await self.db.execute(stmt)).all()}

    async def mfa(self, account_id: str) -> MfaCounts:
        """Indexed counts (the account_id indexes) of the account's MFA devices: each user has at most 8, so
        these grow with the users that have one; not maintained counters yet."""
        root = f"root:{account_id}"
        iam = MfaDevice.principal_key.is_(None) | ~MfaDevice.principal_key.startswith(
            f"{PrincipalKind.DIRECTORY_USER.value}:")
        virtual = (await self.db.execute(select(func.count(), func.count(MfaDevice.principal_key)).where(
            MfaDevice.account_id == account_id, iam))).one()
        keys = int((await self.db.execute(select(func.count()).select_from(WebAuthnCredential).where(
            WebAuthnCredential.account_id == account_id, WebAuthnCredential.serial.is_not(None)))).scalar_one())
        root_device = (await self.db.execute(select(MfaDevice.id).where(
            MfaDevice.principal_key == root, MfaDevice.enabled_at.is_not(None)).limit(1))).first()
        root_key = (await self.db.execute(select(WebAuthnCredential.id).where(
            WebAuthnCredential.principal_key == root, WebAuthnCredential.serial.is_not(None)).limit(1))).first()
        return MfaCounts(devices=int(virtual[0]) + keys, in_use=int(virtual[1]) + keys,
                         root=root_device is not None or root_key is not None)

    async def add(self, account_id: str, kind: str, delta: int) -> None:
        """For bulk loads that insert rows without the repositories (a benchmark's directory)."""
        await moved(self.db, account_id, kind, delta)


KINDS = ("users", "groups", "roles", "policies", "policy_versions", "instance_profiles")
