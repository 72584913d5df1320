"""Reading `vestibule.toml`: its top-level table, the line each key is written on, and who else may read it.

Only reading lives here; what each key means, and how it is checked, is the settings table in `settings.py`.
"""

from __future__ import annotations

import difflib
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path


class ConfigFileError(Exception):
    """The file cannot be read or is not TOML; the message is one line naming the file."""


@dataclass(frozen=True)
class ConfigDocument:
    path: Path  # absolute
    values: dict[str, object]
    lines: tuple[str, ...]
    mode: int  # permission bits

    def line_of(self, key: str) -> int | None:
        """The line a top-level key (or a `[key]` table, or a dotted `key.x = ...`) is written on, if found."""
        name = re.escape(key)
        pattern = re.compile(rf"""^\s*(?:\[\s*)?(?:{name}|"{name}"|'{name}')\s*[=.\]]""")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return number
        return None

    def where(self, key: str) -> str:
        """`FILE:LINE` for messages, or `FILE` when the line is not found."""
        line = self.line_of(key)
        return f"{self.path}:{line}" if line else str(self.path)

    @property
    def readable_by_others(self) -> bool:
        return bool(self.mode & (stat.S_IRWXG | stat.S_IRWXO))


def read_document(path: Path) -> ConfigDocument:
    path = path.expanduser().absolute()
    try:
        raw = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
        values = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    return ConfigDocument(path, values, tuple(text.splitlines()), mode)


def describe(value: object) -> str:
    """A TOML value as an operator wrote it, for "must be ..., not ..." messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 60 else "a long string"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return "a date or time"
    return type(value).__name__


def suggestion(key: str, known: Iterable[str], aliases: Mapping[str, str]) -> str | None:
    """The known key an unknown one was probably meant to be: an environment variable's name
    (`VESTIBULE_SMTP_HOST`), another spelling of a setting (`aliases`), or a close misspelling."""
    choices = list(known)
    folded = key.strip().lower().replace("-", "_")
    folded = folded.removeprefix("vestibule_")
    if folded in choices:
        return folded
    if folded in aliases:
        return aliases[folded]
    close = difflib.get_close_matches(folded, choices, n=1, cutoff=0.75)
    return close[0] if close else None
