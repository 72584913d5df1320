"""Sign-in and authentication paths touch only indexed rows (issue 14): the SQL of a console password sign-in (root
and IAM user), a SigV4 call's key lookup (long-term and temporary credentials), a session check (console and
profile), a portal sign-in and the SSO bearer-token check is captured at the driver, then explained: no statement
may scan a table that grows with users, sessions, events, keys, credentials or flows. On SQLite `EXPLAIN QUERY
PLAN` must not say `SCAN <table>` (a full scan, of the table or of an index); on PostgreSQL `EXPLAIN` with
`enable_seqscan = off` (so a small test table does not make a sequential scan the cheaper plan) must not say `Seq
Scan on <table>`, which it then does only where no index can serve the statement."""

from __future__ import annotations

import re
import secrets
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from http_steps import iam_password, make_account, make_user, sign_in_iam, sign_in_root, sign_out
from integration.test_portal_signin_http import make_portal_user
from integration.test_portal_signin_http import sign_in as portal_sign_in
from profile_steps import make_profile, open_profile_session
from vestibule.core.tokens import hash_token
from vestibule.runtime import Runtime
from vestibule.services import access_keys
from vestibule.services.identity_center import sso_oidc
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.mail import DevMailbox
from vestibule.store.models import OidcClient, OidcToken, Session, SsoInstance

GROWING = {"iam_users", "accounts", "sessions", "known_browsers", "audit_events", "access_keys",
           "temporary_credentials", "flows", "captchas", "throttle_counters", "mfa_devices", "webauthn_credentials",
           "directory_users", "directory_memberships", "profiles", "profile_trusted_browsers", "sso_oidc_tokens",
           "sso_assignments", "mail_outbox", "mail_languages", "password_histories", "group_memberships",
           "policy_attachments", "inline_policies", "tags"}
EXPECTED = {"console sign-in, root user (mailed code)": "accounts", "console session check": "sessions",
            "console sign-in, IAM user": "iam_users", "SigV4 key lookup, long-term key": "access_keys",
            "SigV4 key lookup, temporary credentials": "temporary_credentials", "profile session check": "profiles",
            "portal sign-in": "directory_users", "SSO bearer-token check": "sso_oidc_tokens"}
_DML = re.compile(r"^\s*(SELECT|UPDATE|DELETE|WITH|INSERT)\b", re.IGNORECASE)


class Statements:
    """The statements run while a phase is open, as the driver saw them: SQLAlchemy's cursor event for every
    statement it sends, and sqlite3's trace callback on the hot-unit connection (whose statements run on the
    sqlite3 cursor itself), expanded with their values."""

    def __init__(self) -> None:
        self.phases: dict[str, list[tuple[str, Any]]] = {}
        self._open: list[tuple[str, Any]] | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._open = self.phases.setdefault(name, [])
        try:
            yield
        finally:
            self._open = None

    def add(self, statement: str, parameters: Any) -> None:
        if self._open is not None and _DML.match(statement):
            self._open.append((statement, parameters))


@pytest.fixture(autouse=True)
def statements() -> Iterator[Statements]:
    """Listening before the runtime exists, so the hot-unit connection opened at the first sign-in is traced."""
    seen = Statements()

    def on_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if type(conn.connection.dbapi_connection) is not sqlite3.Connection:  # the traced one is seen expanded
            seen.add(statement, parameters)

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        if type(dbapi_connection) is sqlite3.Connection:
            dbapi_connection.set_trace_callback(lambda sql: seen.add(sql, None))

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Pool, "connect", on_connect)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
        event.remove(Pool, "connect", on_connect)


def _aliases(sql: str) -> dict[str, str]:
    return {alias.lower(): table.lower() for table, alias in re.findall(r"\b(\w+) AS (\w+)", sql)}


