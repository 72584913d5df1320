"""SQLite database files as whole files: SQLite's online backup (consistent while other connections write) and
the checks a restore makes of a file before it takes it."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path


class NotAVestibuleDatabase(ValueError):
    pass


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite+aiosqlite:///...` URL (None for other databases or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def online_backup(source: Path, target: Path) -> None:
    """Copy `source` into `target` with the backup API, in one step: a snapshot of one read transaction, which in
    WAL mode never blocks the writers of a serving process. `target` ends as one self-contained file (rollback
    journal mode, no -wal beside it), mode 0600."""
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise OSError(f"the backup {target} failed its integrity check")


def copy_into(source: Path, target: Path) -> None:
    """Replace the whole content of `target` (created when missing) by `source`'s, through the backup API, so a
    WAL file of the old content is never replayed onto the new one."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src, \
            closing(sqlite3.connect(target, timeout=30)) as dst:
        dst.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=WAL")
    os.chmod(target, 0o600)


def schema_revision(path: Path) -> str:
    """The Alembic revision a Vestibule database file is at; NotAVestibuleDatabase for anything else."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise NotAVestibuleDatabase(f"{path} is a damaged SQLite database")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables or "accounts" not in tables:
                raise NotAVestibuleDatabase(f"{path} is not a Vestibule database (no alembic_version)")
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        raise NotAVestibuleDatabase(f"{path} is not a SQLite database") from None
    if row is None:
        raise NotAVestibuleDatabase(f"{path} is not a Vestibule database (no schema revision)")
    return str(row[0])


def is_database_file(candidate: Path, database: Path) -> bool:
    """Whether `candidate` is the database file `database` or one of the files SQLite keeps beside it (-wal,
    -shm, -journal): the same file (hard or symbolic links too) or the same resolved path."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        own = Path(f"{database}{suffix}")
        try:
            if candidate.exists() and own.exists() and os.path.samefile(candidate, own):
                return True
        except OSError:
            pass
        if candidate.resolve() == own.resolve():
            return True
    return False


def schema_objects(path: Path) -> set[tuple[str, str, str]]:
    """(type, name, table) of every table, index, trigger and view of a database file; SQLite's own `sqlite_*`
    objects (statistics, autoincrement counters) left out."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        rows = db.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    return {(str(t), str(n), str(tbl)) for t, n, tbl in rows if not str(n).startswith("sqlite_")}


def exists(path: Path) -> bool:
    """A database is there: its file, or a WAL left beside it."""
    return any(Path(f"{path}{suffix}").exists() for suffix in ("", "-wal"))


def known_revision(revision: str) -> bool:
    """Whether this code ships the migration `revision` (a backup from a newer Vestibule does not)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except CommandError:
        return False
