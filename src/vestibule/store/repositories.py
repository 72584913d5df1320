"""Repositories per aggregate, grouped in one unit of work (one transaction)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import (
    Account,
    AuditEvent,
    Captcha,
    FlowRecord,
    IamUser,
    KnownBrowser,
    MfaDevice,
    PasswordHistory,
    RecoveryToken,
    Session,
    ThrottleCounter,
)


def rowcount(result: object) -> int:
    """Rows an UPDATE or DELETE touched (the typed Result API does not declare it)."""
    return int(getattr(result, "rowcount", 0) or 0)


class Conflict(Exception):
    """A uniqueness rule was broken by a concurrent or repeated write."""


class _Repo:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def _add(self, obj: Any) -> None:
        self.db.add(obj)
        try:
            await self.db.flush()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None


class Accounts(_Repo):
    async def get(self, account_id: str) -> Account | None:
        return await self.db.get(Account, account_id)

    async def by_alias(self, alias: str) -> Account | None:
        return (await self.db.execute(select(Account).where(Account.alias == alias))).scalar_one_or_none()

    async def by_email(self, email: str) -> Account | None:
        return (await self.db.execute(select(Account).where(Account.root_email == email))).scalar_one_or_none()

    async def add(self, account: Account) -> None:
        await self._add(account)

    async def save(self) -> None:
        try:
            await self.db.flush()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None


class Users(_Repo):
    async def get(self, user_id: str) -> IamUser | None:
        return await self.db.get(IamUser, user_id)

    async def by_name(self, account_id: str, name: str) -> IamUser | None:
        stmt = select(IamUser).where(IamUser.account_id == account_id, IamUser.name_lower == name.lower())
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def add(self, user: IamUser) -> None:
        await self._add(user)

    async def note_password_use(self, user_id: str, at: float, rehashed: str | None = None) -> None:
        values: dict[str, object] = {"password_last_used_at": at}
        if rehashed is not None:
            values["password_hash"] = rehashed
        await self.db.execute(update(IamUser).where(IamUser.id == user_id).values(**values))

    async def list(self, account_id: str) -> Sequence[IamUser]:
        stmt = select(IamUser).where(IamUser.account_id == account_id).order_by(IamUser.name_lower)
        return (await self.db.execute(stmt)).scalars().all()


class PasswordHistories(_Repo):
    async def add(self, principal_key: str, password_hash: str, at: float) -> None:
        await self._add(PasswordHistory(principal_key=principal_key, password_hash=password_hash, created_at=at))

    async def recent(self, principal_key: str, limit: int) -> Sequence[str]:
        stmt = (
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.principal_key == principal_key)
            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
            .limit(limit)
        )
        return (await self.db.execute(stmt)).scalars().all()


class MfaDevices(_Repo):
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

    async def mark_used(self, device_id: int, step: int) -> bool:
        """Record the time step atomically; False when another request used this or a later step."""
        stmt = (
            update(MfaDevice)
            .where(MfaDevice.id == device_id)
            .where((MfaDevice.last_used_step.is_(None)) | (MfaDevice.last_used_step < step))
            .values(last_used_step=step)
        )
        result = await self.db.execute(stmt)
        return rowcount(result) > 0


class Sessions(_Repo):
    async def add(self, session: Session) -> None:
        await self._add(session)

    async def get(self, id_hash: str) -> Session | None:
        return await self.db.get(Session, id_hash)

    async def touch(self, id_hash: str, at: float) -> None:
        await self.db.execute(update(Session).where(Session.id_hash == id_hash).values(last_seen_at=at))

    async def revoke(self, id_hash: str, at: float) -> None:
        await self.db.execute(
            update(Session).where(Session.id_hash == id_hash, Session.revoked_at.is_(None)).values(revoked_at=at)
        )

    async def revoke_all(self, principal_key: str, at: float, keep: str | None = None) -> int:
        stmt = update(Session).where(Session.principal_key == principal_key, Session.revoked_at.is_(None))
        if keep:
            stmt = stmt.where(Session.id_hash != keep)
        result = await self.db.execute(stmt.values(revoked_at=at))
        return rowcount(result)

    async def active_for(self, principal_key: str, now: float) -> Sequence[Session]:
        stmt = (
            select(Session)
            .where(Session.principal_key == principal_key, Session.revoked_at.is_(None), Session.expires_at > now)
            .order_by(Session.created_at.desc())
        )
        return (await self.db.execute(stmt)).scalars().all()


class Flows(_Repo):
    async def add(self, flow: FlowRecord) -> None:
        await self._add(flow)

    async def get(self, flow_id: str) -> FlowRecord | None:
        return await self.db.get(FlowRecord, flow_id)

    async def save(self, flow: FlowRecord) -> None:
        await self.db.flush()

    async def purge_expired(self, now: float) -> None:
        await self.db.execute(delete(FlowRecord).where(FlowRecord.expires_at < now - 86400))


class RecoveryTokens(_Repo):
    async def add(self, token: RecoveryToken) -> None:
        await self._add(token)

    async def get(self, token_hash: str) -> RecoveryToken | None:
        return await self.db.get(RecoveryToken, token_hash)

    async def supersede(self, account_id: str, at: float) -> None:
        await self.db.execute(
            update(RecoveryToken)
            .where(RecoveryToken.account_id == account_id, RecoveryToken.used_at.is_(None))
            .values(used_at=at)
        )

    async def consume(self, token_hash: str, at: float) -> bool:
        result = await self.db.execute(
            update(RecoveryToken)
            .where(RecoveryToken.token_hash == token_hash, RecoveryToken.used_at.is_(None), RecoveryToken.expires_at > at)
            .values(used_at=at)
        )
        return rowcount(result) > 0


class Browsers(_Repo):
    async def known(self, principal_key: str, browser_hash: str) -> bool:
        return await self.db.get(KnownBrowser, (principal_key, browser_hash)) is not None

    async def remember(self, principal_key: str, browser_hash: str, at: float) -> None:
        row = await self.db.get(KnownBrowser, (principal_key, browser_hash))
        if row is None:
            await self._add(KnownBrowser(principal_key=principal_key, browser_hash=browser_hash, first_seen_at=at, last_seen_at=at))
        else:
            row.last_seen_at = at
            await self.db.flush()


class Captchas(_Repo):
    async def put(self, browser_hash: str, answer_sealed: str, expires_at: float) -> None:
        row = await self.db.get(Captcha, browser_hash)
        if row is None:
            await self._add(Captcha(browser_hash=browser_hash, answer_sealed=answer_sealed, expires_at=expires_at))
        else:
            row.answer_sealed = answer_sealed
            row.expires_at = expires_at
            await self.db.flush()

    async def get(self, browser_hash: str) -> Captcha | None:
        return await self.db.get(Captcha, browser_hash)

    async def take(self, browser_hash: str) -> Captcha | None:
        row = await self.db.get(Captcha, browser_hash)
        if row is not None:
            await self.db.delete(row)
            await self.db.flush()
        return row


class ThrottleCounters(_Repo):
    async def get_many(self, keys: Sequence[str]) -> dict[str, ThrottleCounter]:
        stmt = select(ThrottleCounter).where(ThrottleCounter.key.in_(list(keys)))
        return {row.key: row for row in (await self.db.execute(stmt)).scalars().all()}

    async def fail(self, key: str, at: float, window: float) -> None:
        row = await self.db.get(ThrottleCounter, key, with_for_update=True)
        if row is None:
            await self._add(ThrottleCounter(key=key, failures=1, last_failure_at=at))
        elif at - row.last_failure_at > window:
            row.failures = 1
            row.last_failure_at = at
        else:
            row.failures += 1
            row.last_failure_at = at
        await self.db.flush()

    async def reset(self, keys: Sequence[str]) -> None:
        await self.db.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(list(keys))))


class AuditEvents(_Repo):
    async def add(self, event: AuditEvent) -> None:
        self.db.add(event)
        await self.db.flush()

    async def for_account(self, account_id: str, limit: int = 1000) -> Sequence[AuditEvent]:
        stmt = select(AuditEvent).where(AuditEvent.account_id == account_id).order_by(AuditEvent.at, AuditEvent.id).limit(limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def count(self) -> int:
        return int((await self.db.execute(select(func.count(AuditEvent.id)))).scalar_one())


class UnitOfWork:
    """One transaction and the repositories that work inside it."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self.accounts = Accounts(db)
        self.users = Users(db)
        self.password_history = PasswordHistories(db)
        self.mfa = MfaDevices(db)
        self.sessions = Sessions(db)
        self.flows = Flows(db)
        self.recovery = RecoveryTokens(db)
        self.browsers = Browsers(db)
        self.captchas = Captchas(db)
        self.throttle = ThrottleCounters(db)
        self.audit = AuditEvents(db)
        from .iam_repositories import (
            AccessKeys,
            Groups,
            Policies,
            Roles,
            Tags,
            TemporaryCredentials,
            VirtualMfa,
        )

        self.access_keys = AccessKeys(db)
        self.temp_credentials = TemporaryCredentials(db)
        self.groups = Groups(db)
        self.roles = Roles(db)
        self.policies = Policies(db)
        self.tags = Tags(db)
        self.virtual_mfa = VirtualMfa(db)

    async def commit(self) -> None:
        try:
            await self.db.commit()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None


class Store:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitOfWork]:
        """Commit when the block ends normally, roll back when it raises."""
        async with self._sessionmaker() as db:
            uow = UnitOfWork(db)
            try:
                yield uow
                await uow.commit()
            except BaseException:
                await db.rollback()
                raise
