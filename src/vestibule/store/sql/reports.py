"""IAM reports and account settings: the credential report of each account, report jobs, last access per
principal, service and action, and per-account settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..models import AccountSettings, CredentialReport, ReportJob, ServiceLastAccessed
from .base import Repository

_last = ServiceLastAccessed.__table__


@dataclass(frozen=True, slots=True)
class AccessNote:
    """One successful authorized call to remember: who, which service and action, when, signed for where."""

    principal_key: str
    account_id: str
    service: str
    action: str
    at: float
    region: str


class CredentialReports(Repository):
    async def get(self, account_id: str, *, lock: bool = False) -> CredentialReport | None:
        """`lock`: hold the row until the unit ends (a no-op UPDATE, which also takes SQLite's write lock), so
        two generations of one account's report are decided one after the other; the row is read afresh."""
        if lock:
            await self.db.execute(update(CredentialReport).where(CredentialReport.account_id == account_id)
                                  .values(account_id=CredentialReport.account_id)
                                  .execution_options(synchronize_session=False))
        stmt = (select(CredentialReport).where(CredentialReport.account_id == account_id)
                .execution_options(populate_existing=True))
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def ensure(self, account_id: str) -> None:
        """The account's row, made empty if it has none (one statement, so concurrent callers make one)."""
        dialect = sqlite if self.db.get_bind().dialect.name == "sqlite" else postgresql
        await self.db.execute(dialect.insert(CredentialReport).values(account_id=account_id)
                              .on_conflict_do_nothing(index_elements=[CredentialReport.__table__.c.account_id]))

    async def finish(self, account_id: str, content: str, at: float, started: float) -> bool:
        """Store the report built since `started`; False when another generation has taken over meanwhile."""
        result = await self.db.execute(
            update(CredentialReport)
            .where(CredentialReport.account_id == account_id, CredentialReport.generating_since == started)
            .values(content=content, generated_at=at, generating_since=None)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))


class ReportJobs(Repository):
    async def add(self, job: ReportJob) -> None:
        await self._add(job)

    async def get(self, job_id: str, account_id: str, kind: str) -> ReportJob | None:
        stmt = select(ReportJob).where(ReportJob.id == job_id, ReportJob.account_id == account_id,
                                       ReportJob.kind == kind)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def purge_before(self, account_id: str, before: float) -> None:
        await self.db.execute(sa.delete(ReportJob).where(ReportJob.account_id == account_id,
                                                         ReportJob.created_at < before))


class LastAccessed(Repository):
    async def note(self, notes: Sequence[AccessNote]) -> None:
        """Remember the calls in one statement (executed for many rows at once); a row only moves forward."""
        if not notes:
            return
        dialect = sqlite if self.db.get_bind().dialect.name == "sqlite" else postgresql
        ordered = sorted(notes, key=lambda n: (n.principal_key, n.service, n.action))  # one lock order per node
        rows = [{"principal_key": n.principal_key, "service": n.service, "action": n.action,
                 "account_id": n.account_id, "last_at": n.at, "region": n.region} for n in ordered]
        new = dialect.insert(ServiceLastAccessed)
        await self.db.execute(new.on_conflict_do_update(
            index_elements=[_last.c.principal_key, _last.c.service, _last.c.action],
            set_={"last_at": new.excluded.last_at, "region": new.excluded.region},
            where=new.excluded.last_at > _last.c.last_at), rows)

    async def of(self, principal_keys: Sequence[str], *, since: float) -> Sequence[ServiceLastAccessed]:
        """Every action these principals called since `since`, newest first."""
        if not principal_keys:
            return []
        stmt = (select(ServiceLastAccessed)
                .where(ServiceLastAccessed.principal_key.in_(list(principal_keys)),
                       ServiceLastAccessed.last_at >= since)
                .order_by(ServiceLastAccessed.last_at.desc()))
        return (await self.db.execute(stmt)).scalars().all()


class AccountSettingsRows(Repository):
    async def get(self, account_id: str) -> AccountSettings | None:
        return await self.db.get(AccountSettings, account_id)

    async def set_token_version(self, account_id: str, version: int) -> None:
        dialect = sqlite if self.db.get_bind().dialect.name == "sqlite" else postgresql
        new = dialect.insert(AccountSettings).values(account_id=account_id, global_endpoint_token_version=version)
        await self.db.execute(new.on_conflict_do_update(
            index_elements=[AccountSettings.__table__.c.account_id],
            set_={"global_endpoint_token_version": new.excluded.global_endpoint_token_version}))
