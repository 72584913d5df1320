"""Wiring: settings -> engine, store, hasher, secret box, mailer, mail sender, throttle, invalidation bus, janitor."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from .core import breached_passwords
from .core.outbox import RetryPolicy
from .core.passwords import HashParameters, PasswordHasher
from .mail_templates import JinjaMailTemplates
from .services import keyring
from .services.context import Deps
from .services.invalidation import InvalidationBus
from .services.janitor import Janitor, JanitorPorts
from .services.mail import DevMailbox, Mailer, SmtpMailer
from .services.mail_sender import MailSender, SenderPorts
from .services.profiles import export as profile_export
from .services.throttling import DatabaseThrottle, RedisThrottle, Throttle
from .settings import Settings, SettingsError
from .store.database import make_engine, migrate, sessionmaker_for
from .store.redis import RedisChannel, RedisClient, RedisLease, connect
from .store.repositories import Store

log = logging.getLogger("vestibule")


def master_key_hex(settings: Settings) -> str:
    """The keyring text: `VESTIBULE_MASTER_KEY`, else `<data dir>/master.key`, created 0600 on first start (for a
    one-key keyring, the 64 hex digits of the key)."""
    return keyring.keyring_text(settings).strip()


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_user,
                          settings.smtp_password, settings.smtp_starttls)
    return DevMailbox()


@dataclass
class Runtime:
    """The assembled parts; `start()` begins the background work (invalidation listener, janitor, mail sender)."""

    deps: Deps
    engine: AsyncEngine
    janitor: Janitor | None = None
    redis: RedisClient | None = None
    mail_sender: MailSender | None = None
    _started: bool = field(default=False, repr=False)

    @property
    def bus(self) -> InvalidationBus:
        return self.deps.bus

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.deps.bus.start()
        if self.janitor is not None:
            self.janitor.start()
        if self.mail_sender is not None:
            self.mail_sender.start()

    async def close(self) -> None:
        if self.mail_sender is not None:
            await self.mail_sender.stop()
        if self.janitor is not None:
            await self.janitor.stop()
        await self.deps.bus.close()
        if isinstance(self.deps.throttle, RedisThrottle):
            await self.deps.throttle.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.deps.store.close()
        await self.engine.dispose()


async def build(settings: Settings, *, run_migrations: bool = True, mailer: Mailer | None = None,
                hasher: PasswordHasher | None = None) -> Runtime:
    runtime = assemble(settings, mailer=mailer, hasher=hasher)
    if run_migrations:
        await migrate(runtime.engine)
    return runtime


def assemble(settings: Settings, *, mailer: Mailer | None = None, hasher: PasswordHasher | None = None) -> Runtime:
    """Everything but the schema; connections open lazily inside the serving event loop."""
    try:  # settings.py checked it when it was read; it may have gone since
        breached = breached_passwords.checker(settings.breached_passwords_file)
    except breached_passwords.BreachedListError as exc:
        raise SettingsError(f"breached_passwords_file: {exc}") from None
    engine = make_engine(settings.effective_database_url)
    store = Store(sessionmaker_for(engine))
    redis = connect(settings.redis_url) if settings.redis_url else None
    throttle: Throttle = RedisThrottle(client=redis) if redis is not None else DatabaseThrottle(store)
    bus = InvalidationBus(RedisChannel(redis) if redis is not None else None)
    deps = Deps(
        settings=settings,
        store=store,
        hasher=hasher or PasswordHasher(HashParameters(settings.argon2_memory_kib, settings.argon2_time_cost,
                                                       settings.argon2_parallelism)),
        box=keyring.box(settings),
        mailer=mailer or make_mailer(settings),
        throttle=throttle,
        mail_templates=JinjaMailTemplates(),
        bus=bus,
        breached=breached,
    )
    janitor = Janitor(janitor_ports(deps, redis), settings.janitor_interval_seconds)
    return Runtime(deps, engine, janitor, redis, MailSender(sender_ports(deps)))


def sender_ports(deps: Deps) -> SenderPorts:
    """Wall-clock time, as the janitor: moving the application's clock must not make mail due or expire it."""
    s = deps.settings
    return SenderPorts(deps.store, deps.box, deps.mailer, deps.mail_bell,
                       RetryPolicy(s.mail_max_attempts, s.mail_retry_seconds, s.mail_retry_max_seconds),
                       poll_seconds=s.mail_poll_seconds,
                       jobs=(functools.partial(profile_export.prepare_pending, deps),))


def janitor_ports(deps: Deps, redis: RedisClient | None = None) -> JanitorPorts:
    """Wall-clock time, not `deps.clock`: moving the application's clock (tests do) must not purge."""
    return JanitorPorts(deps.store, time.time, float(deps.settings.janitor_retention_seconds),
                        RedisLease(redis) if redis is not None else None, deps.bus.node,
                        audit_retention_seconds=deps.settings.audit_retention_days * 86400.0)
