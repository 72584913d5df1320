"""Master-key rotation: a new key made current, every sealed value re-sealed under it in small batches while the
nodes keep serving (compare-and-set per row), then the old key retired once no stored value uses it: kept in the
keyring as `retired:` (it opens, it never seals), because a write sealed under it before the nodes took the new key
may commit after the last pass. Key material is removed only by `vestibule master-key forget` (`forget`), refused
while a stored value uses the key, and then kept in a copy beside the key file.

Values handed to clients (pagination tokens, encoded authorization messages) are not stored, so they cannot be
re-sealed: those made under a retired key are refused as invalid, as an expired token is."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.outbox import body_context
from ..core.secretbox import Keyring, SecretBox, SecretBoxError, sealed_key_id
from ..settings import Settings
from ..store.repositories import Store
from ..store.sql.sealed import FLOW_PAYLOAD, SEALED_COLUMNS, SEALED_FLOW_FIELDS, SealedColumn, sealed_values
from . import keyring
from .mfa import sealing_context as mfa_context

# The sealing context of each registered column, from the row's fields (the same strings the use cases seal with).
COLUMN_CONTEXTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "mfa_devices.secret_sealed": lambda f: mfa_context(f["serial"]),
    "access_keys.secret_sealed": lambda f: f"access-key:{f['id']}",
    "temporary_credentials.secret_sealed": lambda f: f"temp-key:{f['id']}",
    "mail_outbox.body_sealed": lambda f: body_context(f["id"]),
    "outbound_web_identity.rsa_key_sealed": lambda f: f"outbound-federation:{f['account_id']}:RS256",
    "outbound_web_identity.ec_key_sealed": lambda f: f"outbound-federation:{f['account_id']}:ES384",
    "captchas.answer_sealed": lambda f: f"captcha:{f['browser_hash']}",
    "console_oidc_logins.client_secret_sealed": lambda f: f"console-oidc:{f['id']}",
    "sso_identity_sources.secret_sealed": lambda f: f"identity-source:{f['instance_arn']}",
}
# Flow payloads: the context from the flow's payload (services/credentials.py seals enrolment secrets this way).
FLOW_CONTEXTS: dict[tuple[str, str], Callable[[Mapping[str, Any]], str]] = {
    ("mfa_enrolment", "secret_sealed"): lambda d: f"enrol:{d['principal']}",
    ("oidc_signin", "verifier_sealed"): lambda d: f"oidc-signin:{d['nonce']}",
}
FLOWS_NAME = "flows.data"


@dataclass
class ResealReport:
    resealed: int = 0
    raced: int = 0  # a concurrent writer changed the row first: the next pass looks again
    unopenable: dict[str, int] = field(default_factory=dict)  # column -> values no known key opens

    def add(self, other: ResealReport) -> None:
        self.resealed += other.resealed
        self.raced += other.raced
        for name, n in other.unopenable.items():
            self.unopenable[name] = self.unopenable.get(name, 0) + n


async def _reseal_column(store: Store, box: SecretBox, where: SealedColumn, batch: int) -> ResealReport:
    report = ResealReport()
    context_of = COLUMN_CONTEXTS[where.name]
    after: Any = None
    while True:
        async with store.unit() as uow:
            repo = sealed_values(uow)
            rows = await repo.not_under(where, box.current_key_id, after, batch)
            for row in rows:
                context = context_of(row.fields)
                try:
                    plain = box.open(row.value, context)
                except SecretBoxError:
                    report.unopenable[where.name] = report.unopenable.get(where.name, 0) + 1
                    continue
                if await repo.replace(where, row.key, row.value, box.seal(plain, context)):
                    report.resealed += 1
                else:
                    report.raced += 1
        if len(rows) < batch:
            return report
        after = rows[-1].key
        await asyncio.sleep(0)  # let a serving loop (tests run one in-process) breathe between batches


def _payload(data: Mapping[str, Any]) -> dict[str, Any]:
    payload = data.get(FLOW_PAYLOAD)
    return dict(payload) if isinstance(payload, dict) else {}


async def _reseal_flows(store: Store, box: SecretBox, kind: str, data_key: str, batch: int) -> ResealReport:
    report = ResealReport()
    context_of = FLOW_CONTEXTS[(kind, data_key)]
    after: str | None = None
    while True:
        async with store.unit() as uow:
            repo = sealed_values(uow)
            flows = await repo.flows(kind, after, batch)
            for flow in flows:
                payload = _payload(flow.data)
                value = payload.get(data_key)
                if not isinstance(value, str) or sealed_key_id(value) in (None, box.current_key_id):
                    continue
                context = context_of(payload)
                try:
                    plain = box.open(value, context)
                except SecretBoxError:
                    report.unopenable[FLOWS_NAME] = report.unopenable.get(FLOWS_NAME, 0) + 1
                    continue
                resealed = {**payload, data_key: box.seal(plain, context)}
                if await repo.replace_flow(flow.id, flow.version, {**flow.data, FLOW_PAYLOAD: resealed}):
                    report.resealed += 1
                else:
                    report.raced += 1
        if len(flows) < batch:
            return report
        after = flows[-1].id


async def reseal_pass(store: Store, box: SecretBox, batch: int = 200) -> ResealReport:
    """One pass over every sealed value not under the box's current key."""
    report = ResealReport()
    for where in SEALED_COLUMNS:
        report.add(await _reseal_column(store, box, where, batch))
    for kind, data_key in SEALED_FLOW_FIELDS:
        report.add(await _reseal_flows(store, box, kind, data_key, batch))
    return report


