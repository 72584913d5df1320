"""Production hardening found by the issue-15 red team: SQL parameters never logged, a backup never written over the
live database, a restore refusing a tampered schema and a failing migration in one line, database and Redis URLs
checked by `config check`, /metrics answering any Accept header, and no browser cookie on the polled paths."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from support import csrf_of
from vestibule.app import create_app
from vestibule.runtime import Runtime
from vestibule.services import backup
from vestibule.settings import Settings
from vestibule.store import sqlite_files
from vestibule.store.database import make_engine, migrate, migrate_to
from vestibule.web.access_log import uvicorn_log_config

VESTIBULE = str(Path(sys.executable).with_name("vestibule"))
CANARY = "leak-canary-7f3a@example.com"


@asynccontextmanager
async def _app(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process; an unhandled error answers 500 (as a server does) instead of reaching the test."""
    transport = httpx.ASGITransport(app=create_app(runtime, close_runtime=False), raise_app_exceptions=False,
                                    client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


# ---- 2: SQL parameters never reach the logs --------------------------------------------------------------------


_PG_TRIGGER = ["CREATE FUNCTION h7_refuse_flow() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; "
               "END $$ LANGUAGE plpgsql",
               "CREATE TRIGGER h7_refuse_flow BEFORE INSERT ON flows FOR EACH ROW EXECUTE FUNCTION h7_refuse_flow()"]
_PG_DROP = ["DROP TRIGGER IF EXISTS h7_refuse_flow ON flows", "DROP FUNCTION IF EXISTS h7_refuse_flow()"]
# not RAISE(ABORT): SQLite reports it as an integrity error, which the store turns into a Conflict without the
# statement; an operational error keeps the statement (and, without hide_parameters, its values)
_SQLITE_TRIGGER = ["CREATE TRIGGER h7_refuse_flow BEFORE INSERT ON flows BEGIN INSERT INTO h7_no_such_table "
                   "VALUES (1); END"]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS h7_refuse_flow"]


async def _run(url: str, statements: list[str]) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_a_failing_insert_logs_no_parameter_values(runtime: Runtime, settings: Settings,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    url = settings.effective_database_url
    pg = url.startswith("postgresql")
    async with _app(runtime) as client:
        page = await client.get("/")
        await _run(url, _PG_TRIGGER if pg else _SQLITE_TRIGGER)  # the flow's INSERT fails in the database
        try:
            with caplog.at_level(logging.INFO):  # serve's level (aiosqlite's DEBUG lines: pinned to INFO there)
                r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                                 "email": CANARY})
        finally:
            await _run(url, _PG_DROP if pg else _SQLITE_DROP)
    assert r.status_code == 500
    logged = caplog.text + "".join(
        logging.Formatter().formatException(rec.exc_info) for rec in caplog.records if rec.exc_info)
    # the statement's error is logged
    assert ("refused by the test" if pg else "h7_no_such_table") in logged and "INSERT INTO flows" in logged
    assert "[SQL parameters hidden due to hide_parameters=True]" in logged
    assert "[parameters:" not in logged and CANARY not in logged
    for log_format in ("text", "json"):
        assert uvicorn_log_config(log_format, "debug")["loggers"]["aiosqlite"]["level"] == "INFO"


# ---- 3: a backup never replaces the live database --------------------------------------------------------------


