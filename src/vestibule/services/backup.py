"""Backups of the embedded SQLite database and their restore (PostgreSQL: pg_dump and pg_restore, docs/deployment.md).

A backup holds sealed secrets but never the master keys: a restore needs the keyring of the installation that
made it (`<data dir>/master.key` or VESTIBULE_MASTER_KEY), and checks that every sealed value names a key it has."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.secretbox import Keyring
from ..settings import Settings
from ..store import sqlite_files
from ..store.database import make_engine, migrate, migrate_to, sessionmaker_for
from ..store.repositories import Store
from . import key_rotation, keyring

PG_DOCS = "docs/deployment.md, \"Backups\""


class BackupRefused(Exception):
    """A one-line reason, and the exit code of the command (2: not for this database, 1: refused or failed)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _database_file(settings: Settings, verb: str, tool: str) -> Path:
    path = sqlite_files.sqlite_path(settings.effective_database_url)
    if path is None:
        raise BackupRefused(f"vestibule {verb} is for the embedded SQLite database; for PostgreSQL use {tool} "
                            f"as {PG_DOCS} shows", 2)
    return path


def _partial(beside: Path) -> Path:
    return beside.with_name(f".{beside.name}.partial-{secrets.token_hex(4)}")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def backup(settings: Settings, to: Path, *, force: bool = False) -> Path:
    """SQLite's online backup of the configured database into `to` (written beside it, then renamed)."""
    source = _database_file(settings, "backup", "pg_dump")
    if not sqlite_files.exists(source):
        raise BackupRefused(f"no database at {source}")
    if sqlite_files.is_database_file(to, source):
        raise BackupRefused(f"{to} is the live database (or its -wal/-shm file): back up to another file")
    if to.exists() and not force:
        raise BackupRefused(f"{to} already exists (--force replaces it)")
    if to.is_dir():
        raise BackupRefused(f"{to} is a directory")
    partial = _partial(to)
    try:
        sqlite_files.online_backup(source, partial)
        os.replace(partial, to)
    finally:
        _remove(partial)
    return to


@dataclass(frozen=True)
class Restored:
    target: Path
    from_revision: str
    values: int  # sealed values in the restored database, every one under a key of the keyring


def _staged_restore(settings: Settings, source: Path, force: bool) -> tuple[Path, Path, str, Keyring]:
    """The checks a restore makes before it changes anything, and the backup copied beside the target."""
    target = _database_file(settings, "restore", "pg_restore")
    if not source.is_file():
        raise BackupRefused(f"no backup file at {source}")
    try:
        revision = sqlite_files.schema_revision(source)
    except sqlite_files.NotAVestibuleDatabase as exc:
        raise BackupRefused(str(exc)) from None
    if not sqlite_files.known_revision(revision):
        raise BackupRefused(f"{source} is at schema revision {revision}, which this Vestibule does not know "
                            "(a backup of a newer version)")
    if sqlite_files.exists(target) and not force:
        raise BackupRefused(f"a database already exists at {target} (stop the server; --force replaces it)")
    try:
        ring = keyring.load(settings, create=False)
    except FileNotFoundError:
        raise BackupRefused(f"no master key: copy master.key of the backed-up installation to "
                            f"{keyring.key_path(settings)} (or set VESTIBULE_MASTER_KEY) first") from None
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = _partial(target)
    sqlite_files.online_backup(source, staged)
    return target, staged, revision, ring


async def _expected_objects(revision: str) -> set[tuple[str, str, str]]:
    """The schema objects the migrations produce at `revision`, on an empty SQLite database."""
    with tempfile.TemporaryDirectory(prefix="vestibule-schema-") as tmp:
        path = Path(tmp) / "schema.db"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate_to(engine, revision)
        finally:
            await engine.dispose()
        return await asyncio.to_thread(sqlite_files.schema_objects, path)


async def _refuse_foreign_schema(source: Path, staged: Path, revision: str) -> None:
    """A backup holds exactly the tables and indexes of its revision: a trigger, a view or any other object (a
    tampered file) would run inside the restored server, so it is refused."""
    found = await asyncio.to_thread(sqlite_files.schema_objects, staged)
    extra = sorted(found - await _expected_objects(revision))
    if extra:
        shown = ", ".join(f"{kind} {name}" for kind, name, _ in extra[:5]) + (", ..." if len(extra) > 5 else "")
        raise BackupRefused(f"{source} holds schema objects a Vestibule database at revision {revision} does not "
                            f"have ({shown}): refused; nothing was changed")


async def restore(settings: Settings, source: Path, *, force: bool = False) -> Restored:
    """Into the configured data directory: refused when a database is there (unless `force`), when the file is
    not a Vestibule database of a schema this code knows, or when its sealed values name keys the keyring lacks;
    migrated to the newest schema before it takes the database's place."""
    target, staged, revision, ring = await asyncio.to_thread(_staged_restore, settings, source, force)
    try:
        await _refuse_foreign_schema(source, staged, revision)
        engine = make_engine(f"sqlite+aiosqlite:///{staged}")
        store = Store(sessionmaker_for(engine))
        try:
            try:
                await migrate(engine)
            except Exception as exc:  # any failure of a migration: one line, the database untouched
                lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                reason = lines[0][:200] if lines else ""
                raise BackupRefused(f"{source} could not be migrated to this version's schema "
                                    f"({type(exc).__name__}{': ' + reason if reason else ''}); "
                                    "nothing was changed") from None
            used = key_rotation.totals(await key_rotation.counts(store))
        finally:
            await store.close()
            await engine.dispose()
        unknown = sorted(set(used) - set(ring.all_ids))
        if unknown:
            n = sum(used[k] for k in unknown)
            raise BackupRefused(f"{n} sealed values in the backup use master key IDs {', '.join(unknown)}, which the "
                                f"configured keyring does not hold (it has {', '.join(ring.all_ids)}): restore with "
                                "the master key of the backed-up installation; nothing was changed")
        await asyncio.to_thread(sqlite_files.copy_into, staged, target)
    finally:
        await asyncio.to_thread(_remove, staged)
    return Restored(target, revision, sum(used.values()))
