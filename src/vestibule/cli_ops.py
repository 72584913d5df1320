"""Operator commands: `vestibule backup`, `vestibule restore`, `vestibule master-key status|rotate|new|forget`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .services.key_rotation import Forgotten

COMMANDS = ("backup", "restore", "master-key")


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """`sub`: the subparsers action of the `vestibule` parser (argparse keeps its type private)."""
    backup = sub.add_parser("backup", help="copy the SQLite database while serving (never the master key)")
    backup.add_argument("--to", required=True, type=Path, metavar="FILE")
    backup.add_argument("--force", action="store_true", help="replace FILE when it exists")
    restore = sub.add_parser("restore", help="restore a backup into the data directory, then migrate it")
    restore.add_argument("--from", dest="source", required=True, type=Path, metavar="FILE")
    restore.add_argument("--force", action="store_true", help="replace the database that is there (server stopped)")
    keys = sub.add_parser("master-key", help="the master keys that seal stored secrets")
    ks = keys.add_subparsers(dest="key_action", required=True, parser_class=parser_class)
    ks.add_parser("status", help="key IDs and how many stored values each seals; prints JSON")
    rotate = ks.add_parser("rotate", help="add a new current key, re-seal every stored secret, retire the old key "
                                          "(kept as an open-only retired: entry)")
    rotate.add_argument("--batch", type=int, default=200, help="rows re-sealed per transaction (default 200)")
    rotate.add_argument("--grace", type=float, default=2.0,
                        help="seconds to wait before the last pass (writes in flight under the old key)")
    rotate.add_argument("--renew-signing-key", action="store_true",
                        help="also replace the key of CSRF tokens and browser cookies (forms open in browsers "
                             "fail once; remembered browsers are forgotten)")
    ks.add_parser("new", help="a new key for VESTIBULE_MASTER_KEY on several nodes; prints JSON with the values")
    forget = ks.add_parser("forget", help="remove a retired key for good (refused while a stored value uses it; "
                                          "the file keyring keeps a copy in master.key.retired-KEYID)")
    forget.add_argument("key_id", metavar="KEYID")


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def run(args: argparse.Namespace, settings: Settings) -> int:
    from .services.backup import BackupRefused
    from .services.key_rotation import ForgetRefused
    from .services.keyring import RotationRunning

    try:
        if args.command == "backup":
            return _backup(args, settings)
        if args.command == "restore":
            return asyncio.run(_restore(args, settings))
        return asyncio.run(_master_key(args, settings))
    except BackupRefused as exc:
        print(f"vestibule: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (RotationRunning, ForgetRefused) as exc:
        print(f"vestibule: error: {exc}", file=sys.stderr)
        return 1


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from .services import backup, keyring

    written = backup.backup(settings, args.to, force=args.force)
    where = keyring.source(settings)
    print(f"the backup does not contain the master key: keep {where} safe apart from it, a restore needs it",
          file=sys.stderr)
    _emit({"Backup": str(written), "Bytes": written.stat().st_size})
    return 0


async def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from .services import backup

    restored = await backup.restore(settings, args.source, force=args.force)
    _emit({"Restored": str(restored.target), "FromRevision": restored.from_revision,
           "SealedValues": restored.values})
    return 0


async def _master_key(args: argparse.Namespace, settings: Settings) -> int:
    from .runtime import build
    from .services import key_rotation, keyring
    from .services.backup import BackupRefused

    source = keyring.source(settings)
    if args.key_action == "new":
        ring = keyring.load(settings)
        kid, add, promote = key_rotation.new_key_values(ring)
        where = source if keyring.from_environment(settings) else "VESTIBULE_MASTER_KEY"
        print(f"these values hold every master key: put them in {where} on each node, nowhere else",
              file=sys.stderr)
        _emit({"KeyId": kid, "AddValue": add, "PromoteValue": promote})
        return 0
    if args.key_action == "rotate":
        if args.batch < 1:
            raise BackupRefused("--batch must be at least 1", 2)
        ring = keyring.load(settings, create=False)
        if keyring.from_environment(settings) and len(ring.keys) == 1:
            raise BackupRefused(f"{source} holds one key: add a new one on every node first (vestibule "
                                "master-key new), as docs/deployment.md \"Rotating the master key\" shows", 2)
        if keyring.from_environment(settings) and args.renew_signing_key:
            raise BackupRefused(f"with {source}, change its signing: entry on every node instead", 2)
    runtime = await build(settings)
    try:
        if args.key_action == "status":
            return _status(settings, await key_rotation.counts(runtime.deps.store))
        if args.key_action == "forget":
            return _forgotten(settings, await key_rotation.forget(settings, runtime.deps.store, args.key_id))
        result = await key_rotation.rotate(settings, runtime.deps.store, batch=args.batch, grace=args.grace,
                                           renew_signing_key=args.renew_signing_key)
    finally:
        await runtime.close()
    out: dict[str, Any] = {"CurrentKeyId": result.current_key_id, "Resealed": result.report.resealed,
                           "Passes": result.passes, "Retired": result.retired}
    if result.new_key_id is not None:
        out["NewKeyId"] = result.new_key_id
    _emit(out)
    failed = 0
    for kid, n in result.still_used.items():
        print(f"vestibule: key {kid} still seals {n} values no key opens as they should (damaged or foreign); "
              "it was kept", file=sys.stderr)
        failed = 1
    if result.new_key_id is None and result.retired:
        print(f"no stored value uses {', '.join(result.retired)} any more: in {source} on every node, write it as "
              "retired:<hex> (it opens, never seals); later vestibule master-key forget checks it can go",
              file=sys.stderr)
    elif result.retired:
        print(f"key {', '.join(result.retired)} retired: it stays in {source} as retired:, opening what a write in "
              "flight sealed with it; vestibule master-key forget removes it", file=sys.stderr)
    return failed


def _forgotten(settings: Settings, done: Forgotten) -> int:
    from .services import keyring

    if done.copy is None:
        print(f"no stored value uses key {done.key_id}: set {keyring.source(settings)} to Value on every node "
              "(this value holds every master key: nowhere else)", file=sys.stderr)
        _emit({"Forgotten": done.key_id, "Value": done.ring.one_line()})
    else:
        print(f"key {done.key_id} removed from {keyring.source(settings)}; a copy is in {done.copy} (0600): "
              "keep it with your backups or delete it", file=sys.stderr)
        _emit({"Forgotten": done.key_id, "Copy": str(done.copy)})
    return 0


def _status(settings: Settings, per_place: dict[str, dict[str, int]]) -> int:
    from .core.secretbox import key_id
    from .services import key_rotation, keyring

    ring = keyring.load(settings, create=False)
    used = key_rotation.totals(per_place)
    _emit({
        "Source": keyring.source(settings),
        "CurrentKeyId": ring.current_id,
        "Keys": [{"KeyId": kid, "Current": kid == ring.current_id, "Retired": kid in ring.retired_ids,
                  "Values": used.get(kid, 0)} for kid in ring.all_ids],
        "UnknownKeyIds": {kid: n for kid, n in sorted(used.items()) if kid not in ring.all_ids},
        "Places": {place: dict(sorted(per_key.items())) for place, per_key in per_place.items() if per_key},
        "SigningKey": "pinned" if ring.signing_pinned else f"derived from key {key_id(ring.keys[0])}",
    })
    return 0
