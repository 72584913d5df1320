"""Wiring: settings -> engine, store, hasher, secret box, mailer, throttle."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from .core.passwords import HashParameters, PasswordHasher
from .core.secretbox import SecretBox
from .services.context import Deps
from .services.mail import DevMailbox, Mailer, SmtpMailer
from .services.throttling import DatabaseThrottle, RedisThrottle, Throttle
from .settings import Settings
from .store.database import make_engine, migrate, sessionmaker_for
from .store.repositories import Store

log = logging.getLogger("vestibule")


def master_key_hex(settings: Settings) -> str:
    """`VESTIBULE_MASTER_KEY`, else `<data dir>/master.key`, created 0600 on first start."""
    if settings.master_key:
        return settings.master_key
    path = Path(settings.data_dir) / "master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        log.info("created master key %s", path)
    return path.read_text().strip()


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_user,
                          settings.smtp_password, settings.smtp_starttls)
    return DevMailbox()


@dataclass
class Runtime:
    deps: Deps
    engine: AsyncEngine

    async def close(self) -> None:
        if isinstance(self.deps.throttle, RedisThrottle):
            await self.deps.throttle.close()
        await self.engine.dispose()


async def build(settings: Settings, *, run_migrations: bool = True, mailer: Mailer | None = None,
                hasher: PasswordHasher | None = None) -> Runtime:
    runtime = assemble(settings, mailer=mailer, hasher=hasher)
    if run_migrations:
        await migrate(runtime.engine)
    return runtime


def assemble(settings: Settings, *, mailer: Mailer | None = None, hasher: PasswordHasher | None = None) -> Runtime:
    """Everything but the schema; connections open lazily inside the serving event loop."""
    engine = make_engine(settings.effective_database_url)
    store = Store(sessionmaker_for(engine))
    throttle: Throttle = RedisThrottle(settings.redis_url) if settings.redis_url else DatabaseThrottle(store)
    deps = Deps(
        settings=settings,
        store=store,
        hasher=hasher or PasswordHasher(HashParameters(settings.argon2_memory_kib, settings.argon2_time_cost,
                                                       settings.argon2_parallelism)),
        box=SecretBox.from_hex(master_key_hex(settings)),
        mailer=mailer or make_mailer(settings),
        throttle=throttle,
    )
    return Runtime(deps, engine)
