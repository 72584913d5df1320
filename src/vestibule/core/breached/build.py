"""Make `common.bin`, the bundled breached-password list, from the packages named in SOURCES.

    pip download --no-deps --dest /tmp/breached django==5.2.19
    (cd /tmp/breached && npm pack @zxcvbn-ts/language-common@4.1.3)
    python -m vestibule.core.breached.build /tmp/breached/django-5.2.19-py3-none-any.whl \
        /tmp/breached/zxcvbn-ts-language-common-4.1.3.tgz

Each argument is a package file (a wheel or an npm tarball); its list is read from inside it, nothing is
unpacked. The output keeps no password text: see `vestibule.core.breached_passwords.encode`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from vestibule.core.breached_passwords import BUNDLED_PATH, RECORD_BYTES, encode


def _django(path: Path) -> list[str]:
    """Django's CommonPasswordValidator list (BSD-3-Clause; 20,000 passwords compiled by Royce Williams)."""
    with zipfile.ZipFile(path) as wheel:
        text = gzip.decompress(wheel.read("django/contrib/auth/common-passwords.txt.gz")).decode("utf-8")
    return text.split()


def _zxcvbn_ts(path: Path) -> list[str]:
    """zxcvbn-ts's common password list (MIT; its frequency-ordered top passwords)."""
    with tarfile.open(path) as package:
        member = package.extractfile("package/src/passwords.json")
        if member is None:
            raise SystemExit(f"{path}: no package/src/passwords.json")
        words = json.load(member)
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise SystemExit(f"{path}: passwords.json is not a list of strings")
    return words


# file name prefix -> reader
SOURCES: dict[str, Callable[[Path], list[str]]] = {"django-": _django, "zxcvbn-ts-language-common-": _zxcvbn_ts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make the bundled breached-password list")
    parser.add_argument("packages", nargs="+", type=Path, help="django-*.whl, zxcvbn-ts-language-common-*.tgz")
    parser.add_argument("--output", type=Path, default=BUNDLED_PATH)
    args = parser.parse_args(argv)
    passwords: set[str] = set()
    for path in args.packages:
        reader = next((read for prefix, read in SOURCES.items() if path.name.startswith(prefix)), None)
        if reader is None:
            parser.error(f"{path.name}: not one of {', '.join(p + '*' for p in SOURCES)}")
        words = reader(path)
        print(f"{path.name}: {len(words)} passwords", file=sys.stderr)
        passwords.update(w.lower() for w in words)
    data = encode(passwords)
    args.output.write_bytes(data)
    print(f"{args.output}: {len(data) // RECORD_BYTES} entries, {len(data)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
