"""Purges rows past their use on a timer, so tables do not grow forever.

Expired rows are kept for a retention grace (a day by default) so that audits and "this link has
expired" answers still find them; audit events are kept for their own retention (365 days by default,
0: for ever). Deletes are idempotent and indexed, and run in batches of `batch` rows, each its own short
transaction, at most `max_batches` per table and round (what is left waits for the next round), so a
backlog never holds a long lock. Several nodes may run the janitor; with Redis configured a lease lets
only one node per interval do the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Protocol

from ..core.throttle import LONGEST_WINDOW_SECONDS
from ..store.repositories import ExpiredRows, Store

log = logging.getLogger("vestibule.janitor")
RETENTION_SECONDS = 86400.0
AUDIT_RETENTION_DAYS = 365
BATCH = 1000
MAX_BATCHES = 100


class Lease(Protocol):
    async def acquire(self, name: str, holder: str, seconds: float) -> bool: ...


@dataclass(frozen=True)
class JanitorPorts:
    store: Store
    clock: Callable[[], float]
    retention_seconds: float = RETENTION_SECONDS
    lease: Lease | None = None
    node: str = "local"
    audit_retention_seconds: float = AUDIT_RETENTION_DAYS * 86400.0  # 0: audit events are kept for ever
    batch: int = BATCH
    max_batches: int = MAX_BATCHES


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted per kind; `skipped` when another node held the lease for this round."""

    flows: int = 0
    captchas: int = 0
    temporary_credentials: int = 0
    sessions: int = 0
    recovery_tokens: int = 0
    throttle_counters: int = 0
    mail: int = 0  # outbox rows sent, failed or dropped before the retention
    sso_oidc: int = 0  # CLI sign-in grants and tokens past their expiry, clients past their secret's
    cli_login: int = 0  # `vestibule login` requests, refresh tokens and DPoP proofs past their expiry
    root_email_changes: int = 0  # undo links of root email changes past their 7 days
    profile_exports: int = 0  # personal profiles' data exports past their download window (at once: personal data)
    profile_trusted_browsers: int = 0  # profiles' trusted browsers past their trust
    federation_signin_tokens: int = 0  # the federation endpoint's sign-in tokens past their 15 minutes
    saml_assertion_uses: int = 0  # used SAML assertion IDs past their assertion's end
    audit_events: int = 0  # audit events older than the audit retention
    federation_failures: int = 0  # federated sign-in failures (by reference) past the audit retention
    skipped: bool = False

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "skipped")


async def run_once(ports: JanitorPorts, *, lease_seconds: float = 0.0) -> PurgeReport:
    """One purge round; with a lease, only when this node wins it for `lease_seconds`."""
    lease = ports.lease
    if lease is not None and lease_seconds > 0 and not await lease.acquire("janitor", ports.node, lease_seconds):
        return PurgeReport(skipped=True)
    now = ports.clock()
    cutoff = now - ports.retention_seconds

    async def purge(rows: Callable[[ExpiredRows, int], Awaitable[int]]) -> int:
        """Batches of one table, one short transaction each, until one comes back short."""
        deleted = 0
        for _ in range(ports.max_batches):
            async with ports.store.unit() as uow:
                done = await rows(uow.expired, ports.batch)
            deleted += done
            if done < ports.batch:
                break
        return deleted

    return PurgeReport(
        flows=await purge(lambda rows, n: rows.flows(cutoff, n)),
        captchas=await purge(lambda rows, n: rows.captchas(cutoff, n)),
        temporary_credentials=await purge(lambda rows, n: rows.temporary_credentials(cutoff, n)),
        sessions=await purge(lambda rows, n: rows.sessions(cutoff, n)),
        recovery_tokens=await purge(lambda rows, n: rows.recovery_tokens(cutoff, n)),
        throttle_counters=await purge(lambda rows, n: rows.throttle_counters(now - LONGEST_WINDOW_SECONDS, n)),
        mail=await purge(lambda rows, n: rows.mail(cutoff, n)),
        sso_oidc=await purge(lambda rows, n: rows.oidc_grants(cutoff, n))
        + await purge(lambda rows, n: rows.oidc_tokens(cutoff, n)) + await _purge_oidc_clients(ports.store, cutoff),
        cli_login=await purge(lambda rows, n: rows.cli_login_grants(cutoff, n))
        + await purge(lambda rows, n: rows.cli_login_refresh_tokens(cutoff, n))
        + await purge(lambda rows, n: rows.dpop_replays(now, n)) + await _purge_cli_logins(ports.store),
        root_email_changes=await purge(lambda rows, n: rows.root_email_changes(cutoff, n)),
        profile_exports=await purge(lambda rows, n: rows.profile_exports(now, n)),
        profile_trusted_browsers=await purge(lambda rows, n: rows.profile_trusted_browsers(cutoff, n)),
        federation_signin_tokens=await purge(lambda rows, n: rows.federation_signin_tokens(cutoff, n)),
        saml_assertion_uses=await purge(lambda rows, n: rows.saml_assertion_uses(now, n)),
        audit_events=await purge(lambda rows, n: rows.audit_events(now - ports.audit_retention_seconds, n))
        if ports.audit_retention_seconds > 0 else 0,
        federation_failures=await purge(lambda rows, n: rows.federation_failures(now, n)),
    )


async def _purge_oidc_clients(store: Store, cutoff: float) -> int:
    """Clients past their secret's expiry, with their grants and tokens (few: one per CLI registration)."""
    async with store.unit() as uow:
        return await uow.oidc_clients.delete_expired(cutoff)


async def _purge_cli_logins(store: Store) -> int:
    """Login data of purged sessions (`vestibule login`); DPoP proofs above go as soon as their `iat` is refused
    anyway (their expiry already lies past the proof's last acceptable moment)."""
    async with store.unit() as uow:
        return await uow.cli_logins.delete_orphans()


class Janitor:
    """Runs `run_once` every `interval` seconds (jittered, so nodes started together drift apart)."""

    def __init__(self, ports: JanitorPorts, interval: float) -> None:
        self._ports = ports
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="janitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        delay = min(self._interval, 60.0) * random.uniform(0.5, 1.0)
        while True:
            await asyncio.sleep(delay)
            try:
                report = await run_once(self._ports, lease_seconds=self._interval * 0.9)
            except Exception:
                log.exception("janitor round failed; trying again next round")
            else:
                if report.total:
                    log.info("janitor purged %s", {f.name: getattr(report, f.name) for f in fields(report)
                                                   if f.name != "skipped" and getattr(report, f.name)})
            delay = self._interval * random.uniform(0.9, 1.1)
