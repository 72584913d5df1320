"""A personal profile's data, on request: "Request your data" adds a pending `profile_exports` row; the mail
sender's round (every process of every node runs one, woken at the request's commit, polling otherwise, so a
restart loses nothing) prepares it outside the request: a ZIP of the profile, its MFA devices, trusted
browsers, sessions and audit events, each in JSON and CSV, never a secret (no password hash, TOTP seed, token
or public key). Ready, the profile is mailed a link with a random token (stored hashed); the download needs
that token AND a signed-in session of the same profile, for 7 days. One pending request at a time, a few a day."""

from __future__ import annotations

import csv
import io
import json
import secrets
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ...core.outbox import MailKind
from ...core.principals import PrincipalRef
from ...core.tokens import hash_token, new_token, same
from ...errors import VestibuleError
from ...store.models import ProfileExport
from ...store.repositories import UnitOfWork
from .. import audit, mail_templates, outbox
from ..context import Client, Deps
from .accounts import principal_name

DOWNLOAD_DAYS = 7
DOWNLOAD_SECONDS = DOWNLOAD_DAYS * 86400
PENDING_SECONDS = DOWNLOAD_SECONDS  # a request nobody could prepare (no sender ran) is forgotten after that
REQUESTS_PER_DAY = 3
BATCH = 5
README = """This archive holds the data Vestibule keeps about your personal profile, each table twice:
as JSON (one array of objects) and as CSV (a header line, then one line per row). Times are UTC (ISO 8601).

profile           your profile: ID, email address, name, nickname, when it was created and its password set
mfa_devices       your MFA devices (authenticator apps, passkeys and security keys): type, name, added, last used
trusted_browsers  the browsers that skip MFA at sign-in: label, trusted since, last used, until
sessions          your sign-ins: started, last seen, ends, ended, client address, browser, MFA used
audit_events      the security log of your profile: every sign-in, change, export and sign-out

No secret is in it: no password (not even its hash), no authenticator secret, no key and no token.
"""

Cell = str | int | float | bool | None


class ExportPending(VestibuleError):
    """A request is still being prepared: one at a time."""

    code = "profile_privacy.export_pending"


class ExportLimit(VestibuleError):
    code = "profile_privacy.export_limit"


