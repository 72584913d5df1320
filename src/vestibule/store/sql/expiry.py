"""Rows past their useful life, for the janitor: each method deletes at most `limit` rows that ended before
`before`, the oldest first, in one statement (`DELETE ... WHERE key IN (SELECT key ... ORDER BY <expiry> LIMIT
n)`, read from the index on the expiry column), so one transaction stays short however much has piled up; the
janitor calls again until a call deletes fewer than `limit`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, delete, inspect, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from ..models import (
    AuditEvent,
    Captcha,
    CliLoginGrant,
    CliLoginRefreshToken,
    DpopReplay,
    FederationFailureRecord,
    FederationSigninToken,
    FlowRecord,
    OidcGrant,
    OidcToken,
    OutboxMail,
    ProfileExport,
    ProfileTrustedBrowser,
    RecoveryToken,
    RootEmailChange,
    SamlAssertionUse,
    Session,
    TemporaryCredential,
    ThrottleCounter,
)
from ..models.base import Base
from .base import Repository, rowcount

BATCH = 1000
Ended = InstrumentedAttribute[float] | InstrumentedAttribute[float | None]


class ExpiredRows(Repository):
    async def _oldest(self, model: type[Base], ended: Ended, before: float, limit: int,
                      *order: InstrumentedAttribute[int]) -> int:
        key = inspect(model).primary_key[0]
        oldest = select(key).where(ended < before).order_by(ended, *order).limit(limit)
        stmt = delete(model).where(key.in_(oldest.scalar_subquery())).execution_options(synchronize_session=False)
        return rowcount(await self.db.execute(stmt))

    async def flows(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(FlowRecord, FlowRecord.expires_at, before, limit)

    async def captchas(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(Captcha, Captcha.expires_at, before, limit)

    async def temporary_credentials(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(TemporaryCredential, TemporaryCredential.expires_at, before, limit)

    async def sessions(self, before: float, limit: int = BATCH) -> int:
        """Sessions past their absolute limit, or revoked, before `before` (up to `limit` of each)."""
        return (await self._oldest(Session, Session.expires_at, before, limit)
                + await self._oldest(Session, Session.revoked_at, before, limit))

    async def recovery_tokens(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(RecoveryToken, RecoveryToken.expires_at, before, limit)

    async def federation_signin_tokens(self, before: float, limit: int = BATCH) -> int:
        """The federation endpoint's sign-in tokens (used or not) past their 15 minutes."""
        return await self._oldest(FederationSigninToken, FederationSigninToken.expires_at, before, limit)

    async def root_email_changes(self, before: float, limit: int = BATCH) -> int:
        """Root email changes whose undo link expired before `before` (the audit events keep the history)."""
        return await self._oldest(RootEmailChange, RootEmailChange.expires_at, before, limit)

    async def profile_trusted_browsers(self, before: float, limit: int = BATCH) -> int:
        """Personal profiles' trusted browsers whose trust ended before `before`."""
        return await self._oldest(ProfileTrustedBrowser, ProfileTrustedBrowser.expires_at, before, limit)

    async def profile_exports(self, before: float, limit: int = BATCH) -> int:
        """Profile data exports (and their content) past their download window."""
        return await self._oldest(ProfileExport, ProfileExport.expires_at, before, limit)

    async def audit_events(self, before: float, limit: int = BATCH) -> int:
        """Audit events recorded before `before` (the retention), oldest first (`ix_audit_events_at`)."""
        return await self._oldest(AuditEvent, AuditEvent.at, before, limit, AuditEvent.id)

    async def federation_failures(self, before: float, limit: int = BATCH) -> int:
        """Federated sign-in failures past the audit retention (their `expires_at`; None: kept for ever)."""
        return await self._oldest(FederationFailureRecord, FederationFailureRecord.expires_at, before, limit)

    async def oidc_grants(self, before: float, limit: int = BATCH) -> int:
        """CLI sign-in (SSO-OIDC) device and code grants past their expiry."""
        return await self._oldest(OidcGrant, OidcGrant.expires_at, before, limit)

    async def oidc_tokens(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(OidcToken, OidcToken.expires_at, before, limit)

    async def cli_login_grants(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(CliLoginGrant, CliLoginGrant.expires_at, before, limit)

    async def cli_login_refresh_tokens(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(CliLoginRefreshToken, CliLoginRefreshToken.expires_at, before, limit)

    async def dpop_replays(self, before: float, limit: int = BATCH) -> int:
        return await self._oldest(DpopReplay, DpopReplay.expires_at, before, limit)

    async def saml_assertion_uses(self, before: float, limit: int = BATCH) -> int:
        """Used SAML assertion IDs whose assertion expired before `before` (a replay then fails as expired)."""
        return await self._oldest(SamlAssertionUse, SamlAssertionUse.expires_at, before, limit)

    async def oldest_events(self, before: float, limit: int) -> Sequence[AuditEvent]:
        """The oldest `limit` audit events recorded before `before`, in (at, id) order (for the archive)."""
        stmt = (select(AuditEvent).where(AuditEvent.at < before).order_by(AuditEvent.at, AuditEvent.id)
                .limit(limit))
        return (await self.db.execute(stmt)).scalars().all()

    async def event_at(self, event_id: int) -> float | None:
        return (await self.db.execute(select(AuditEvent.at).where(AuditEvent.id == event_id))).scalar_one_or_none()

    async def events_through(self, before: float, at: float, event_id: int, limit: int) -> int:
        """Delete up to `limit` events recorded before `before` whose (at, id) is at most (at, event_id)."""
        through = or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id <= event_id))
        oldest = (select(AuditEvent.id).where(AuditEvent.at < before, through)
                  .order_by(AuditEvent.at, AuditEvent.id).limit(limit))
        stmt = (delete(AuditEvent).where(AuditEvent.id.in_(oldest.scalar_subquery()))
                .execution_options(synchronize_session=False))
        return rowcount(await self.db.execute(stmt))

    async def delete_events(self, event_ids: Sequence[int]) -> int:
        stmt = (delete(AuditEvent).where(AuditEvent.id.in_(list(event_ids)))
                .execution_options(synchronize_session=False))
        return rowcount(await self.db.execute(stmt))

    async def throttle_counters(self, before: float, limit: int = BATCH) -> int:
        """Counters whose last failure is older than `before` (their window has closed).

        A guess locks its counter rows in key order; a plain bulk delete would lock them in whatever order it
        scans and could deadlock with a guess on two stale keys. So on PostgreSQL the rows are picked in key
        order and a row a guess holds is skipped (`FOR UPDATE SKIP LOCKED`; the next round takes it). SQLite
        has one writer at a time and ignores the clause."""
        stale = (select(ThrottleCounter.key).where(ThrottleCounter.last_failure_at < before)
                 .order_by(ThrottleCounter.key).limit(limit).with_for_update(skip_locked=True))
        stmt = delete(ThrottleCounter).where(ThrottleCounter.key.in_(stale.scalar_subquery()))
        return rowcount(await self.db.execute(stmt))

    async def mail(self, before: float, limit: int = BATCH) -> int:
        """Outbox rows sent, failed or dropped before `before` (pending rows stay until they finish)."""
        return await self._oldest(OutboxMail, OutboxMail.finished_at, before, limit)
