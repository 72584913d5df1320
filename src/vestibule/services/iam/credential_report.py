"""The credential report (GenerateCredentialReport, GetCredentialReport): one CSV line per user with the state of
its password, MFA, access keys and signing certificates, in AWS's columns and order, the root user's line first.

A report is generated at most every four hours, as AWS documents: asked again within four hours of the last one,
Generate answers COMPLETE and Get returns that one. It is built from the store one page of users at a time (one
unit of work per page), and kept as one row per account."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ...core import arns
from ...core import passwords as rules
from ...errors import ReportNotReady
from ...store.models import AccessKey, IamUser, SigningCertificate
from ...store.repositories import UnitOfWork
from ..api_call import ApiCall
from .common import account_of

REUSE_SECONDS = 4 * 3600  # a report at most every four hours
EXPIRES_SECONDS = REUSE_SECONDS  # older than that, Get answers ReportExpired: generate a new one
ABANDONED_SECONDS = 600  # a generation running this long is taken to have died with its server
PAGE = 200

State = Literal["STARTED", "INPROGRESS", "COMPLETE"]

COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)
ROOT_USER = "<root_account>"
NA, NOT_SUPPORTED, NO_INFORMATION = "N/A", "not_supported", "no_information"
_DESCRIPTIONS: dict[State, str | None] = {
    "STARTED": "No report exists. Starting a new report generation task",
    "INPROGRESS": "A report generation task is in progress",
    "COMPLETE": None,
}


@dataclass(frozen=True)
class Generation:
    state: State
    description: str | None


@dataclass(frozen=True)
class Report:
    content: bytes
    generated_at: float


def when(seconds: float) -> str:
    """ISO 8601 as the report writes it: `2024-05-01T18:27:21+00:00`."""
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0).isoformat()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _keys(keys: Sequence[AccessKey]) -> list[str]:
    cells: list[str] = []
    for slot in range(2):
        key = keys[slot] if slot < len(keys) else None
        active = key is not None and key.status == "Active"
        cells += [_flag(active), when(key.created_at) if key is not None and active else NA]
        used = key is not None and key.last_used_at is not None
        cells += [when(key.last_used_at) if key is not None and key.last_used_at is not None else NA,
                  (key.last_used_region or NA) if key is not None and used else NA,
                  (key.last_used_service or NA) if key is not None and used else NA]
    return cells


def _certificates(certificates: Sequence[SigningCertificate]) -> list[str]:
    cells: list[str] = []
    for slot in range(2):
        certificate = certificates[slot] if slot < len(certificates) else None
        active = certificate is not None and certificate.status == "Active"
        cells += [_flag(active), when(certificate.uploaded_at) if certificate is not None and active else NA]
    return cells


def _password_cells(user: IamUser, policy: rules.PasswordPolicy) -> list[str]:
    if not user.password_hash:
        return ["false", NA, NA, NA]
    changed = user.password_changed_at or user.login_profile_created_at or user.created_at
    used = when(user.password_last_used_at) if user.password_last_used_at else NO_INFORMATION
    rotation = when(changed + policy.max_age_days * 86400) if policy.max_age_days is not None else NA
    return ["true", used, when(changed), rotation]


@dataclass
class _Credentials:
    keys: dict[str, list[AccessKey]]
    certificates: dict[str, list[SigningCertificate]]
    with_mfa: set[str]


async def _credentials(uow: UnitOfWork, principal_keys: Sequence[str]) -> _Credentials:
    found = _Credentials({}, {}, await uow.account_details.with_mfa(principal_keys))
    for key in await uow.account_details.access_keys_of(principal_keys):
        found.keys.setdefault(key.principal_key, []).append(key)
    for certificate in await uow.account_details.certificates_of(principal_keys):
        found.certificates.setdefault(certificate.principal_key, []).append(certificate)
    return found


async def _root_line(uow: UnitOfWork, account_id: str) -> tuple[list[str], rules.PasswordPolicy]:
    account = await uow.accounts.get(account_id)
    assert account is not None, "the caller's account was checked by the unit that started the report"
    root_key, root_arn = f"root:{account_id}", arns.root_arn(account_id)
    found = await _credentials(uow, [root_key])
    signed_in = await uow.account_details.last_console_sign_in(account_id, root_arn)
    line = [ROOT_USER, root_arn, when(account.created_at), NOT_SUPPORTED,
            when(signed_in) if signed_in is not None else NO_INFORMATION, NOT_SUPPORTED, NOT_SUPPORTED,
            _flag(root_key in found.with_mfa), *_keys(found.keys.get(root_key, [])),
            *_certificates(found.certificates.get(root_key, []))]
    return line, rules.PasswordPolicy.from_dict(account.password_policy)


async def _build(call: ApiCall) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    async with call.unit() as uow:
        root, policy = await _root_line(uow, call.account_id)
    writer.writerow(root)
    after: str | None = None
    while True:
        async with call.unit() as uow:  # one unit per page: nothing of earlier pages stays loaded
            users = await uow.account_details.users_after(call.account_id, after, PAGE)
            found = await _credentials(uow, [f"user:{u.id}" for u in users])
        for user in users:
            key = f"user:{user.id}"
            writer.writerow([user.name, arns.user_arn(user.account_id, user.name, user.path), when(user.created_at),
                             *_password_cells(user, policy), _flag(key in found.with_mfa),
                             *_keys(found.keys.get(key, [])), *_certificates(found.certificates.get(key, []))])
        if len(users) < PAGE:
            return out.getvalue()
        after = users[-1].name_lower


def _generating(since: float | None, now: float) -> bool:
    return since is not None and now - since < ABANDONED_SECONDS


async def generate(call: ApiCall) -> Generation:
    now = call.now()
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        await account_of(call, uow)
        await uow.credential_reports.ensure(call.account_id)
        row = await uow.credential_reports.get(call.account_id, lock=True)
        assert row is not None
        state: State
        if _generating(row.generating_since, now):
            state = "INPROGRESS"
        elif row.generated_at is not None and now - row.generated_at < REUSE_SECONDS:
            state = "COMPLETE"
        else:
            state, row.generating_since = "STARTED", now
        await call.record(uow, state=state)
    if state == "STARTED":
        content = await _build(call)
        async with call.unit() as uow:
            await uow.credential_reports.finish(call.account_id, content, call.now(), started=now)
    return Generation(state, _DESCRIPTIONS[state])


async def get(call: ApiCall) -> Report:
    now = call.now()
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        row = await uow.credential_reports.get(call.account_id)
    if row is not None and _generating(row.generating_since, now):
        raise ReportNotReady("in_progress", "The credential report is being generated; try again shortly.")
    if row is None or row.content is None or row.generated_at is None:
        raise ReportNotReady("not_present", "No credential report exists; call GenerateCredentialReport first.")
    if now - row.generated_at >= EXPIRES_SECONDS:
        raise ReportNotReady("expired", "The credential report is more than four hours old; call "
                                        "GenerateCredentialReport for a new one.")
    return Report(row.content.encode("utf-8"), row.generated_at)