async def counts(store: Store) -> dict[str, dict[str, int]]:
    """Stored sealed values per place and key ID."""
    out: dict[str, dict[str, int]] = {}
    async with store.unit() as uow:
        repo = sealed_values(uow)
        for where in SEALED_COLUMNS:
            out[where.name] = await repo.counts(where)
        flows: dict[str, int] = {}
        for kind, data_key in SEALED_FLOW_FIELDS:
            after: str | None = None
            while True:
                page = await repo.flows(kind, after, 500)
                for flow in page:
                    value = _payload(flow.data).get(data_key)
                    kid = sealed_key_id(value) if isinstance(value, str) else None
                    if kid is not None:
                        flows[kid] = flows.get(kid, 0) + 1
                if len(page) < 500:
                    break
                after = page[-1].id
        out[FLOWS_NAME] = flows
    return out


def totals(per_place: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for per_key in per_place.values():
        for kid, n in per_key.items():
            out[kid] = out.get(kid, 0) + n
    return out


@dataclass
class RotationResult:
    new_key_id: str | None  # None when the environment's keyring was used as it is
    current_key_id: str
    report: ResealReport
    retired: list[str]  # old keys no stored value uses: now `retired:` entries (open-only), never deleted
    still_used: dict[str, int]  # old key ID -> values still under it (not retired)
    passes: int


async def reseal_until_settled(store: Store, box: SecretBox, *, batch: int, grace: float,
                               max_passes: int = 50) -> tuple[ResealReport, int]:
    """Passes until one finds nothing to move, then a pause of `grace` seconds (a write sealed under an old key
    just before the nodes took the new one commits in it) and passes again until one is clean."""
    total, passes = ResealReport(), 0
    for settle in (False, True):
        if settle:
            await asyncio.sleep(grace)
        while passes < max_passes:
            found = await reseal_pass(store, box, batch)
            passes += 1
            total.resealed += found.resealed
            total.raced += found.raced
            if found.resealed == 0 and found.raced == 0:
                total.unopenable = found.unopenable  # what the last pass could not open
                break
    return total, passes


async def rotate(settings: Settings, store: Store, *, batch: int = 200, grace: float = 2.0,
                 renew_signing_key: bool = False) -> RotationResult:
    """File keyring: add a new current key (the file rewritten, serving processes take it before their next seal),
    re-seal, retire the old keys no value uses (they stay as open-only entries). Environment keyring: re-seal under
    its first key, change nothing (the operator marks unused keys retired on every node)."""
    if keyring.from_environment(settings):
        return await _rotate(settings, store, batch, grace, renew_signing_key)
    with keyring.rotation_lock(settings):
        return await _rotate(settings, store, batch, grace, renew_signing_key)


async def _rotate(settings: Settings, store: Store, batch: int, grace: float,
                  renew_signing_key: bool) -> RotationResult:
    ring = keyring.load(settings, create=False)
    new_id: str | None = None
    if not keyring.from_environment(settings):
        ring = ring.with_new_key(secrets.token_bytes(32))
        if renew_signing_key:
            ring = ring.with_signing_key(secrets.token_bytes(32))
        keyring.write(settings, ring)
        new_id = ring.current_id
    box = SecretBox.from_keyring(ring)
    old = set(ring.ids) - {ring.current_id}
    report, passes = await reseal_until_settled(store, box, batch=batch, grace=grace)
    used = totals(await counts(store))
    still_used = {kid: used[kid] for kid in sorted(old) if used.get(kid)}
    retired = sorted(old - set(still_used))
    if new_id is not None and retired:
        keyring.write(settings, ring.retiring(set(retired)))
    return RotationResult(new_id, ring.current_id, report, retired, still_used, passes)


class ForgetRefused(Exception):
    pass


@dataclass
class Forgotten:
    key_id: str
    copy: Path | None  # the file keyring: where the removed key was kept
    ring: Keyring  # the keyring without it (for the environment: the value to set on every node)


async def forget(settings: Settings, store: Store, kid: str) -> Forgotten:
    """Remove key `kid` from the keyring for good: refused for the current key, for a key the keyring does not
    hold, and while any stored value is sealed under it. The file keyring keeps a copy of the key in
    `master.key.retired-<kid>` (0600) first; an environment keyring is not changed (the caller prints the value
    without the key)."""
    if keyring.from_environment(settings):
        return await _forget(settings, store, kid)
    with keyring.rotation_lock(settings):
        return await _forget(settings, store, kid)


async def _forget(settings: Settings, store: Store, kid: str) -> Forgotten:
    ring = keyring.load(settings, create=False)
    source = keyring.source(settings)
    key = ring.key(kid)
    if key is None:
        raise ForgetRefused(f"{source} holds no key {kid} (vestibule master-key status lists them)")
    if kid == ring.current_id:
        raise ForgetRefused(f"key {kid} is the current key: rotate first (vestibule master-key rotate)")
    used = totals(await counts(store)).get(kid, 0)
    if used:
        raise ForgetRefused(f"key {kid} still seals {used} stored value{'s' if used != 1 else ''}: run "
                            "vestibule master-key rotate first; nothing was changed")
    kept = ring.without({kid})
    if keyring.from_environment(settings):
        return Forgotten(kid, None, kept)
    copy = keyring.keep_copy(settings, kid, key)
    keyring.write(settings, kept)
    return Forgotten(kid, copy, kept)


def new_key_values(ring: Keyring) -> tuple[str, str, str]:
    """For an environment keyring: a new key's ID, the value that adds it (not current) and the one that makes it
    current, each with the signing key pinned."""
    key = secrets.token_bytes(32)
    added = ring.with_key_last(key)
    return added.ids[-1], added.one_line(), ring.with_new_key(key).one_line()
