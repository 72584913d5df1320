"""`vestibule backup` while a server writes, `vestibule restore` into a fresh data directory (with the master key
copied), and a user signing in there with the restored password and TOTP device; what a restore refuses."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import httpx
import pyotp
import pytest

from http_steps import ROOT_PASSWORD, USER_PASSWORD
from support import csrf_of, on_live_server, start_live_server, stop_live_server
from vestibule.cli import main
from vestibule.core import identifiers as ids
from vestibule.core.passwords import HashParameters
from vestibule.runtime import build
from vestibule.services import access_keys, accounts, iam_users, mfa
from vestibule.services.context import Deps
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.store.models import MfaDevice

VESTIBULE = str(Path(sys.executable).with_name("vestibule"))
CHEAP = HashParameters(1024, 1, 1)


def _settings(data_dir: Path) -> Settings:
    """The embedded database in `data_dir` and the key file beside it (what `vestibule serve` uses by default)."""
    return Settings(data_dir=data_dir, database_url="", redis_url="", master_key="", public_url="http://testserver",
                    argon2_memory_kib=CHEAP.memory_kib, argon2_time_cost=CHEAP.time_cost, argon2_parallelism=1)


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATA_DIR=str(data_dir), VESTIBULE_ARGON2_MEMORY_KIB="1024", VESTIBULE_ARGON2_TIME_COST="1",
               **extra)
    return env


def _migrated(settings: Settings) -> Settings:
    async def go() -> None:
        await (await build(settings)).close()

    asyncio.run(go())
    return settings


class _Cli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def __call__(self, data_dir: Path, *argv: str, **extra: str) -> tuple[int, str, str]:
        for name in [n for n in os.environ if n.startswith("VESTIBULE_")]:
            self.monkeypatch.delenv(name)
        for name, value in _env(data_dir, **extra).items():
            self.monkeypatch.setenv(name, value)
        self.capsys.readouterr()
        code = main(list(argv))
        out = self.capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> _Cli:
    return _Cli(monkeypatch, capsys)


def _boto(url: str, service: str, key_id: str, secret: str) -> Any:
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=10,
                                    read_timeout=20)
    return boto3.session.Session().client(service, endpoint_url=url, region_name="us-east-1", config=config,
                                          aws_access_key_id=key_id, aws_secret_access_key=secret)


def _sign_in_with_totp(url: str, alias: str, name: str, code: str) -> httpx.Response:
    with httpx.Client(base_url=url, follow_redirects=False, timeout=20) as c:
        page = c.get(f"/{alias}/console")
        r = c.post(f"/{alias}/console", data={"csrf_token": csrf_of(page.text), "username": name,
                                               "password": USER_PASSWORD})
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow="), r.text
        flow = r.headers["location"]
        page = c.get(flow)
        r = c.post(flow, data={"csrf_token": csrf_of(page.text), "step": "mfa", "mfa_code": code})
        assert r.status_code == 303 and r.headers["location"] == "/console", r.text
        return c.get("/console")


def test_backup_while_serving_restores_into_a_fresh_data_dir_and_the_user_signs_in_with_totp(
        tmp_path: Path, cli: _Cli) -> None:
    live_dir, restored_dir, backup = tmp_path / "live", tmp_path / "restored", tmp_path / "backups" / "v.db"
    backup.parent.mkdir()
    live = start_live_server(_migrated(_settings(live_dir)), DevMailbox())
    try:
        async def setup(deps: Deps) -> tuple[str, str, str]:
            async with deps.store.unit() as uow:
                created = await accounts.create_account(deps, uow, email="owner@example.com",
                                                        password=ROOT_PASSWORD, alias="acme")
                account = await accounts.require(uow, created.account_id)
                user = await iam_users.create_user(deps, uow, account, "alice", password=USER_PASSWORD)
                key = await access_keys.create(deps, uow, account.id, f"root:{account.id}")
                secret = pyotp.random_base32()
                serial = ids.mfa_arn(account.id, "alice-phone")
                await uow.mfa.add(MfaDevice(account_id=account.id, principal_key=f"user:{user.id}", name="alice-phone",
                                            serial=serial, secret_sealed=mfa.seal_secret(deps, serial, secret),
                                            enabled_at=deps.clock(), last_used_step=None, created_at=deps.clock()))
            return key.access_key_id, key.secret_access_key, secret

        key_id, key_secret, totp_secret = on_live_server(live, setup(live.runtime.deps))
        iam = _boto(live.url, "iam", key_id, key_secret)
        acknowledged: list[str] = []
        stop = threading.Event()

        def writes() -> None:  # IAM users created one after another while the backup runs
            while not stop.is_set():
                name = f"w{len(acknowledged)}"
                iam.create_user(UserName=name)
                acknowledged.append(name)

        writer = threading.Thread(target=writes, daemon=True)
        writer.start()
        time.sleep(0.5)
        before = list(acknowledged)
        made = subprocess.run([VESTIBULE, "backup", "--to", str(backup)], env=_env(live_dir), capture_output=True,
                              text=True, timeout=120)
        written_during = len(acknowledged) - len(before)
        time.sleep(0.2)
        stop.set()
        writer.join(30)
        assert made.returncode == 0, made.stderr
        assert made.stderr.strip().splitlines() == [
            f"the backup does not contain the master key: keep {live_dir / 'master.key'} safe apart from it, "
            "a restore needs it"]
        assert json.loads(made.stdout)["Backup"] == str(backup)
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert written_during > 0, "the server kept writing while the backup ran"
    finally:
        stop_live_server(live)
    assert b"master.key" not in backup.read_bytes() and (live_dir / "master.key").read_text().split()[0].encode() \
        not in backup.read_bytes()

    restored_dir.mkdir(mode=0o700)
    shutil.copy2(live_dir / "master.key", restored_dir / "master.key")
    code, out, err = cli(restored_dir, "restore", "--from", str(backup))
    assert code == 0, err
    assert json.loads(out)["SealedValues"] >= 2  # the access key secret and the TOTP seed
    with sqlite3.connect(restored_dir / "vestibule.db") as db:
        users = {r[0] for r in db.execute("SELECT name FROM iam_users")}
    assert set(before) <= users and users <= {"alice", *acknowledged}  # a consistent point in time

    fresh = start_live_server(_settings(restored_dir), DevMailbox())
    try:
        console = _sign_in_with_totp(fresh.url, "acme", "alice", pyotp.TOTP(totp_secret).now())
        assert console.status_code == 200 and "alice" in console.text
        pages = _boto(fresh.url, "iam", key_id, key_secret).get_paginator("list_users")
        assert {u["UserName"] for page in pages.paginate() for u in page["Users"]} == users
    finally:
        stop_live_server(fresh)


def test_restore_refusals(tmp_path: Path, cli: _Cli) -> None:
    source_dir = tmp_path / "source"
    _migrated(_settings(source_dir))
    assert cli(source_dir, "account", "create", "--email", "o@example.com", "--password", ROOT_PASSWORD)[0] == 0
    assert cli(source_dir, "access-key", "create", "--account", json.loads(
        cli(source_dir, "account", "create", "--email", "p@example.com", "--password", ROOT_PASSWORD)[1]
    )["AccountId"])[0] == 0
    backup = tmp_path / "b.db"
    assert cli(source_dir, "backup", "--to", str(backup))[0] == 0
    code, _, err = cli(source_dir, "backup", "--to", str(backup))
    assert code == 1 and "already exists" in err and len(err.splitlines()) == 1
    assert cli(source_dir, "backup", "--to", str(backup), "--force")[0] == 0

    target = tmp_path / "target"
    code, _, err = cli(target, "restore", "--from", str(backup))
    assert code == 1 and "no master key" in err and len(err.splitlines()) == 1
    assert not (target / "master.key").exists() and not (target / "vestibule.db").exists()
    target.mkdir(exist_ok=True)
    (target / "master.key").write_text("cd" * 32 + "\n")
    code, _, err = cli(target, "restore", "--from", str(backup))
    assert code == 1 and "nothing was changed" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in target.iterdir()) == ["master.key"]

    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    for bad, reason in ((not_sqlite, "not a SQLite database"), (other, "not a Vestibule database"),
                        (tmp_path / "missing.db", "no backup file")):
        code, _, err = cli(source_dir, "restore", "--from", str(bad), "--force")
        assert code == 1 and reason in err and len(err.splitlines()) == 1

    shutil.copy2(source_dir / "master.key", target / "master.key")
    assert cli(target, "restore", "--from", str(backup))[0] == 0
    code, _, err = cli(target, "restore", "--from", str(backup))
    assert code == 1 and "already exists" in err and "--force" in err and len(err.splitlines()) == 1
    code, out, err = cli(target, "restore", "--from", str(backup), "--force")
    assert code == 0, err
    code, out, _ = cli(target, "master-key", "status")
    assert sum(k["Values"] for k in json.loads(out)["Keys"]) == 1


def test_postgresql_points_to_pg_dump(tmp_path: Path, cli: _Cli) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    for argv, tool in ((("backup", "--to", str(tmp_path / "x.db")), "pg_dump"),
                       (("restore", "--from", str(tmp_path / "x.db")), "pg_restore")):
        code, _, err = cli(tmp_path, *argv, VESTIBULE_DATABASE_URL=url)
        assert code == 2 and tool in err and "docs/deployment.md" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


TEST_DATABASE_URL = os.environ.get("VESTIBULE_TEST_DATABASE_URL", "")


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                    reason="the PostgreSQL pass of the suite runs it (VESTIBULE_TEST_DATABASE_URL)")
def test_postgresql_pg_dump_and_pg_restore_as_the_docs_show(settings: Settings, tmp_path: Path, cli: _Cli) -> None:
    """docs/deployment.md, "Backups": pg_dump --format=custom, pg_restore into an empty database, vestibule
    migrate, vestibule master-key status; then a node on the restored database accepts the old access key."""
    source = settings.database_url
    base, _, name = source.rpartition("/")
    target = f"{base}/{name}_restored"
    dump = tmp_path / "vestibule.dump"
    key = {"VESTIBULE_DATABASE_URL": source, "VESTIBULE_MASTER_KEY": settings.master_key}
    code, out, err = cli(tmp_path, "account", "create", "--email", "pg@example.com", "--password", ROOT_PASSWORD,
                         "--alias", "pg-acme", **key)
    assert code == 0, err
    code, out, err = cli(tmp_path, "access-key", "create", "--account", "pg-acme", **key)
    assert code == 0, err
    made = json.loads(out)

    def run(*argv: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    run("pg_dump", "--format=custom", f"--file={dump}", _libpq(source))
    run("pg_restore", "--list", str(dump))
    maintenance = f"{_libpq(base)}/postgres"
    run("psql", maintenance, "-c", f'DROP DATABASE IF EXISTS "{name}_restored"', "-c",
        f'CREATE DATABASE "{name}_restored"')
    try:
        run("pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={_libpq(target)}",
            str(dump))
        restored = {"VESTIBULE_DATABASE_URL": target, "VESTIBULE_MASTER_KEY": settings.master_key}
        assert cli(tmp_path, "migrate", **restored)[0] == 0
        code, out, _ = cli(tmp_path, "master-key", "status", **restored)
        status = json.loads(out)
        assert code == 0 and status["UnknownKeyIds"] == {} and status["Keys"][0]["Values"] == 1
        code, out, _ = cli(tmp_path, "master-key", "status", VESTIBULE_DATABASE_URL=target,
                           VESTIBULE_MASTER_KEY="ef" * 32)
        assert list(json.loads(out)["UnknownKeyIds"].values()) == [1]  # the wrong keyring shows at once

        node = start_live_server(settings.with_overrides(database_url=target), DevMailbox())
        try:
            caller = _boto(node.url, "sts", made["AccessKeyId"], made["SecretAccessKey"]).get_caller_identity()
            assert caller["Account"] == made["AccountId"]
        finally:
            stop_live_server(node)
    finally:
        run("psql", maintenance, "-c", f'DROP DATABASE IF EXISTS "{name}_restored" WITH (FORCE)')