@pytest.fixture
def sqlite_settings(settings: Settings) -> Settings:
    """The embedded database in the data directory (what `vestibule backup` is for), whatever the pass."""
    return settings.with_overrides(database_url="", redis_url="")


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
def test_backup_refuses_the_live_database_and_its_wal_and_shm(sqlite_settings: Settings, tmp_path: Path) -> None:
    db = sqlite_files.sqlite_path(sqlite_settings.effective_database_url)
    assert db is not None
    asyncio.run(_migrated(db))
    held = sqlite3.connect(db)  # a serving connection: -wal and -shm stay beside the file
    try:
        held.execute("PRAGMA journal_mode=WAL")
        held.execute("SELECT count(*) FROM accounts").fetchone()
        link = tmp_path / "link.db"
        link.symlink_to(db)
        hard = tmp_path / "hard.db"
        os.link(db, hard)
        relative = Path(os.path.relpath(db, Path.cwd()))
        targets = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), link, hard, relative,
                   db.parent / ".." / db.parent.name / db.name]
        assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
        before = db.read_bytes()
        for target in targets:
            for force in (False, True):
                with pytest.raises(backup.BackupRefused, match="is the live database"):
                    backup.backup(sqlite_settings, target, force=force)
        assert db.read_bytes() == before
        # through the command: one line, exit 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
        env.update(VESTIBULE_DATA_DIR=str(sqlite_settings.data_dir), VESTIBULE_MASTER_KEY=sqlite_settings.master_key)
        done = subprocess.run([VESTIBULE, "backup", "--to", f"{db}-wal", "--force"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.splitlines() == [f"vestibule: error: {db}-wal is the live database (or its -wal/-shm "
                                            "file): back up to another file"]
        assert held.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)  # untouched
        assert held.execute("PRAGMA quick_check").fetchone() == ("ok",)
        other = tmp_path / "backup.db"
        backup.backup(sqlite_settings, other)
        assert sqlite_files.schema_revision(other)
    finally:
        held.close()


async def _migrated(path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


# ---- 4 and 5: a restore refuses a tampered schema, and a failing migration, in one line -----------------------


async def _made_backup(path: Path, revision: str = "head") -> Path:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await (migrate(engine) if revision == "head" else migrate_to(engine, revision))
    finally:
        await engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=DELETE")
    return path


def _restore(settings: Settings, source: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATA_DIR=str(settings.data_dir), VESTIBULE_MASTER_KEY=settings.master_key)
    return subprocess.run([VESTIBULE, "restore", "--from", str(source)], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
@pytest.mark.parametrize("tamper", [
    "CREATE TRIGGER steal AFTER INSERT ON access_keys BEGIN INSERT INTO audit_events(id) VALUES (NEW.id); END",
    "CREATE VIEW everything AS SELECT * FROM accounts",
    "CREATE TABLE extra (x TEXT)",
    "CREATE INDEX sneaky ON accounts (id)",
])
async def test_restore_refuses_a_backup_with_objects_the_schema_does_not_have(
        sqlite_settings: Settings, tmp_path: Path, tamper: str) -> None:
    source = await _made_backup(tmp_path / "tampered.db")
    with sqlite3.connect(source) as db:
        db.execute(tamper)
    done = await asyncio.to_thread(_restore, sqlite_settings, source)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert len(done.stderr.splitlines()) == 1 and "holds schema objects a Vestibule database at revision" in \
        done.stderr and "nothing was changed" in done.stderr, done.stderr
    target = sqlite_files.sqlite_path(sqlite_settings.effective_database_url)
    assert target is not None and not sqlite_files.exists(target)
    assert [p.name for p in target.parent.glob(".*partial*")] == [] if target.parent.exists() else True


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
async def test_restore_of_an_untampered_backup_still_works(sqlite_settings: Settings, tmp_path: Path) -> None:
    source = await _made_backup(tmp_path / "plain.db", "0010")
    done = await asyncio.to_thread(_restore, sqlite_settings, source)
    assert done.returncode == 0, done.stderr


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
async def test_restore_whose_migration_fails_says_so_in_one_line(sqlite_settings: Settings, tmp_path: Path) -> None:
    source = await _made_backup(tmp_path / "old.db", "0004")
    with sqlite3.connect(source) as db:
        db.execute("DROP TABLE flows")  # 0005 alters flows
    done = await asyncio.to_thread(_restore, sqlite_settings, source)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"vestibule: error: {source} could not be migrated to this version's schema")
    assert done.stderr.rstrip().endswith("nothing was changed")
    target = sqlite_files.sqlite_path(sqlite_settings.effective_database_url)
    assert target is not None and not sqlite_files.exists(target)


# ---- 6: /metrics answers any Accept header ---------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "openmetrics"), [
    ("application/openmetrics-text; version=abc", False),
    ("application/openmetrics-text; version=9.9.9", False),
    ("application/openmetrics-text; version=", True),
    ("application/openmetrics-text;version", True),
    ("application/openmetrics-text; version=1.0.0; escaping=nonsense", True),
    ("application/openmetrics-text", True),
    ("text/plain; version=1.0.0; escaping=%%%", False),
    ("text/plain; version=x.y", False),
    (";;;,,,=", False),
    ("", False),
])
async def test_metrics_fall_back_to_the_text_format(runtime: Runtime, accept: str, openmetrics: bool) -> None:
    async with _app(runtime) as client:
        r = await client.get("/metrics", headers={"accept": accept})
    assert r.status_code == 200, r.text
    kind = r.headers["content-type"]
    if openmetrics:
        assert kind.startswith("application/openmetrics-text; version=1.0.0;") and r.text.rstrip().endswith("# EOF")
    else:
        assert kind == "text/plain; version=0.0.4; charset=utf-8"
    assert "9.9.9" not in kind and "abc" not in kind and "nonsense" not in kind and "%" not in kind


# ---- 9: no browser cookie on the polled paths ------------------------------------------------------------------


async def test_polled_paths_set_no_browser_cookie(runtime: Runtime) -> None:
    async with _app(runtime) as client:
        for path in ("/healthz", "/readyz", "/_health", "/metrics", "/metrics?lang=zh-TW", "/readyz?lang=en"):
            r = await client.get(path)
            assert r.status_code in (200, 503), (path, r.status_code)
            assert r.headers.get_list("set-cookie") == [], path
        assert any("vestibule_browser=" in c for c in (await client.get("/")).headers.get_list("set-cookie"))


