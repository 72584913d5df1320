"""`vestibule events archive`: audit events older than a date written to a JSON lines file, then deleted.

Batch by batch, oldest first ((at, id) order): the batch is appended to the file and flushed to disk
(fsync), then deleted in its own transaction. The file is the checkpoint: run again with the same file
after an interruption and the events its last line already holds (written, not yet deleted) are deleted
without being written twice, then the archive goes on. Each line is the event as `vestibule events
--json` prints it, plus its `id` and its exact `at` (Unix seconds)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..store.repositories import Store
from .audit import as_dict

BATCH = 1000
_TAIL_BLOCK = 64 * 1024


@dataclass(frozen=True)
class ArchiveReport:
    archived: int  # lines written (and events deleted) by this run
    resumed: int  # events a previous run had written but not deleted, deleted now


def _last_line(path: Path) -> dict[str, object] | None:
    """The last complete line of the file (a torn last line, from a crash while writing, is cut off). Read
    backwards from the end a block at a time: an archive may be gigabytes."""
    if not path.exists():
        return None
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        tail, position = b"", size
        while position > 0 and tail.count(b"\n") < 2:
            step = min(_TAIL_BLOCK, position)
            position -= step
            f.seek(position)
            tail = f.read(step) + tail
        end = tail.rfind(b"\n")
        if end + 1 != len(tail):
            f.truncate(position + end + 1)  # the torn tail was never deleted from the database
        if end < 0:
            return None
        start = tail.rfind(b"\n", 0, end) + 1
        found = json.loads(tail[start:end])
        return found if isinstance(found, dict) else None


async def archive(store: Store, before: float, output: Path, *, batch: int = BATCH) -> ArchiveReport:
    resumed = 0
    last = _last_line(output)
    last_id = last.get("id") if last is not None else None
    if isinstance(last_id, int):
        async with store.unit() as uow:
            at = await uow.expired.event_at(last_id)
        if at is not None:  # the last batch was written but its deletion never committed
            while True:
                async with store.unit() as uow:
                    done = await uow.expired.events_through(before, at, last_id, batch)
                resumed += done
                if done < batch:
                    break
    archived = 0
    with output.open("a", encoding="utf-8") as sink:
        while True:
            async with store.unit() as uow:
                events = await uow.expired.oldest_events(before, batch)
                if not events:
                    break
                sink.write("".join(json.dumps({"id": ev.id, "at": ev.at, **as_dict(ev)}, ensure_ascii=False,
                                              sort_keys=True) + "\n" for ev in events))
                sink.flush()
                os.fsync(sink.fileno())
                await uow.expired.delete_events([ev.id for ev in events])
            archived += len(events)
            if len(events) < batch:
                break
    return ArchiveReport(archived=archived, resumed=resumed)
