"""The offline breached-password check: a bundled list of the most common passwords and, optionally, the
operator's copy of a breach corpus in the public k-anonymity SHA-1 range format. No network call, ever.

The bundled list (`breached/common.bin`, made by `breached/build.py`) is the sorted, de-duplicated first
`RECORD_BYTES` bytes of SHA-1 of each lower-cased password; a password is looked up in a few normalised forms
(`forms`), so the usual "complexity" dressing of a common password (capitals, a trailing `1!`, `@` for `a`, a year)
is caught too. The operator's corpus is looked up with the exact password, by binary search in a memory map:
either a directory of range files `<PREFIX>.txt` (5 hex digits; lines `SUFFIX:COUNT`, 35 hex digits) or one file
of `SHA1:COUNT` lines (40 hex digits) sorted by hash.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

BUNDLED_PATH = Path(__file__).parent / "breached" / "common.bin"
RECORD_BYTES = 6  # 48 bits of SHA-1 per password: one false match in about 5 billion look-ups of 55,000 entries
SHORTEST = 4  # shorter entries, and shorter forms of a password, are not looked up

_SYMBOLS = string.punctuation + " "
# words every user of this service sees on its pages: as common as any entry of the list
SERVICE_WORDS = frozenset({"vestibule"})
_LETTER = re.compile(r"[^\W\d_]")
# a trailing run of digits people add to satisfy a "number" rule: counting up, one digit repeated, a year
_COUNTING = "1234567890"
_YEAR = re.compile(r"(19|20)\d\d")
# undoing letter substitutions: @ 4 -> a, 0 -> o, 3 -> e, 1 -> i (or l), $ 5 -> s, ! -> i, 7 + -> t
_LEET = (str.maketrans("@4031$5!7+", "aaoeissitt"), str.maketrans("@4031$5!7+", "aaoelssitt"))


class BreachedListError(ValueError):
    """The operator's breached-password file is missing, unreadable or not in the range format."""


def digest(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).digest()


def _strip_counter(text: str) -> str:
    """`text` without a trailing counting run, repeated digit or year (`summer2024` -> `summer`), else itself."""
    digits = len(text) - len(text.rstrip(string.digits))
    if not digits:
        return text
    tail = text[-digits:]
    if _COUNTING.startswith(tail) or len(set(tail)) == 1 or _YEAR.fullmatch(tail):
        return text[:-digits]
    return text


def _trim(text: str) -> str:
    """`text` without symbols or whitespace of any kind (`str.isspace`) at either end."""
    start, end = 0, len(text)
    while start < end and (text[start] in _SYMBOLS or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in _SYMBOLS or text[end - 1].isspace()):
        end -= 1
    return text[start:end]


def forms(password: str) -> list[str]:
    """What the bundled list is asked about: the password NFKC-normalised and case-folded (full-width letters
    are letters; zero-width characters dropped); without symbols or whitespace around it; without a trailing
    counter (`_strip_counter`); the same with its inner whitespace removed (`pass word1` -> `password`); and each
    of these with the common letter substitutions undone (`p@ssw0rd` -> `password`). Forms shorter than
    `SHORTEST` are left out."""
    lowered = "".join(ch for ch in unicodedata.normalize("NFKC", password).casefold()
                      if unicodedata.category(ch) != "Cf")  # no zero-width characters between the letters
    trimmed = _trim(lowered)
    stem = _trim(_strip_counter(trimmed))
    joined = "".join(ch for ch in trimmed if not ch.isspace())
    found: list[str] = []
    for text in (lowered, trimmed, stem, joined, _trim(_strip_counter(joined))):
        variants = [text]
        if _LETTER.search(text):
            variants += [text.translate(table) for table in _LEET]
        for variant in variants:
            if variant not in found and len(variant) >= SHORTEST:
                found.append(variant)
    return found


def encode(passwords: Iterable[str]) -> bytes:
    """The bundled list's bytes for these passwords (lower-cased; entries shorter than `SHORTEST` dropped)."""
    records = {digest(p.lower())[:RECORD_BYTES] for p in passwords if len(p) >= SHORTEST}
    return b"".join(sorted(records))


class BundledList:
    """Sorted fixed-width records, searched by bisection; the whole list is about 330 KB in memory."""

    def __init__(self, data: bytes) -> None:
        if len(data) % RECORD_BYTES:
            raise BreachedListError(f"the bundled list's size is not a multiple of {RECORD_BYTES} bytes")
        self._data = data
        self.size = len(data) // RECORD_BYTES

    @classmethod
    def load(cls, path: Path = BUNDLED_PATH) -> BundledList:
        return cls(path.read_bytes())

    def __contains__(self, text: str) -> bool:
        key, data, width = digest(text)[:RECORD_BYTES], self._data, RECORD_BYTES
        lo, hi = 0, self.size
        while lo < hi:
            mid = (lo + hi) // 2
            record = data[mid * width:(mid + 1) * width]
            if record == key:
                return True
            if record < key:
                lo = mid + 1
            else:
                hi = mid
        return False

    def is_common(self, password: str) -> bool:
        return any(form in self or form in SERVICE_WORDS for form in forms(password))


# --- the operator's corpus -----------------------------------------------------------------------------------


_HEX = frozenset(b"0123456789ABCDEFabcdef")