class ExportUnavailable(VestibuleError):
    """Unknown, not this profile's, not ready, expired or a wrong token: all answered alike."""

    code = "profile_privacy.export_unavailable"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Cell], ...]


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _csv_cell(value: Cell) -> str:
    """A cell as text; one starting like a formula is quoted with `'` so a spreadsheet shows it, never runs it."""
    text = "" if value is None else json.dumps(value) if isinstance(value, bool) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def build_archive(tables: Sequence[Table], generated_at: float) -> bytes:
    """The ZIP: README.txt, then `<table>.json` and `<table>.csv` for each table (pure: no I/O but memory)."""
    stamp = datetime.fromtimestamp(generated_at, UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, text: str) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), text.encode("utf-8"), zipfile.ZIP_DEFLATED)

        put("README.txt", README)
        for table in tables:
            rows = [{column: row.get(column) for column in table.columns} for row in table.rows]
            put(f"{table.name}.json", json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(table.columns)
            writer.writerows([_csv_cell(row[column]) for column in table.columns] for row in rows)
            put(f"{table.name}.csv", text.getvalue())
    return buffer.getvalue()


async def gather(uow: UnitOfWork, profile_id: str) -> list[Table] | None:
    """The profile's tables as the archive shows them; None when the profile is gone."""
    profile = await uow.profiles.by_id(profile_id)
    if profile is None:
        return None
    key = PrincipalRef.profile(profile_id).key
    devices: list[Mapping[str, Cell]] = [
        {"type": "authenticator_app", "name": d.label or d.name, "added": iso(d.enabled_at or d.created_at),
         "last_used": iso(d.last_used_at)}
        for d in await uow.virtual_mfa.all_for(key) if d.enabled_at is not None]
    devices += [{"type": c.kind, "name": c.name, "added": iso(c.created_at), "last_used": iso(c.last_used_at)}
                for c in await uow.webauthn.for_principal(key)]
    trusted = [{"label": b.label, "trusted_since": iso(b.created_at), "last_used": iso(b.last_used_at),
                "until": iso(b.expires_at)} for b in await uow.profile_trusted_browsers.of_profile(profile_id, 0.0)]
    session_rows = [{"started": iso(s.created_at), "last_seen": iso(s.last_seen_at), "ends": iso(s.expires_at),
                     "ended": iso(s.revoked_at), "client_address": s.client_ip, "browser": s.user_agent,
                     "mfa_used": s.mfa_used} for s in await uow.sessions.all_for(key)]
    events = [{"time": iso(e.at), "event": e.event, "result": e.result, "method": e.method, "mfa_used": e.mfa_used,
               "client_address": e.client_ip, "browser": e.user_agent,
               "detail": json.dumps(e.detail or {}, ensure_ascii=False, sort_keys=True)}
              for e in await uow.audit.of_principal(principal_name(profile_id))]
    return [
        Table("profile", ("id", "email", "name", "nickname", "created", "password_changed"),
              ({"id": profile.id, "email": profile.email, "name": profile.name, "nickname": profile.nickname,
                "created": iso(profile.created_at), "password_changed": iso(profile.password_changed_at)},)),
        Table("mfa_devices", ("type", "name", "added", "last_used"), tuple(devices)),
        Table("trusted_browsers", ("label", "trusted_since", "last_used", "until"), tuple(trusted)),
        Table("sessions", ("started", "last_seen", "ends", "ended", "client_address", "browser", "mfa_used"),
              tuple(session_rows)),
        Table("audit_events", ("time", "event", "result", "method", "mfa_used", "client_address", "browser",
                               "detail"), tuple(events)),
    ]


@dataclass(frozen=True)
class ExportView:
    id: str
    status: str  # pending | ready | expired
    requested_at: float
    ready_at: float | None
    expires_at: float


def _view(row: ProfileExport, now: float) -> ExportView:
    status = "expired" if row.status == "ready" and now >= row.expires_at else row.status
    return ExportView(row.id, status, row.requested_at, row.ready_at, row.expires_at)


async def of_profile(deps: Deps, profile_id: str) -> list[ExportView]:
    """The profile's requests, newest first (what the Privacy & data page shows)."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        return [_view(row, now) for row in await uow.profile_exports.of_profile(profile_id)]


async def request(deps: Deps, client: Client, profile_id: str) -> ExportView:
    """A pending request (prepared in the background); ExportPending or ExportLimit when refused."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        earlier = await uow.profile_exports.of_profile(profile_id)
        result = ("Pending" if any(row.status == "pending" for row in earlier)
                  else "Limited" if sum(row.requested_at > now - 86400 for row in earlier) >= REQUESTS_PER_DAY
                  else "Success")
        row = ProfileExport(id=secrets.token_hex(16), profile_id=profile_id, status="pending", token_hash="",
                            requested_at=now, ready_at=None, expires_at=now + PENDING_SECONDS, content=None)
        if result == "Success":
            await uow.profile_exports.add(row)
            # the page's language is the recipient's: the mail that says it is ready goes out in it
            await mail_templates.remember_language(uow, PrincipalRef.profile(profile_id).key, client.language, now)
            uow.after_commit(deps.mail_bell.ring)  # the sender's round prepares it
        await audit.record(uow, at=now, event="ProfileDataExportRequested", result=result, client=client,
                           principal=principal_name(profile_id), method="privacy_page")
    if result == "Pending":
        raise ExportPending()
    if result == "Limited":
        raise ExportLimit()
    return _view(row, now)


async def prepare_pending(deps: Deps) -> int:
    """Prepare the pending requests (the mail sender's job, each round, on every node): how many this call did.
    Each is built and marked ready in one transaction with its mail, so a node that stops mid-way leaves it
    pending for the next round, and two nodes preparing one request mail it once (compare-and-set)."""
    async with deps.store.unit() as uow:
        pending = await uow.profile_exports.pending(BATCH)
    done = 0
    for export_id in pending:
        done += await _prepare(deps, export_id)
    return done


async def _prepare(deps: Deps, export_id: str) -> bool:
    now = deps.clock()
    async with deps.store.unit() as uow:
        row = await uow.profile_exports.by_id(export_id)
        if row is None or row.status != "pending":
            return False
        profile_id = row.profile_id
        tables = await gather(uow, profile_id)
        profile = await uow.profiles.by_id(profile_id)
        if tables is None or profile is None:
            return False
        token = new_token()
        if not await uow.profile_exports.mark_ready(export_id, token_hash=hash_token(token),
                                                    content=build_archive(tables, now), ready_at=now,
                                                    expires_at=now + DOWNLOAD_SECONDS):
            return False
        link = f"{deps.settings.public_origin}/profile/privacy/export?id={export_id}&token={token}"
        mail = await mail_templates.compose(deps, uow, "profile_export_ready", to=profile.email,
                                            principal=PrincipalRef.profile(profile_id).key, link=link,
                                            days=DOWNLOAD_DAYS, profile_name=profile.name)
        await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.PROFILE_EXPORT_READY, lifetime=DOWNLOAD_SECONDS)
        await audit.record(uow, at=now, event="ProfileDataExportReady", result="Success", client=Client(),
                           principal=principal_name(profile_id), method="background", export_id=export_id)
    return True


async def check_link(deps: Deps, profile_id: str, export_id: str, token: str) -> ExportView:
    """The ready export behind a mailed link, for its own signed-in profile; ExportUnavailable otherwise."""
    async with deps.store.unit() as uow:
        row = await _usable(uow, deps.clock(), profile_id, export_id, token)
        return _view(row, deps.clock())


async def download(deps: Deps, client: Client, profile_id: str, export_id: str, token: str) -> bytes:
    """The ZIP (audited); ExportUnavailable unless the link is this signed-in profile's and still valid."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        try:
            row = await _usable(uow, now, profile_id, export_id, token)
        except ExportUnavailable:
            await audit.record(uow, at=now, event="ProfileDataExportDownloaded", result="Failure", client=client,
                               principal=principal_name(profile_id), method="mailed_link")
            raise
        content = row.content or b""
        await audit.record(uow, at=now, event="ProfileDataExportDownloaded", result="Success", client=client,
                           principal=principal_name(profile_id), method="mailed_link", export_id=export_id)
    return content


async def _usable(uow: UnitOfWork, now: float, profile_id: str, export_id: str, token: str) -> ProfileExport:
    row = await uow.profile_exports.by_id(export_id[:32]) if export_id and token else None
    if (row is None or row.profile_id != profile_id or row.status != "ready" or now >= row.expires_at
            or row.content is None or not same(hash_token(token[:100]), row.token_hash)):
        raise ExportUnavailable()
    return row