def _sqlite_scans(path: str, statements: list[tuple[str, Any]]) -> list[str]:
    found = []
    conn = sqlite3.connect(path)
    try:
        for sql, params in statements:
            plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params if params is not None else ()).fetchall()
            aliases = _aliases(sql)
            for row in plan:
                detail = str(row[-1])
                scanned = re.match(r"SCAN (\w+)", detail)
                if scanned and aliases.get(scanned.group(1).lower(), scanned.group(1).lower()) in GROWING:
                    found.append(f"{detail}\n    in: {sql}")
    finally:
        conn.close()
    return found


async def _postgresql_scans(runtime: Runtime, statements: list[tuple[str, Any]]) -> list[str]:
    found = []
    async with runtime.engine.connect() as conn:
        await conn.exec_driver_sql("SET enable_seqscan = off")
        for sql, params in statements:
            plan = [str(row[0]) for row in await conn.exec_driver_sql("EXPLAIN " + sql, params or ())]
            for line in plan:
                scanned = re.search(r"Seq Scan on (\w+)", line)
                if scanned and scanned.group(1) in GROWING:
                    found.append(f"{line.strip()}\n    in: {sql}")
        await conn.rollback()
    return found


def _signed(body: str, key_id: str, secret: str, token: str | None = None) -> dict[str, str]:
    request = AWSRequest(method="POST", url="http://testserver/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key_id, secret, token), "sts", "us-east-1").add_auth(request)
    return dict(request.headers.items())


async def _caller(client: httpx.AsyncClient, key_id: str, secret: str, token: str | None = None) -> str:
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    r = await client.post("/", content=body, headers=_signed(body, key_id, secret, token))
    assert r.status_code == 200, r.text
    return r.text


def _member(xml: str, name: str) -> str:
    found = [e.text for e in ET.fromstring(xml).iter() if e.tag.endswith(name)]
    assert found and found[0], (name, xml)
    return found[0]


async def test_sign_in_and_authentication_statements_use_indexes(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, statements: Statements) -> None:
    deps = runtime.deps
    account_id = await make_account(runtime)
    user_id = await make_user(runtime, "acme", "alice")
    async with deps.store.unit() as uow:
        key = await access_keys.create(deps, uow, account_id, f"user:{user_id}", actor="test")

    with statements.phase("console sign-in, root user (mailed code)"):
        await sign_in_root(client, mailbox)
    with statements.phase("console session check"):
        assert (await client.get("/console")).status_code == 200
    await sign_out(client)
    with statements.phase("console sign-in, IAM user refused (unknown user)"):
        assert (await iam_password(client, "acme", "mallory", "wrong password 1")).status_code == 200
    with statements.phase("console sign-in, IAM user"):
        await sign_in_iam(client)
    with statements.phase("console session check"):
        assert (await client.get("/console")).status_code == 200
    await sign_out(client)

    with statements.phase("SigV4 key lookup, long-term key"):
        assert "alice" in await _caller(client, key.access_key_id, key.secret_access_key)
    body = "Action=GetSessionToken&Version=2011-06-15"
    answer = await client.post("/", content=body, headers=_signed(body, key.access_key_id, key.secret_access_key))
    assert answer.status_code == 200, answer.text
    temporary = [_member(answer.text, name) for name in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
    with statements.phase("SigV4 key lookup, temporary credentials"):
        await _caller(client, *temporary)

    profile_id = await make_profile(runtime)
    await open_profile_session(runtime, client, profile_id)
    with statements.phase("profile session check"):
        assert (await client.get("/profile/details")).status_code == 200

    store_id = f"d-{secrets.token_hex(5)}"
    async with deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store_id,
            owner_account_id=account_id, name="portal", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=deps.clock(), settings=InstanceSettings(no_mfa_device="EMAIL_CODE").to_json(), tags="[]"))
    directory_user_id = await make_portal_user(runtime, store_id)
    with statements.phase("portal sign-in"):
        await portal_sign_in(client, mailbox, store_id)
    async with deps.store.unit() as uow:
        portal = (await uow.db.execute(select(Session).where(Session.principal_key.startswith("directory")))
                  ).scalars().one()
        now = deps.clock()
        await uow.db.merge(OidcClient(id="client-1", secret_hash=hash_token("s"), name="cli", client_type="public",
                                      scopes=["sso:account:access"], grant_types=["refresh_token"], redirect_uris=[],
                                      identity_store_id=store_id, created_at=now, secret_expires_at=now + 3600))
        token = secrets.token_urlsafe(32)
        await uow.db.merge(OidcToken(id="token-1", kind="access", token_hash=hash_token(token), family_id="f",
                                     client_id="client-1", identity_store_id=store_id,
                                     session_id_hash=portal.id_hash, principal_key=portal.principal_key,
                                     user_id=directory_user_id, scopes=["sso:account:access"],
                                     created_at=now, expires_at=now + 3600))
    with statements.phase("SSO bearer-token check"):
        assert (await sso_oidc.bearer(deps, token)).token_id == "token-1"

    touched = {name: {t for sql, _ in captured for t in re.findall(r"(?:FROM|JOIN|UPDATE|INTO) (\w+)", sql)}
               for name, captured in statements.phases.items()}
    for name, table in EXPECTED.items():  # the capture saw each path's own lookup
        assert table in touched[name], (name, table, touched[name])
    control = [("SELECT id_hash FROM sessions WHERE expires_at + 1 = 0", None)]  # no index can serve it
    assert await _scans(runtime, control), "the check sees a full scan"
    problems: dict[str, list[str]] = {}
    for name, captured in statements.phases.items():
        runs = list({sql: (sql, params) for sql, params in reversed(captured)}.values())  # each statement once
        if scans := await _scans(runtime, runs):
            problems[name] = scans
    assert not problems, "\n".join(f"{name}:\n  " + "\n  ".join(s) for name, s in problems.items())