def _count_in(view: mmap.mmap | bytes, key: bytes, where: str) -> int:
    """The COUNT of the line whose first len(key) characters are `key` (upper-case hex) in sorted `KEY:COUNT`
    lines, by bisection over byte offsets: each step reads the line around the middle; 0 when absent."""
    width = len(key)
    lo, hi = 0, len(view)
    while lo < hi:
        mid = (lo + hi) // 2
        start = view.rfind(b"\n", 0, mid) + 1
        end = view.find(b"\n", start)
        end = len(view) if end < 0 else end
        line = view[start:end].rstrip(b"\r")
        head, colon, count = line[:width], line[width:width + 1], line[width + 1:]
        if not line and end == len(view):  # the empty tail after the last newline
            hi = start
            continue
        if colon != b":" or not set(head) <= _HEX or not count.isdigit():
            raise BreachedListError(f"{where}: the line at byte {start} is not HASH:COUNT ({width} hex digits)")
        head = head.upper()
        if head == key:
            return int(count)
        if head < key:
            lo = end + 1
        else:
            hi = start
    return 0


def _line_ok(line: bytes, width: int) -> bool:
    line = line.rstrip(b"\r\n")
    return (len(line) > width + 1 and line[width:width + 1] == b":" and set(line[:width]) <= _HEX
            and line[width + 1:].isdigit())


class Corpus(Protocol):
    def count(self, sha1_hex: str) -> int:
        """How often the password of this SHA-1 (40 upper-case hex digits) was seen in breaches; 0: never."""
        ...


@dataclass(frozen=True)
class RangeDirectory:
    """A directory of range files `<PREFIX>.txt` (what the range API answers per prefix; a prefix without its
    file has no breached password). Each look-up maps one file of about 30 KB."""

    path: Path

    def count(self, sha1_hex: str) -> int:
        prefix, suffix = sha1_hex[:5], sha1_hex[5:].encode("ascii")
        for name in (prefix, prefix.lower()):
            file = self.path / f"{name}.txt"
            try:
                with file.open("rb") as handle:
                    if os.fstat(handle.fileno()).st_size == 0:
                        return 0
                    with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                        return _count_in(view, suffix, str(file))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise BreachedListError(f"{file}: {exc.strerror or exc}") from None
        return 0


class SortedFile:
    """One file of `SHA1:COUNT` lines sorted by hash, mapped once (tens of GB are fine: pages load on demand)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            self._view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def count(self, sha1_hex: str) -> int:
        return _count_in(self._view, sha1_hex.encode("ascii"), str(self.path))

    def close(self) -> None:
        self._view.close()


def open_corpus(path: Path) -> Corpus:
    """The operator's corpus at `path` (a directory of range files, or one sorted file), checked: it exists, can
    be read and its first lines are in the format; raises BreachedListError saying what is wrong."""
    try:
        if path.is_dir():
            _check_directory(path)
            return RangeDirectory(path)
        if not path.exists():
            raise BreachedListError(f"{path} does not exist")
        _check_file(path)
        return SortedFile(path)
    except PermissionError:
        raise BreachedListError(f"{path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise BreachedListError(f"{path} cannot be read: {exc.strerror or exc}") from None


_RANGE_NAME = re.compile(r"[0-9A-Fa-f]{5}\.txt")


def _check_directory(path: Path) -> None:
    if not os.access(path, os.R_OK | os.X_OK):
        raise BreachedListError(f"{path} cannot be read (permission denied)")
    with os.scandir(path) as entries:
        first = next((e for e in entries if _RANGE_NAME.fullmatch(e.name)), None)
    if first is None:
        raise BreachedListError(f"{path} holds no range file (<5 hex digits>.txt, lines SUFFIX:COUNT)")
    with open(first.path, "rb") as handle:
        line = handle.readline()
    if line and not _line_ok(line, 35):
        raise BreachedListError(f"{first.path}: the first line is not SUFFIX:COUNT (35 hex digits, a colon, "
                                "a count)")


def _check_file(path: Path) -> None:
    with path.open("rb") as handle:
        first = handle.readline()
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - 200))
        last = handle.read().rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    if not first:
        raise BreachedListError(f"{path} is empty")
    if not _line_ok(first, 40) or not _line_ok(last, 40):
        raise BreachedListError(f"{path}: lines must be SHA1:COUNT (40 hex digits, a colon, a count), sorted by "
                                "hash; for range files (SUFFIX:COUNT) give their directory")
    if first[:40].upper() > last[:40].upper():
        raise BreachedListError(f"{path} is not sorted by hash (its first line comes after its last)")


# --- both together --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreachedPasswords:
    """The bundled list, and the operator's corpus when one is configured."""

    bundled: BundledList
    corpus: Corpus | None = None

    def is_breached(self, password: str) -> bool:
        return self.bundled.is_common(password) or self.in_corpus(password)

    def in_corpus(self, password: str) -> bool:
        """The exact password in the operator's corpus (False without one); raises BreachedListError when the
        file turns out malformed at a line the look-up reads."""
        if self.corpus is None:
            return False
        return self.corpus.count(digest(password).hex().upper()) > 0


_BUNDLED: BundledList | None = None


def bundled() -> BundledList:
    """The bundled list, read once per process."""
    global _BUNDLED
    if _BUNDLED is None:
        _BUNDLED = BundledList.load()
    return _BUNDLED


def checker(corpus_path: Path | None = None) -> BreachedPasswords:
    return BreachedPasswords(bundled(), open_corpus(corpus_path) if corpus_path is not None else None)
