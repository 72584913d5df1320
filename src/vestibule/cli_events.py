"""`vestibule events archive --before DATE --output FILE.jsonl`: old audit events exported, then deleted."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from .runtime import Runtime
from .services import audit_archive


def _instant(text: str) -> float:
    """An ISO date (midnight UTC) or date and time (UTC unless it names its offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date and time: {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _batch(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise argparse.ArgumentTypeError(f"not a whole number from 1 to 10000: {text!r}")
    return int(text)


def add_archive_parser(events: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    actions = events.add_subparsers(dest="events_action", parser_class=parser_class)
    archive = actions.add_parser(
        "archive", help="write every account's audit events recorded before DATE to FILE as JSON lines, then "
                        "delete them, in batches; run again with the same FILE to resume after an interruption")
    archive.add_argument("--before", required=True, type=_instant, metavar="DATE",
                         help="ISO date (2025-01-01, midnight UTC) or date and time (2025-01-01T12:00:00+02:00)")
    archive.add_argument("--output", required=True, type=Path, metavar="FILE",
                         help="the JSON lines file, appended to (created 0600 when missing)")
    archive.add_argument("--batch", type=_batch, default=audit_archive.BATCH, help="events per batch (1-10000)")


async def archive(args: argparse.Namespace, rt: Runtime) -> int:
    output: Path = args.output
    os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # 0600 when new; no-op otherwise
    report = await audit_archive.archive(rt.deps.store, args.before, output, batch=args.batch)
    print(json.dumps({"Archived": report.archived, "Resumed": report.resumed, "Output": str(output)}))
    return 0