async def _scans(runtime: Runtime, runs: list[tuple[str, Any]]) -> list[str]:
    if runtime.engine.dialect.name == "sqlite":
        database = runtime.engine.url.database
        assert database
        return _sqlite_scans(database, runs)
    return await _postgresql_scans(runtime, runs)


async def test_account_summary_counts_without_reading_the_entities(
        client: httpx.AsyncClient, runtime: Runtime, statements: Statements) -> None:
    """GetAccountSummary reads the maintained counts: no statement touches the users, groups, roles or policies."""
    deps = runtime.deps
    account_id = await make_account(runtime)
    for name in ("alice", "bob", "carol"):
        await make_user(runtime, "acme", name, password=None)
    async with deps.store.unit() as uow:
        key = await access_keys.create(deps, uow, account_id, f"root:{account_id}", actor="test")
    body = "Action=GetAccountSummary&Version=2010-05-08"
    request = AWSRequest(method="POST", url="http://testserver/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "iam", "us-east-1").add_auth(request)
    with statements.phase("GetAccountSummary"):
        answer = await client.post("/", content=body, headers=dict(request.headers.items()))
    assert answer.status_code == 200, answer.text
    entries = {e.findtext("{*}key"): e.findtext("{*}value") for e in ET.fromstring(answer.text).iter()
               if e.tag.endswith("entry")}
    assert (entries["Users"], entries["Groups"], entries["AccountAccessKeysPresent"]) == ("3", "0", "1")
    read = {t for sql, _ in statements.phases["GetAccountSummary"]
            for t in re.findall(r"(?:FROM|JOIN) (\w+)", sql)}
    assert "iam_entity_counts" in read
    assert not read & {"iam_users", "iam_groups", "iam_roles", "managed_policies", "managed_policy_versions",
                       "instance_profiles"}, read


async def test_a_profiles_events_are_read_and_renamed_by_index(runtime: Runtime, statements: Statements) -> None:
    """A profile has no account: its data export reads its events by principal, its deletion renames them."""
    async with runtime.deps.store.unit() as uow:
        with statements.phase("profile events"):
            await uow.audit.of_principal("profile/p0000")
            await uow.audit.rename_principal("profile/p0000", "profile/deleted-x")
    captured = statements.phases["profile events"]
    assert len(captured) == 2
    assert not await _scans(runtime, captured)