# ---- 5 and 8: the settings `config check` refuses, in one line each ---------------------------------------------


def _config_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    clean.update(VESTIBULE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run([VESTIBULE, "config", "check"], env=clean, capture_output=True, text=True, timeout=60)


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
@pytest.mark.parametrize(("name", "value", "says"), [
    ("DATABASE_URL", "postgresql+asyncpg://u@127.0.0.1:notaport/db", "its form or port is wrong"),
    ("DATABASE_URL", "notaurl:x", "is not a database URL"),
    ("DATABASE_URL", "mysql://u@db/vestibule", "must use one of the drivers"),
    ("DATABASE_URL", "postgresql://u@db/vestibule", "write postgresql+asyncpg://"),
    ("DATABASE_URL", "postgresql+asyncpg://u@db:70000/vestibule", "not between 1 and 65535"),
    ("REDIS_URL", "redis://h:notaport/0", "its form or port is wrong"),
    ("REDIS_URL", "http://cache:6379/0", "must start with redis://"),
    ("REDIS_URL", "redis://cache:6379/zero", "database number"),
    ("METRICS_TOKEN", "short-token", "at least 16 characters"),
])
def test_config_check_names_a_broken_url_or_a_short_token(tmp_path: Path, name: str, value: str,
                                                          says: str) -> None:
    done = _config_check(tmp_path, **{f"VESTIBULE_{name}": value})
    assert done.returncode == 2 and done.stdout == ""
    problem, *rest = done.stderr.splitlines()
    assert rest == ["configuration is not valid: 1 problem"], done.stderr
    assert problem.startswith(f"vestibule: error: VESTIBULE_{name} ") and says in problem, problem
    if name == "METRICS_TOKEN":
        assert value not in done.stderr
    # any other command stops the same way, in one line, instead of a traceback
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    clean.update(VESTIBULE_DATA_DIR=str(tmp_path / "data"), **{f"VESTIBULE_{name}": value})
    migrated = subprocess.run([VESTIBULE, "migrate"], env=clean, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 2 and len(migrated.stderr.splitlines()) == 1, migrated.stderr


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
def test_trusting_every_address_is_warned_and_a_query_password_is_masked(tmp_path: Path) -> None:
    done = _config_check(tmp_path, VESTIBULE_TRUSTED_PROXIES="10.0.0.1, 0.0.0.0/0, ::/0")
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "trusted_proxies" in line] == [
        "vestibule: warning: trusted_proxies holds 0.0.0.0/0, ::/0: every client may then claim any address in "
        "X-Forwarded-For or Forwarded (throttling, audit events and /metrics trust it); list only your proxies' "
        "addresses"], done.stderr
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    clean.update(VESTIBULE_DATA_DIR=str(tmp_path / "data"),
                 VESTIBULE_DATABASE_URL="postgresql+asyncpg://vestibule@db/vestibule?password=hunter2-secret",
                 VESTIBULE_REDIS_URL="redis://cache:6379/0?password=redis-secret")
    shown = subprocess.run([VESTIBULE, "config"], env=clean, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "hunter2-secret" not in shown.stdout and "redis-secret" not in shown.stdout
    assert "postgresql+asyncpg://********@db/vestibule?password=********" in shown.stdout
    assert "redis://cache:6379/0?password=********" in shown.stdout


# ---- 11: messages name the keyring's real source ---------------------------------------------------------------


@pytest.mark.own_sqlite  # a SQLite data directory of its own in either pass
def test_the_keyring_source_is_named_as_it_was_configured(tmp_path: Path) -> None:
    from vestibule.services import keyring
    from vestibule.settings import read_configuration

    path = tmp_path / "vestibule.toml"
    path.write_text(f'master_key = "{"ab" * 32}"\ndata_dir = "data"\n')
    path.chmod(0o600)
    from_file = read_configuration({}, path).settings_or_error()
    assert keyring.source(from_file) == f"master_key in {path}"
    from_env = read_configuration({"VESTIBULE_MASTER_KEY": "cd" * 32}, path).settings_or_error()
    assert keyring.source(from_env) == "VESTIBULE_MASTER_KEY"
    key_file = read_configuration({"VESTIBULE_DATA_DIR": str(tmp_path / "d")}).settings_or_error()
    assert keyring.source(key_file) == str(tmp_path / "d" / "master.key")
    # a one-key keyring in the file: rotate refuses in one line naming the file's key, not the environment
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    done = subprocess.run([VESTIBULE, "--config", str(path), "master-key", "rotate"], env=clean,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        f"vestibule: error: master_key in {path} holds one key: add a new one on every node first (vestibule "
        "master-key new), as docs/deployment.md \"Rotating the master key\" shows"], done.stderr
