#!/usr/bin/env python3
"""Benchmark (not a test): what a request costs as an account grows from 1,000 to 1,000,000 IAM users
(issue 14), on SQLite and on PostgreSQL, measured side by side in one run.

What it does:
1. Builds one database per backend and size (`--sizes`, default 1,000, 100,000 and 1,000,000 users in one
   account): the account, a user `bench-admin` and its access key through the `vestibule` CLI (which creates
   and migrates the database), then the users bulk-loaded through the store's own models and engine
   (`vestibule.store.database.make_engine`, the `iam_users` table of `vestibule.store.models.IamUser`), not
   through the API: one argon2id hash (production parameters) computed once and given to every user, batches
   of `--batch` rows (executemany on SQLite, COPY through asyncpg on PostgreSQL, then ANALYZE). Users are
   `u0000000`, `u0000001`, ... (so name order is number order); `--path-users` (500) of them, spread evenly
   through the list, have the path `/scale/team-a/`, the rest `/`. SQLite: a data directory under `--root`;
   PostgreSQL: the database `<--pg-prefix>_<size>` (bench_scale_<size>) on `--pg-url` (the master key in a
   data directory under `--root`). `--reuse` keeps and reuses databases built before (recorded in meta.json)
   from the same migration files (a revision edited in place would not be applied again).
2. Starts `vestibule serve --workers W` on each database at once (a free port each; production argon2id
   parameters; PostgreSQL with Redis `--redis-url`), attaches AdministratorAccess to bench-admin
   (AttachUserPolicy, signed with the root user's key), and checks every request kind once.
3. Measures, in `--rounds` rounds, for each metric and backend, one request to each size in turn (the order of
   the sizes rotates each round), `--samples` times, with one sequential client (latency, not throughput):
   - signin: a complete IAM user password sign-in through HTTP as a new browser (GET /bench-scale/console,
     POST csrf_token/account/username/password, must be 303 with a session cookie; GET /console, must be 200
     and name the user) of a random one of the users;
   - gci: STS GetCallerIdentity; getuser: IAM GetUser of a random user (SigV4 with bench-admin's key);
   - list-first: ListUsers MaxItems=100; list-deep: ListUsers MaxItems=100 from a Marker at 90 % of the list
     (made with the server's marker codec and signing key from `<data dir>/master.key`, checked against the
     marker the server answers on the first page); list-prefix: ListUsers PathPrefix=/scale/team-a/
     MaxItems=100;
   - full listing: every user, MaxItems=1000 page after page (total time, once per size after the rounds;
     sizes above `--full-list-max` are not walked: extrapolated linearly from the largest walked size);
   and the database size (SQLite: the file and its WAL; PostgreSQL: pg_database_size).
4. Prints markdown tables (median and p99 per metric and size, ratios largest/smallest size) and the exact
   command, and keeps the raw numbers in bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    Server,
    command_line,
    free_port,
    machine,
    median,
    percentile,
    save_json,
    venv_bin,
    wait_for_quiet,
)
from _sigv4 import Client, Signer, check_signer_against_botocore, gci_body, iam_body
from signin_throughput import CSRF, PASSWORD, Connection, _cookie_header, _store_cookies, sign_in_once

ALIAS = "bench-scale"
ADMIN = "bench-admin"
TEAM_PATH = "/scale/team-a/"
DEEP_AT = 0.9
METRICS = ("signin", "gci", "getuser", "list-first", "list-deep", "list-prefix", "portal", "scim")
IC_METRICS = ("portal", "scim")
LABELS = {
    "signin": "IAM password sign-in through HTTP (GET form, POST, GET /console)",
    "gci": "GetCallerIdentity",
    "getuser": "GetUser (a random user)",
    "list-first": "ListUsers, first page (MaxItems=100)",
    "list-deep": f"ListUsers, deep page (Marker at {DEEP_AT:.0%}, MaxItems=100)",
    "list-prefix": f"ListUsers PathPrefix={TEAM_PATH} (MaxItems=100)",
    "portal": "access portal sign-in through HTTP (user name, password; MFA prompt NEVER)",
    "scim": 'SCIM GET /scim/v2/Users?filter=userName eq "..." (a random user)',
}
MEMBER = re.compile(rb"<member>")
MARKER = re.compile(rb"<Marker>([^<]*)</Marker>")
USER_NAME = re.compile(rb"<UserName>([^<]*)</UserName>")


def user_name(i: int) -> str:
    return f"u{i:07d}"


def path_step(size: int, path_users: int) -> int:
    return max(1, size // max(1, path_users))


# --- building the databases ------------------------------------------------------------------


@dataclass
class Directory:
    backend: str  # sqlite | postgresql
    size: int
    root: Path
    pg_url: str
    redis_url: str
    pg_prefix: str = "bench_scale"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.backend}-{self.size}"

    @property
    def home(self) -> Path:
        return self.root / self.name

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def db_name(self) -> str:
        return f"{self.pg_prefix}_{self.size}"

    @property
    def database_url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.data_dir / 'vestibule.db'}"
        return f"{self.pg_url.rstrip('/')}/{self.db_name}"

    def env(self, port: int | None = None) -> dict[str, str]:
        env = {
            "VESTIBULE_DATA_DIR": str(self.data_dir),
            "VESTIBULE_DATABASE_URL": "" if self.backend == "sqlite" else self.database_url,
            "VESTIBULE_REDIS_URL": "" if self.backend == "sqlite" else self.redis_url,
            "VESTIBULE_LOG_LEVEL": "warning",
            "VESTIBULE_SERVE_LOOPBACK": "1",
        }
        if port is not None:
            env["VESTIBULE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        return env

    def load_meta(self) -> bool:
        path = self.home / "meta.json"
        if not path.exists():
            return False
        self.meta = json.loads(path.read_text())
        if self.meta.get("migrations") != migrations_digest():
            print(f"  {self.name}: the migrations changed since it was built (a revision edited in place is not "
                  f"applied again): building it again", flush=True)
            return False
        return (bool(self.meta.get("complete")) and self.meta.get("size") == self.size
                and self.meta.get("database_url", self.database_url) == self.database_url
                and asyncio.run(self._has_account()))

    async def _has_account(self) -> bool:
        """The database still holds the recorded account (another run may have rebuilt it)."""
        from sqlalchemy import text

        from vestibule.store.database import make_engine

        engine = make_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                found = await conn.execute(text("SELECT count(*) FROM accounts WHERE id = :id"),
                                           {"id": self.meta.get("account_id")})
                return bool(found.scalar())
        except Exception:  # no database, no table: build it again
            return False
        finally:
            await engine.dispose()

    def save_meta(self) -> None:
        (self.home / "meta.json").write_text(json.dumps(self.meta, indent=2))


def migrations_digest() -> str:
    """SHA-256 of the migration revisions' text: a database built from other revisions is not reused."""
    import hashlib

    import vestibule.store.database as database

    versions = Path(database.__file__).parent / "migrations" / "versions"
    digest = hashlib.sha256()
    for path in sorted(versions.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([venv_bin("vestibule"), *args], env={**os.environ, **env}, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"vestibule {' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip()}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


async def _pg_admin(pg_url: str, sql: str) -> None:
    import asyncpg

    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://").rstrip("/") + "/postgres"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def fresh_database(d: Directory) -> None:
    if not d.db_name.startswith("bench_scale"):
        raise SystemExit(f"refusing to drop {d.db_name}: only bench_scale* databases")
    if d.home.exists():
        shutil.rmtree(d.home)
    d.data_dir.mkdir(parents=True)
    if d.backend == "postgresql":
        asyncio.run(_pg_admin(d.pg_url, f"DROP DATABASE IF EXISTS {d.db_name}"))
        asyncio.run(_pg_admin(d.pg_url, f"CREATE DATABASE {d.db_name}"))


def user_rows(size: int, path_users: int, password_hash: str, now: float) -> Iterator[dict[str, Any]]:
    from vestibule.core import identifiers as ids

    step = path_step(size, path_users)
    for i in range(size):
        name = user_name(i)
        yield {"id": ids.new_iam_id("AIDA"), "name": name, "name_lower": name.lower(),
               "path": TEAM_PATH if i % step == 0 and i // step < path_users else "/",
               "password_hash": password_hash, "password_reset_required": False, "password_changed_at": now,
               "password_last_used_at": None, "login_profile_created_at": now, "created_at": now + i * 1e-6,
               "permissions_boundary": None}


def _full_row(table: Any, row: dict[str, Any], account_id: str) -> dict[str, Any]:
    """Every column of the table: the loader's values, then each column's own scalar default (a column another
    change added keeps working), else NULL."""
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name == "account_id" and account_id:
            out[col.name] = account_id
        elif col.name in row:
            out[col.name] = row[col.name]
        elif col.default is not None and getattr(col.default, "is_scalar", False):
            out[col.name] = col.default.arg
        else:
            out[col.name] = None
    return out


async def bulk_load(d: Directory, account_id: str, batch: int, path_users: int, log: Callable[[str], None]) -> float:
    """The users, in batches, through the store's engine; answers the seconds the inserts took."""
    from sqlalchemy import text

    from vestibule.core.passwords import HashParameters, PasswordHasher
    from vestibule.store.database import make_engine
    from vestibule.store.models import IamUser

    password_hash = PasswordHasher(HashParameters()).hash(PASSWORD)  # production (OWASP) parameters, once
    table = IamUser.__table__
    columns = [c.name for c in table.columns]
    engine = make_engine(d.database_url)
    now = time.time()
    t0 = time.perf_counter()
    done = 0
    try:
        async with engine.begin() as conn:
            rows: list[dict[str, Any]] = []
            raw = None
            if d.backend == "postgresql":
                raw = (await conn.get_raw_connection()).driver_connection
            for row in user_rows(d.size, path_users, password_hash, now):
                rows.append(_full_row(table, row, account_id))
                if len(rows) >= batch:
                    await _insert(conn, raw, table, columns, rows)
                    done += len(rows)
                    rows = []
                    if done % (batch * 20) == 0:
                        log(f"    {d.name}: {done:,} users in {time.perf_counter() - t0:.1f} s")
            if rows:
                await _insert(conn, raw, table, columns, rows)
        elapsed = time.perf_counter() - t0
        if d.backend == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return elapsed


async def _insert(conn: Any, raw: Any, table: Any, columns: list[str], rows: list[dict[str, Any]]) -> None:
    if raw is None:
        await conn.execute(table.insert(), rows)
        return
    from sqlalchemy import JSON

    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}  # COPY takes JSON columns as text
    records = [tuple(json.dumps(r[c]) if c in as_json and r[c] is not None else r[c] for c in columns)
               for r in rows]
    await raw.copy_records_to_table(table.name, records=records, columns=columns)


async def load_identity_center(d: Directory, account_id: str, batch: int, log: Callable[[str], None]) -> dict[str, Any]:
    """An Identity Center instance of the account (its row through the store's model, as the portal tests make
    one; MFA prompt NEVER, so a portal sign-in is user name and password) and a directory of the same size:
    users u0000000... with the one password hash and an email, bulk-loaded like the IAM users."""
    from vestibule.core.passwords import HashParameters, PasswordHasher
    from vestibule.services.identity_center.directory import new_resource_id
    from vestibule.services.identity_center.directory_profile import Email, UserProfile, stored
    from vestibule.services.identity_center.settings import InstanceSettings
    from vestibule.store.database import make_engine
    from vestibule.store.models import DirectoryUser, SsoInstance

    password_hash = PasswordHasher(HashParameters()).hash(PASSWORD)
    store_id = f"d-{secrets.token_hex(5)}"
    now = time.time()
    instance = {"arn": f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", "identity_store_id": store_id,
                "owner_account_id": account_id, "name": "bench-scale", "kind": "ACCOUNT", "status": "ACTIVE",
                "client_token": None, "created_at": now, "portal_subdomain": None,
                "settings": InstanceSettings(mfa_prompt="NEVER").to_json(), "tags": "[]"}
    users_table = DirectoryUser.__table__
    columns = [c.name for c in users_table.columns]
    engine = make_engine(d.database_url)
    t0 = time.perf_counter()
    try:
        async with engine.begin() as conn:
            await conn.execute(SsoInstance.__table__.insert(), [_full_row(SsoInstance.__table__, instance, "")])
            raw = (await conn.get_raw_connection()).driver_connection if d.backend == "postgresql" else None
            rows: list[dict[str, Any]] = []
            for i in range(d.size):
                name = user_name(i)
                email = f"{name}@example.com"
                row = {"id": new_resource_id(store_id), "identity_store_id": store_id, "user_name": name,
                       "user_name_lower": name, "display_name": f"User {i}", "email_lower": email,
                       "attributes": stored(UserProfile(display_name=f"User {i}",
                                                        emails=(Email(value=email, primary=True),))),
                       "status": "ENABLED", "password_hash": password_hash, "password_must_change": False,
                       "revision": 1, "created_at": now, "created_by": "bench", "updated_at": now,
                       "updated_by": "bench"}
                rows.append(_full_row(users_table, row, ""))
                if len(rows) >= batch:
                    await _insert(conn, raw, users_table, columns, rows)
                    rows = []
                    if (i + 1) % (batch * 20) == 0:
                        log(f"    {d.name}: {i + 1:,} directory users in {time.perf_counter() - t0:.1f} s")
            if rows:
                await _insert(conn, raw, users_table, columns, rows)
        elapsed = time.perf_counter() - t0
        if d.backend == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                from sqlalchemy import text

                await conn.execute(text("ANALYZE directory_users"))
    finally:
        await engine.dispose()
    token = cli(d.env(), "sso", "scim-token", "create", "--identity-store-id", store_id)
    return {"identity_store_id": store_id, "load_seconds": round(elapsed, 2), "scim_token": token["Token"]}


def build(d: Directory, reuse: bool, batch: int, path_users: int, identity_center: bool,
          log: Callable[[str], None]) -> None:
    if reuse and d.load_meta():
        log(f"  {d.name}: reusing the database built {d.meta.get('built_at')} ({d.size:,} users)")
    else:
        build_iam(d, batch, path_users, log)
    if identity_center and "identity_center" not in d.meta:
        log(f"  {d.name}: an Identity Center directory of {d.size:,} users ...")
        d.meta["identity_center"] = asyncio.run(load_identity_center(d, d.meta["account_id"], batch, log))
        d.save_meta()
        log(f"  {d.name}: {d.size:,} directory users loaded in {d.meta['identity_center']['load_seconds']:.1f} s")


def build_iam(d: Directory, batch: int, path_users: int, log: Callable[[str], None]) -> None:
    log(f"  {d.name}: building {d.size:,} users ...")
    fresh_database(d)
    env = d.env()
    t0 = time.perf_counter()
    account = cli(env, "account", "create", "--email", f"scale-{d.size}@example.com", "--password", PASSWORD,
                  "--alias", ALIAS)
    account_id = account["AccountId"]
    root_key = cli(env, "access-key", "create", "--account", account_id)
    cli(env, "iam-user", "create", "--account", account_id, "--name", ADMIN)
    key = cli(env, "access-key", "create", "--account", account_id, "--user", ADMIN)
    setup_s = time.perf_counter() - t0
    load_s = asyncio.run(bulk_load(d, account_id, batch, path_users, log))
    d.meta = {"size": d.size, "backend": d.backend, "database_url": d.database_url, "account_id": account_id,
              "path_users": path_users, "migrations": migrations_digest(),
              "root_key": [root_key["AccessKeyId"], root_key["SecretAccessKey"]],
              "key": [key["AccessKeyId"], key["SecretAccessKey"]], "setup_seconds": round(setup_s, 2),
              "load_seconds": round(load_s, 2), "batch": batch, "complete": True,
              "built_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    d.save_meta()
    log(f"  {d.name}: {d.size:,} users loaded in {load_s:.1f} s ({d.size / load_s:,.0f} users/s; account, "
        f"admin and keys through the CLI {setup_s:.1f} s)")


async def fix_counts(d: Directory) -> int | None:
    """The account's maintained user count (iam_entity_counts, migration 0030), which the bulk load bypassed, set
    from the rows; None when the schema has no such table."""
    from sqlalchemy import inspect, text

    from vestibule.store.database import make_engine

    engine = make_engine(d.database_url)
    account = {"a": d.meta["account_id"]}
    try:
        async with engine.begin() as conn:
            if not await conn.run_sync(lambda c: inspect(c).has_table("iam_entity_counts")):
                return None
            await conn.execute(text("DELETE FROM iam_entity_counts WHERE account_id = :a AND kind = 'users'"),
                               account)
            await conn.execute(text("INSERT INTO iam_entity_counts (account_id, kind, n) SELECT CAST(:a AS VARCHAR), "
                                    "'users', count(*) FROM iam_users WHERE account_id = :a"), account)
            found = await conn.execute(text("SELECT n FROM iam_entity_counts WHERE account_id = :a "
                                            "AND kind = 'users'"), account)
            n: int = found.scalar_one()
            return n
    finally:
        await engine.dispose()


SIZED_TABLES = ("iam_users", "directory_users")


def table_bytes(d: Directory) -> dict[str, int]:
    """Each of SIZED_TABLES with its indexes (SQLite: dbstat; PostgreSQL: pg_total_relation_size)."""
    if d.backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(d.data_dir / "vestibule.db")
        try:
            rows = conn.execute("SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s JOIN sqlite_master m "
                                "ON s.name = m.name GROUP BY m.tbl_name").fetchall()
        finally:
            conn.close()
        return {name: int(n) for name, n in rows if name in SIZED_TABLES}

    async def sizes() -> dict[str, int]:
        import asyncpg

        conn = await asyncpg.connect(d.database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return {name: int(await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", name))
                    for name in SIZED_TABLES}
        finally:
            await conn.close()

    return asyncio.run(sizes())


def database_bytes(d: Directory) -> int:
    if d.backend == "sqlite":
        return sum(p.stat().st_size for p in d.data_dir.glob("vestibule.db*"))

    async def size() -> int:
        import asyncpg

        conn = await asyncpg.connect(d.database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            value: int = await conn.fetchval("SELECT pg_database_size(current_database())")
            return value
        finally:
            await conn.close()

    return asyncio.run(size())


# --- a running directory ---------------------------------------------------------------------


@dataclass
class Target:
    d: Directory
    server: Server
    client: Client
    deep_marker: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)
    full_list: dict[str, Any] = field(default_factory=dict)
    scim: http.client.HTTPConnection | None = None

    @property
    def store_id(self) -> str:
        ic: dict[str, str] = self.d.meta.get("identity_center", {})
        return ic.get("identity_store_id", "")

    def scim_filter(self, name: str) -> bytes:
        where = quote(f'userName eq "{name}"')
        headers = {"Authorization": f"Bearer {self.d.meta['identity_center']['scim_token']}",
                   "Accept": "application/scim+json"}
        for attempt in (1, 2):  # a kept-alive connection the server closed while idle: open a new one once
            if self.scim is None:
                self.scim = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            try:
                self.scim.request("GET", f"/scim/v2/Users?filter={where}", headers=headers)
                resp = self.scim.getresponse()
                body = resp.read()
                break
            except (OSError, http.client.HTTPException):
                self.scim.close()
                self.scim = None
                if attempt == 2:
                    raise
        if resp.status != 200 or b'"totalResults":1' not in body.replace(b" ", b""):
            raise SystemExit(f"{self.d.name}: SCIM filter of {name}: {resp.status} {body[:300]!r}")
        return body

    def call(self, service: str, body: str) -> bytes:
        try:
            return self.client.ok(service, body)
        except ConnectionError:  # closed by the server while idle (the client reconnects)
            return self.client.ok(service, body)


def start(d: Directory, workers: int, tmp: Path) -> Target:
    port = free_port()
    argv = [venv_bin("vestibule"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    server = Server(d.name, argv, port, env=d.env(port), log_path=tmp / f"{d.name}.log", health_path="/_health")
    server.start(timeout=600)  # the first start on a built database may add the indexes of new migrations
    key_id, secret = d.meta["key"]
    t = Target(d, server, Client(port, Signer(key_id, secret)))
    d.meta["user_count"] = asyncio.run(fix_counts(d))  # after the server's migrations
    if not d.meta.get("admin_attached"):
        root = Client(port, Signer(*d.meta["root_key"]))
        root.ok("iam", iam_body("AttachUserPolicy", UserName=ADMIN,
                                PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"))
        root.close()
        d.meta["admin_attached"] = True
        d.save_meta()
    return t


def deep_marker(t: Target) -> str:
    """A marker 90 % into the list, made with the server's codec and signing key; the codec is first checked
    against the marker the server itself answers after its first page."""
    from sqlalchemy import select

    from vestibule.core.pagination import MarkerCodec
    from vestibule.core.secretbox import SecretBox
    from vestibule.store.database import make_engine
    from vestibule.store.models import IamUser

    box = SecretBox.from_hex((t.d.data_dir / "master.key").read_text())
    codec = MarkerCodec(box.signing_key, "ListUsers", t.d.meta["account_id"], "/")
    first = t.call("iam", iam_body("ListUsers", MaxItems="100"))
    served = MARKER.search(first)
    names = USER_NAME.findall(first)
    if served is None or len(names) != 100:
        raise SystemExit(f"{t.d.name}: the first ListUsers page has {len(names)} users and no marker")
    deep_name = user_name(int(t.d.size * DEEP_AT))

    async def ids() -> dict[str, str]:
        engine = make_engine(t.d.database_url)
        try:
            async with engine.connect() as conn:
                wanted = [names[-1].decode().lower(), deep_name]
                rows = await conn.execute(select(IamUser.name_lower, IamUser.id).where(
                    IamUser.account_id == t.d.meta["account_id"], IamUser.name_lower.in_(wanted)))
                return {name: uid for name, uid in rows.all()}
        finally:
            await engine.dispose()

    found = asyncio.run(ids())
    last = names[-1].decode().lower()
    if codec.encode((last, found[last])) != served.group(1).decode():
        raise SystemExit(f"{t.d.name}: the marker codec does not make the server's markers (the scope changed?)")
    return codec.encode((deep_name, found[deep_name]))


def check(t: Target) -> None:
    """Every request kind once, with its answer checked."""
    t.deep_marker = deep_marker(t)
    t.call("sts", gci_body())
    t.call("iam", iam_body("GetUser", UserName=user_name(t.d.size - 1)))
    deep = t.call("iam", iam_body("ListUsers", MaxItems="100", Marker=t.deep_marker))
    names = USER_NAME.findall(deep)
    expected = user_name(int(t.d.size * DEEP_AT) + 1).encode()
    if len(names) != min(100, t.d.size - int(t.d.size * DEEP_AT) - 1) or names[0] != expected:
        raise SystemExit(f"{t.d.name}: the deep page starts at {names[:1]}, expected {expected!r}")
    prefix = t.call("iam", iam_body("ListUsers", MaxItems="100", PathPrefix=TEAM_PATH))
    expected_prefix = min(100, t.d.meta["path_users"])
    in_path = prefix.count(f"<Path>{TEAM_PATH}</Path>".encode())
    if len(MEMBER.findall(prefix)) != expected_prefix or in_path != expected_prefix:
        raise SystemExit(f"{t.d.name}: ListUsers PathPrefix answered {len(MEMBER.findall(prefix))} users")
    problem = asyncio.run(_signin(t.server.port, user_name(t.d.size // 2)))
    if problem is not None:
        raise SystemExit(f"{t.d.name}: a sign-in failed: {problem}; see {t.server.log_path}")
    if t.store_id:
        t.scim_filter(user_name(t.d.size - 1))
        problem = asyncio.run(_portal_signin(t.server.port, t.store_id, user_name(t.d.size // 2)))
        if problem is not None:
            raise SystemExit(f"{t.d.name}: a portal sign-in failed: {problem}; see {t.server.log_path}")


async def _signin(port: int, name: str) -> str | None:
    conn = Connection("127.0.0.1", port)
    try:
        return await sign_in_once(conn, ALIAS, name, f"http://127.0.0.1:{port}")
    finally:
        await conn.close()


async def _portal_signin(port: int, store_id: str, name: str) -> str | None:
    """A complete access portal sign-in as a new browser: the start page (user name), the flow's password step,
    the portal home; None when it worked, else what went wrong."""
    conn = Connection("127.0.0.1", port)
    origin = f"http://127.0.0.1:{port}"
    jar: dict[str, str] = {}
    common = [("Accept-Language", "en"), ("User-Agent", "vestibule-bench/1")]
    form = [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", origin)]

    async def form_post(path: str, fields: dict[str, str]) -> tuple[int, str]:
        status, headers, body = await conn.request("GET", path, common + _cookie_header(jar))
        _store_cookies(jar, headers)
        match = CSRF.search(body)
        if status != 200 or not match:
            return status, f"GET {path}: {status}, csrf_token {'found' if match else 'missing'}"
        data = urlencode({"csrf_token": match.group(1).decode(), **fields}).encode()
        status, headers, body = await conn.request("POST", path, common + form + _cookie_header(jar), data)
        _store_cookies(jar, headers)
        location = next((v for k, v in headers if k == "location"), "")
        return status, location.removeprefix(origin)

    try:
        status, flow_url = await form_post(f"/portal/{store_id}/start", {"username": name})
        if status != 303 or "/signin?flow=" not in flow_url:
            return f"start POST {status} -> {flow_url}"
        status, home = await form_post(flow_url, {"step": "password", "password": PASSWORD})
        if status != 303 or home != f"/portal/{store_id}/":
            return f"password POST {status} -> {home}"
        status, _headers, _body = await conn.request("GET", home, common + _cookie_header(jar))
        if status != 200:
            return f"portal GET {status}"
        return None
    finally:
        await conn.close()


def sample(t: Target, metric: str, rng: random.Random) -> float:
    """One request (one sign-in) of `metric`, checked; answers its milliseconds."""
    if metric == "signin":
        name = user_name(rng.randrange(t.d.size))
        t0 = time.perf_counter()
        problem = asyncio.run(_signin(t.server.port, name))
        elapsed = time.perf_counter() - t0
        if problem is not None:
            raise SystemExit(f"{t.d.name}: a sign-in of {name} failed: {problem}")
        return elapsed * 1000
    if metric == "portal":
        name = user_name(rng.randrange(t.d.size))
        t0 = time.perf_counter()
        problem = asyncio.run(_portal_signin(t.server.port, t.store_id, name))
        elapsed = time.perf_counter() - t0
        if problem is not None:
            raise SystemExit(f"{t.d.name}: a portal sign-in of {name} failed: {problem}")
        return elapsed * 1000
    if metric == "scim":
        name = user_name(rng.randrange(t.d.size))
        t0 = time.perf_counter()
        t.scim_filter(name)
        return (time.perf_counter() - t0) * 1000
    if metric == "gci":
        service, body = "sts", gci_body()
    elif metric == "getuser":
        service, body = "iam", iam_body("GetUser", UserName=user_name(rng.randrange(t.d.size)))
    elif metric == "list-first":
        service, body = "iam", iam_body("ListUsers", MaxItems="100")
    elif metric == "list-deep":
        service, body = "iam", iam_body("ListUsers", MaxItems="100", Marker=t.deep_marker)
    else:
        service, body = "iam", iam_body("ListUsers", MaxItems="100", PathPrefix=TEAM_PATH)
    t0 = time.perf_counter()
    t.call(service, body)
    return (time.perf_counter() - t0) * 1000


def metrics_of(t: Target) -> tuple[str, ...]:
    return METRICS if t.store_id else tuple(m for m in METRICS if m not in IC_METRICS)


def full_listing(t: Target, page: int) -> dict[str, Any]:
    """Every user, page after page; the count must be the size (plus bench-admin)."""
    marker: str | None = None
    users = pages = 0
    slowest = 0.0
    t0 = time.perf_counter()
    while True:
        params = {"MaxItems": str(page)}
        if marker:
            params["Marker"] = marker
        p0 = time.perf_counter()
        body = t.call("iam", iam_body("ListUsers", **params))
        slowest = max(slowest, time.perf_counter() - p0)
        users += len(MEMBER.findall(body))
        pages += 1
        found = MARKER.search(body)
        if found is None or b"<IsTruncated>true</IsTruncated>" not in body:
            break
        marker = found.group(1).decode()
    total = time.perf_counter() - t0
    if users != t.d.size + 1:
        raise SystemExit(f"{t.d.name}: the full listing found {users} users, expected {t.d.size + 1}")
    return {"seconds": total, "users": users, "pages": pages, "ms_per_page": total / pages * 1000,
            "slowest_page_ms": slowest * 1000, "us_per_user": total / users * 1e6, "measured": True}


# --- the run ---------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,100000,1000000", help="users per directory, comma list")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--root", type=Path, default=Path("/tmp/vestibule-bench-scale"),
                    help="where the SQLite data directories, the master keys and the build records live")
    ap.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432",
                    help="PostgreSQL server; the databases are <--pg-prefix>_<size>, dropped and created here")
    ap.add_argument("--pg-prefix", default="bench_scale", help="PostgreSQL databases are <prefix>_<size>")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="Redis for the PostgreSQL servers")
    ap.add_argument("--reuse", action="store_true", help="reuse databases built by an earlier run (meta.json)")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--no-identity-center", action="store_true",
                    help="no Identity Center directory (and no portal sign-in and SCIM measurements)")
    ap.add_argument("--batch", type=int, default=10000, help="rows per insert batch")
    ap.add_argument("--path-users", type=int, default=500, help=f"users with the path {TEAM_PATH}, every size")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=100, help="API requests per metric, size and round")
    ap.add_argument("--signins", type=int, default=15, help="sign-ins per size and round")
    ap.add_argument("--full-list-max", type=int, default=1_000_000,
                    help="walk the full listing only at sizes up to this (larger: extrapolated)")
    ap.add_argument("--full-list-page", type=int, default=1000, help="MaxItems of the full listing's pages")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of each server")
    ap.add_argument("--max-load", type=float, default=0.5)
    ap.add_argument("--max-wait", type=float, default=600.0)
    args = ap.parse_args()

    def log(msg: str) -> None:
        print(msg, flush=True)

    sizes = sorted(int(s) for s in args.sizes.split(","))
    backends = args.backends.split(",")
    check_signer_against_botocore()
    args.root.mkdir(parents=True, exist_ok=True)
    dirs = [Directory(b, s, args.root, args.pg_url, args.redis_url, args.pg_prefix) for b in backends for s in sizes]
    log("building the directories ...")
    for d in dirs:
        build(d, args.reuse, args.batch, args.path_users, not args.no_identity_center, log)
    if args.build_only:
        return 0
    tmp = args.root / "logs"
    tmp.mkdir(exist_ok=True)
    targets: list[Target] = []
    rng = random.Random(14)
    try:
        log("starting the servers ...")
        for d in dirs:
            targets.append(start(d, args.workers, tmp))
            log(f"  {d.name}: port {targets[-1].server.port}")
        for t in targets:
            check(t)
        load = wait_for_quiet(args.max_load, args.max_wait, log)
        info = machine()
        log(f"machine: {info}")
        for t in targets:  # warm-up, not recorded
            for metric in metrics_of(t):
                for _ in range(2 if metric in ("signin", "portal") else 10):
                    sample(t, metric, rng)
        for rnd in range(args.rounds):
            for metric in METRICS:
                for backend in backends:
                    group = [t for t in targets if t.d.backend == backend and metric in metrics_of(t)]
                    if not group:
                        continue
                    shift = rnd % len(group)
                    group = group[shift:] + group[:shift]
                    got: dict[str, list[float]] = {t.d.name: [] for t in group}
                    # request by request, every size in turn: a change in the machine's load hits them alike
                    for _ in range(args.signins if metric in ("signin", "portal") else args.samples):
                        for t in group:
                            got[t.d.name].append(sample(t, metric, rng))
                    for t in group:
                        values = got[t.d.name]
                        t.samples.setdefault(metric, []).extend(values)
                        log(f"round {rnd + 1} {metric:11} {t.d.name:18} median {median(values):8.2f} ms  "
                            f"p99 {percentile(values, 99):8.2f} ms  load {os.getloadavg()[0]:.2f}")
        for t in targets:
            if t.d.size <= args.full_list_max:
                t.full_list = full_listing(t, args.full_list_page)
                log(f"full listing {t.d.name}: {t.full_list['seconds']:.1f} s, {t.full_list['pages']} pages, "
                    f"{t.full_list['ms_per_page']:.1f} ms per page")
        for backend in backends:
            group = [t for t in targets if t.d.backend == backend]
            walked = [t for t in group if t.full_list]
            for t in group:
                if not t.full_list and walked:
                    ref = walked[-1].full_list
                    t.full_list = {"seconds": ref["us_per_user"] * (t.d.size + 1) / 1e6, "measured": False,
                                   "from": walked[-1].d.name, "us_per_user": ref["us_per_user"]}
    finally:
        for t in targets:  # every server stopped, whatever failed
            t.server.stop()
        for t in targets:
            t.client.close()
            if t.scim is not None:
                t.scim.close()
    results = {
        "command": command_line(), "machine": info, "loadavg_start": load, "workers": args.workers,
        "rounds": args.rounds, "samples": args.samples, "signins": args.signins,
        "versions": versions(dirs),
        "directories": {t.d.name: {"backend": t.d.backend, "size": t.d.size, "meta": _public(t.d.meta),
                                   "bytes": database_bytes(t.d), "tables": table_bytes(t.d), "samples": t.samples,
                                   "full_list": t.full_list}
                        for t in targets},
    }
    print()
    print(render(results))
    path = save_json("scale", results)
    print(f"\nraw numbers: {os.path.relpath(path)}")
    return 0


def _public(meta: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in meta.items() if k not in ("root_key", "key")}
    if "identity_center" in out:
        out["identity_center"] = {k: v for k, v in out["identity_center"].items() if k != "scim_token"}
    return out


def versions(dirs: list[Directory]) -> dict[str, str]:
    import sqlite3

    out = {"sqlite": sqlite3.sqlite_version}
    pg = [d for d in dirs if d.backend == "postgresql"]
    if pg:
        async def version() -> str:
            import asyncpg

            conn = await asyncpg.connect(pg[0].database_url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                value: str = await conn.fetchval("SHOW server_version")
                return value
            finally:
                await conn.close()

        out["postgresql"] = asyncio.run(version())
    return out


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    dirs = results["directories"]
    backends = list(dict.fromkeys(v["backend"] for v in dirs.values()))
    lines = [
        f"Command: `{results['command']}`",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB, Python {m['python']}, SQLite "
        f"{results['versions'].get('sqlite')}, PostgreSQL {results['versions'].get('postgresql', '-')}, "
        f"{m['date']}, load average before {m['loadavg'][0]:.2f} / {m['loadavg'][1]:.2f} / {m['loadavg'][2]:.2f}; "
        f"code {m.get('code', '?')}. `vestibule serve --workers {results['workers']}` per directory, one "
        f"sequential client; {results['rounds']} rounds of {results['samples']} requests "
        f"({results['signins']} sign-ins) per metric and size.",
    ]
    for backend in backends:
        group = sorted((v for v in dirs.values() if v["backend"] == backend), key=lambda v: v["size"])
        small, large = group[0], group[-1]
        head = " | ".join(f"{v['size']:,} users: median / p99" for v in group)
        lines += ["", f"**{backend}**", "",
                  f"| metric | {head} | median {large['size']:,} / {small['size']:,} |",
                  "|---|" + "---|" * len(group) + "---|"]
        for metric in METRICS:
            if not all(v["samples"].get(metric) for v in group):
                continue
            cells = []
            for v in group:
                s = v["samples"].get(metric, [])
                cells.append(f"{median(s):.2f} / {percentile(s, 99):.2f} ms")
            ratio = median(large["samples"].get(metric, [])) / median(small["samples"].get(metric, []))
            lines.append(f"| {LABELS[metric]} | " + " | ".join(cells) + f" | **{ratio:.2f}x** |")
        cells = []
        for v in group:
            f = v["full_list"]
            if not f:
                cells.append("-")
            elif f["measured"]:
                cells.append(f"{f['seconds']:.1f} s ({f['pages']} pages, {f['us_per_user']:.1f} µs/user)")
            else:
                cells.append(f"~{f['seconds']:.0f} s (extrapolated from {f['from']})")
        per_user = [v["full_list"]["us_per_user"] for v in (small, large) if v["full_list"]]
        ratio_s = f"{per_user[-1] / per_user[0]:.2f}x per user" if len(per_user) == 2 else "-"
        lines.append("| full listing, MaxItems=1000 pages | " + " | ".join(cells) + f" | {ratio_s} |")
        lines.append("| database size | " + " | ".join(_mb(v["bytes"]) for v in group) + " | |")
        lines.append("| bulk load: IAM users / directory users | " + " | ".join(
            f"{v['meta'].get('load_seconds', 0):.1f} s / "
            f"{v['meta'].get('identity_center', {}).get('load_seconds', 0):.1f} s" for v in group) + " | |")
        if large["size"] > small["size"]:
            per_million = (large["bytes"] - small["bytes"]) / (large["size"] - small["size"]) * 1e6
            tables = ", ".join(f"`{name}` with its indexes {_mb(large['tables'][name] / large['size'] * 1e6)}"
                               for name in SIZED_TABLES if name in large["tables"])
            lines += ["", f"Database size per million users ({backend}, from the {small['size']:,} and "
                          f"{large['size']:,} user databases, IAM users and directory users together): "
                          f"{_mb(per_million)}; per million rows at {large['size']:,}: {tables}."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
