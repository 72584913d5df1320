"""Where the master keys live: VESTIBULE_MASTER_KEY, else `<data dir>/master.key` (created 0600 on first start).

The file is watched: a serving process takes a rewritten keyring (`vestibule master-key rotate`) before its next
seal, and when it meets a key ID it does not know. The environment cannot change under a running process: its
rotation goes node by node (docs/deployment.md)."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..core.secretbox import Keyring, SecretBox, parse_keyring
from ..settings import Settings, SettingsError

log = logging.getLogger("vestibule")
KEY_FILE = "master.key"


def key_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / KEY_FILE


def from_environment(settings: Settings) -> bool:
    """The keyring is a setting (VESTIBULE_MASTER_KEY or the configuration file's master_key), not the key file."""
    return bool(settings.master_key)


def source(settings: Settings) -> str:
    """Where the keyring comes from, for messages: the environment variable, the configuration file's key, or the
    key file."""
    if not settings.master_key:
        return str(key_path(settings))
    if "master_key" in settings.from_file:
        return f"master_key in {settings.config_file}"
    return "VESTIBULE_MASTER_KEY"


def keep_copy(settings: Settings, kid: str, key: bytes) -> Path:
    """`master.key.retired-<kid>` beside the key file (0600, synced): the key stays recoverable after `forget`."""
    path = key_path(settings).with_name(f"{KEY_FILE}.retired-{kid}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"# master key {kid}, forgotten by vestibule master-key forget; it opens nothing stored any more.\n"
                 f"# To use it again, add this line to master.key: retired:{key.hex()}\n"
                 f"retired:{key.hex()}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o600)
    return path


def keyring_text(settings: Settings, *, create: bool = True) -> str:
    """The keyring as written: VESTIBULE_MASTER_KEY, else the key file (a new one-key file when absent and
    `create`)."""
    if settings.master_key:
        return settings.master_key
    path = key_path(settings)
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"no master key: {path} does not exist and VESTIBULE_MASTER_KEY is not set")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        log.info("created master key %s", path)
    return path.read_text()


def load(settings: Settings, *, create: bool = True) -> Keyring:
    try:
        return parse_keyring(keyring_text(settings, create=create))
    except ValueError as exc:
        raise SettingsError(f"{source(settings)}: {exc}") from None


def write(settings: Settings, ring: Keyring) -> None:
    """Replace the key file at once (a temporary file renamed over it, mode 0600, synced)."""
    path = key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".master.key.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(ring.text())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class RotationRunning(Exception):
    pass


@contextmanager
def rotation_lock(settings: Settings) -> Iterator[None]:
    """One rotation at a time per key file: two at once would each write a keyring without the other's new key."""
    path = key_path(settings).with_name(KEY_FILE + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RotationRunning(f"another master-key rotation holds {path}") from None
        yield
    finally:
        os.close(fd)


@dataclass
class _FileWatch:
    """Hands the box a new keyring when the file's identity (inode, size, modification time) changed."""

    path: Path
    seen: tuple[int, int, int] | None = field(default=None)

    def stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def __call__(self) -> Keyring | None:
        now = self.stamp()
        if now is None or now == self.seen:
            return None
        try:
            ring = parse_keyring(self.path.read_text())
        except (OSError, ValueError):
            log.warning("the master key file %s could not be read; keeping the keys loaded", self.path)
            return None
        self.seen = now
        return ring


def box(settings: Settings) -> SecretBox:
    """The secret box of a process: the environment's keyring, or the key file's, watched."""
    if settings.master_key:
        return SecretBox.from_keyring(load(settings))
    watch = _FileWatch(key_path(settings))
    watch.seen = watch.stamp()  # before reading: a rewrite in between is taken at the next seal
    ring = load(settings)  # creates the file on first start
    return SecretBox.from_keyring(ring, reload=watch)
