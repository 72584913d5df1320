#!/usr/bin/env python3
"""Durability check (not a test, not a benchmark): does every acknowledged write survive a kill -9?

Starts `vestibule serve --workers W` on a new SQLite data directory (or on the PostgreSQL database
given with --database-url), makes an account and an IAM user with AdministratorAccess whose key
signs the calls, then --clients threads send SigV4-signed CreateUser calls (each a new name) as fast
as the server answers. After --seconds, once at least --min-acked calls were acknowledged, the whole
server (its process group: master and workers) is killed with SIGKILL in the middle of that load.
The server is started again on the same data, and GetUser is asked for every user whose CreateUser
had answered 200 (and for one never created, which must not be found). Printed per round:
acknowledged / found / missing; calls that got no answer (cut by the kill) are checked too and may
go either way. --rounds repeats load, kill and restart on the same data, checking every user
acknowledged so far each time. Exit code 1 when an acknowledged user is missing.

kill -9 is the death of the process, not of the machine: the operating system still holds what the
process had written. What a power loss can take is printed at the end (the database's settings).

    .venv/bin/python bench/durability.py                       # SQLite, 16 clients, kill after 3 s
    .venv/bin/python bench/durability.py --rounds 3 --seconds 5
    .venv/bin/python bench/durability.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/vestibule
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Server
from _sigv4 import Client, Signer, check_signer_against_botocore, create_body, error_code, get_body
from aws_throughput import setup_vestibule


@dataclass
class Load:
    """What the clients saw: acknowledged names (answered 200), unanswered ones (no answer, or a 5xx:
    the write may or may not have happened), and other answers by status and code."""

    acked: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, what: str) -> None:
        with self.lock:
            self.refused[what] = self.refused.get(what, 0) + 1


def client_loop(port: int, signer: Signer, prefix: str, load: Load, stop: threading.Event,
                killed: threading.Event) -> None:
    client = Client(port, signer, timeout=30)
    seq = 0
    while not stop.is_set():
        name = f"{prefix}-{seq}"
        seq += 1
        try:
            status, body = client.call("iam", create_body(name))
        except ConnectionError:
            load.unanswered.append(name)
            if killed.is_set():
                return
            time.sleep(0.05)
            continue
        if status == 200:
            load.acked.append(name)
        else:
            load.refuse(f"{status} {error_code(body)}")
            if status >= 500:
                load.unanswered.append(name)


def kill_group(server: Server) -> None:
    """SIGKILL to the process group this script created for the server; waits until all of it is gone."""
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(server.proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)


def exists(port: int, signer: Signer, names: list[str], threads: int = 4) -> tuple[set[str], dict[str, str]]:
    """GetUser for each name: the names found, and answers other than 200 or 404 NoSuchEntity."""
    found: set[str] = set()
    odd: dict[str, str] = {}
    local = threading.local()

    def one(name: str) -> None:
        if not hasattr(local, "client"):
            local.client = Client(port, signer)
        for attempt in range(3):
            try:
                status, body = local.client.call("iam", get_body(name))
            except ConnectionError as exc:
                if attempt == 2:
                    odd[name] = str(exc)
                time.sleep(0.2)
                continue
            if status == 200:
                found.add(name)
            elif not (status == 404 and error_code(body) == "NoSuchEntity"):
                odd[name] = f"{status} {error_code(body)}"
            return

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, names))
    return found, odd


def sqlite_facts(db: Path) -> str:
    """journal_mode is kept in the file; synchronous is per connection: read it from a connection set up by
    the same function the server runs on each of its connections."""
    from vestibule.store.database import _sqlite_pragmas

    con = sqlite3.connect(db)
    try:
        _sqlite_pragmas(con, None)
        journal = con.execute("PRAGMA journal_mode").fetchone()[0]
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[con.execute("PRAGMA synchronous").fetchone()[0]]
    finally:
        con.close()
    verdict = {
        "NORMAL": "a commit is written to the WAL file (so it survives the death of the process) but the WAL is "
                  "fsynced only at checkpoints: a power loss or an operating-system crash can roll back the "
                  "last acknowledged writes (the database stays consistent)",
        "FULL": "the WAL is fsynced at every commit: acknowledged writes survive a power loss too, when the "
                "storage honours fsync",
        "EXTRA": "the WAL is fsynced at every commit: acknowledged writes survive a power loss too",
        "OFF": "nothing is fsynced: a power loss can lose writes and corrupt the database",
    }[sync]
    return f"SQLite {db}: journal_mode={journal}, synchronous={sync} (as the server sets it): {verdict}."


def postgres_facts(url: str) -> str:
    try:
        import asyncio

        import asyncpg
    except ImportError:
        return "PostgreSQL: asyncpg is not installed here, settings not read."

    async def read() -> dict[str, str]:
        con = await asyncpg.connect(re.sub(r"^postgresql\+\w+://", "postgresql://", url))
        try:
            return {k: await con.fetchval(f"SHOW {k}") for k in ("fsync", "synchronous_commit", "full_page_writes",
                                                                   "wal_sync_method")}
        finally:
            await con.close()

    s = asyncio.run(read())
    durable = s["fsync"] == "on" and s["synchronous_commit"] in ("on", "remote_write", "remote_apply")
    shown = ", ".join(f"{k}={v}" for k, v in s.items())
    return (f"PostgreSQL: {shown}: " + (
        "a commit returns after its WAL record is flushed to disk, so acknowledged writes survive a power loss "
        "when the storage honours the flush" if durable else
        "commits are acknowledged before their WAL is on disk: a crash of the database server's machine can "
        "lose the last acknowledged writes"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="", help="PostgreSQL (postgresql+asyncpg://...); default SQLite")
    ap.add_argument("--redis-url", default="")
    ap.add_argument("--clients", type=int, default=16, help="concurrent CreateUser callers")
    ap.add_argument("--seconds", type=float, default=3.0, help="load before each kill -9")
    ap.add_argument("--min-acked", type=int, default=100,
                    help="and not before this many CreateUser calls were acknowledged (waiting at most 60 s more)")
    ap.add_argument("--rounds", type=int, default=1, help="load, kill -9 and restart this many times")
    ap.add_argument("--workers", type=int, default=2, help="vestibule serve --workers")
    ap.add_argument("--keep", action="store_true", help="keep the data directory and server logs")
    args = ap.parse_args()

    check_signer_against_botocore()
    tmp = Path(tempfile.mkdtemp(prefix="vestibule-durability-"))
    env = {"VESTIBULE_DATABASE_URL": args.database_url, "VESTIBULE_REDIS_URL": args.redis_url}
    masked = re.sub(r"//([^:@/]+):[^@]*@", r"//\1:***@", args.database_url)
    name = f"durability-{uuid.uuid4().hex[:8]}"  # a new account alias even in a database used before
    where = f"PostgreSQL {masked}" if args.database_url else f"SQLite in {tmp / name}"
    print(f"starting vestibule serve --workers {args.workers} on {where} ...", flush=True)
    all_acked: list[str] = []
    all_unanswered: list[str] = []
    lost_total = 0
    server: Server | None = None
    try:
        target = setup_vestibule(name, "serve", args.workers, "user", tmp, env_extra=env)
        server, port, signer = target.server, target.server.port, target.signer
        for rnd in range(1, args.rounds + 1):
            load, stop, killed = Load(), threading.Event(), threading.Event()
            clients = [threading.Thread(target=client_loop, daemon=True,
                                        args=(port, signer, f"dur{rnd}-{os.getpid()}-{c}", load, stop, killed))
                       for c in range(args.clients)]
            t0 = time.monotonic()
            for c in clients:
                c.start()
            time.sleep(args.seconds)
            deadline = time.monotonic() + 60
            while len(load.acked) < args.min_acked and time.monotonic() < deadline:
                time.sleep(0.05)
            procs = len(server.pids())
            killed.set()
            acked_at_kill, at = len(load.acked), time.monotonic() - t0
            kill_group(server)
            stop.set()
            for c in clients:
                c.join(timeout=35)
            print(f"round {rnd}: {args.clients} clients sent CreateUser for {at:.2f} s, then kill -9 of the "
                  f"server's {procs} processes ({acked_at_kill} acknowledged just before the signal)", flush=True)
            print(f"  answered 200: {len(load.acked)}; no answer or 5xx: {len(load.unanswered)}; other answers: "
                  f"{load.refused or 'none'}", flush=True)
            all_acked += load.acked
            all_unanswered += load.unanswered

            server.log_path = tmp / f"vestibule-restart-{rnd}.log"
            t1 = time.monotonic()
            server.start()
            print(f"  restarted on the same data: answering after {time.monotonic() - t1:.1f} s", flush=True)
            control = f"never-created-{os.getpid()}-{rnd}"
            found, odd = exists(port, signer, [*all_acked, control])
            if control in found or odd.get(control):
                raise SystemExit(f"GetUser of a user never created answered {odd.get(control, 200)}: "
                                 "the check cannot tell found from missing")
            missing = [n for n in all_acked if n not in found]
            lost_total = len(missing)
            print(f"  GetUser of every acknowledged user so far: {len(all_acked)} acknowledged, {len(found)} found, "
                  f"{len(missing)} missing" + (f" (e.g. {', '.join(missing[:5])})" if missing else ""), flush=True)
            if odd:
                print(f"  WARNING: {len(odd)} GetUser calls answered neither 200 nor NoSuchEntity, "
                      f"e.g. {next(iter(odd.items()))}", flush=True)
            doubt_found, _ = exists(port, signer, load.unanswered)
            print(f"  calls without an answer: {len(load.unanswered)}; written anyway: {len(doubt_found)} (either "
                  f"is correct: the answer died with the server)", flush=True)
        print()
        print(f"RESULT: {len(all_acked)} acknowledged, {len(all_acked) - lost_total} found, {lost_total} missing "
              f"after {args.rounds} kill -9 and restart{'s' if args.rounds > 1 else ''}"
              + (" (durable against process death)" if lost_total == 0 else " (ACKNOWLEDGED WRITES LOST)"))
        if args.database_url:
            print(postgres_facts(args.database_url))
        else:
            print(sqlite_facts(tmp / name / "vestibule.db"))
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp)
    return 1 if lost_total else 0


if __name__ == "__main__":
    raise SystemExit(main())
