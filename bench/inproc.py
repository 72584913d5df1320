#!/usr/bin/env python3
"""CPU per operation, in process (not a throughput benchmark): drives the ASGI app directly, with no
HTTP server, and measures `time.process_time()` (all threads of this process, so the argon2 and
aiosqlite threads are counted) and the SQL statements per request.

    .venv/bin/python bench/inproc.py signin --n 400            # GET form, POST, GET /console
    .venv/bin/python bench/inproc.py gci --n 20000             # signed GetCallerIdentity
    .venv/bin/python bench/inproc.py signin --profile /tmp/signin.prof

argon2id runs with m=1024 KiB, t=1 (almost free); the cost of one such verification is measured
separately and printed, so "besides the hash" = per sign-in minus one verification.
Repeats the measurement `--repeat` times and prints each and the minimum (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import gc
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aws_throughput import Signer, gci_body

PASSWORD = "Bench-Passw0rd-for-signin!"
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
SQL_COUNT = [0]


async def call(app: Any, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"",
               query: str = "") -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080), "state": {},
    }
    sent = False
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = message.get("headers", [])
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def cookies_from(jar: dict[str, str], headers: list[tuple[bytes, bytes]]) -> None:
    for k, v in headers:
        if k.lower() == b"set-cookie":
            pair = v.decode().split(";", 1)[0]
            name, _, value = pair.partition("=")
            if value:
                jar[name] = value
            else:
                jar.pop(name, None)


def cookie_header(jar: dict[str, str]) -> list[tuple[str, str]]:
    return [("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))] if jar else []


async def setup(data: Path) -> tuple[Any, Any, list[str], str, Signer]:
    os.environ.update({
        "VESTIBULE_DATA_DIR": str(data), "VESTIBULE_DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", ""),
        "VESTIBULE_REDIS_URL": "", "VESTIBULE_PUBLIC_URL": "http://127.0.0.1:8080",
        "VESTIBULE_ARGON2_MEMORY_KIB": "1024", "VESTIBULE_ARGON2_TIME_COST": "1", "VESTIBULE_LOG_LEVEL": "warning",
        "VESTIBULE_JANITOR_INTERVAL_SECONDS": "0",
    })
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from vestibule.app import create_app
    from vestibule.runtime import build
    from vestibule.services import access_keys, accounts, iam_users
    from vestibule.settings import load_settings

    runtime = await build(load_settings())
    deps = runtime.deps
    async with deps.store.unit() as uow:
        created = await accounts.create_account(deps, uow, email="bench@example.com", password=PASSWORD,
                                                name="bench", alias="bench-signin")
    account_id = created.as_json()["AccountId"]
    users = [f"bench-user-{i:02d}" for i in range(1, 9)]
    async with deps.store.unit() as uow:
        account = await accounts.require(uow, account_id)
        for name in users:
            await iam_users.create_user(deps, uow, account, name, password=PASSWORD, password_reset_required=False)
        key = await access_keys.create(deps, uow, account.id, f"root:{account.id}", actor="bench")
    signer = Signer(key.access_key_id, key.secret_access_key)

    # Every engine of the process: the async engine's and the hot units' synchronous one (SQLite).
    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        SQL_COUNT[0] += 1

    app = create_app(runtime)
    return app, runtime, users, "bench-signin", signer


async def sign_in(app: Any, alias: str, user: str, per: list[list[float]] | None = None) -> None:
    jar: dict[str, str] = {}
    common = [("Host", "127.0.0.1:8080"), ("Accept-Language", "en"), ("User-Agent", "vestibule-bench/1")]
    marks = [time.process_time(), SQL_COUNT[0]]
    status, headers, body = await call(app, "GET", f"/{alias}/console", common)
    assert status == 200, status
    cookies_from(jar, headers)
    m = CSRF.search(body)
    assert m
    t1, s1 = time.process_time(), SQL_COUNT[0]
    form = urlencode({"csrf_token": m.group(1).decode(), "account": alias, "username": user,
                      "password": PASSWORD}).encode()
    post_headers = [*common, ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Origin", "http://127.0.0.1:8080"), ("Content-Length", str(len(form))), *cookie_header(jar)]
    status, headers, body = await call(app, "POST", f"/{alias}/console", post_headers, form)
    assert status == 303, (status, body[:300])
    cookies_from(jar, headers)
    t2, s2 = time.process_time(), SQL_COUNT[0]
    status, headers, body = await call(app, "GET", "/console", common + cookie_header(jar))
    assert status == 200 and user.encode() in body, status
    t3, s3 = time.process_time(), SQL_COUNT[0]
    if per is not None:
        per.append([t1 - marks[0], t2 - t1, t3 - t2, s1 - marks[1], s2 - s1, s3 - s2])


def hash_cost() -> float:
    from argon2 import PasswordHasher

    h = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    stored = h.hash(PASSWORD)
    n = 300
    t0 = time.process_time()
    for _ in range(n):
        h.verify(stored, PASSWORD)
    return (time.process_time() - t0) / n


async def main_async(args: argparse.Namespace) -> None:
    tmp = tempfile.TemporaryDirectory(prefix="vestibule-inproc-")
    app, runtime, users, alias, signer = await setup(Path(tmp.name))
    await runtime.start()
    try:
        if args.op == "signin":
            hc = hash_cost()
            print(f"one argon2id verify (m=1024, t=1): {hc * 1e3:.3f} ms CPU")
            for i in range(50):
                await sign_in(app, alias, users[i % len(users)])
            results = []
            for r in range(args.repeat):
                per: list[list[float]] = []
                gc.collect()
                prof = cProfile.Profile() if args.profile and r == args.repeat - 1 else None
                t0 = time.process_time()
                ot0 = os.times()
                if prof:
                    prof.enable()
                for i in range(args.n):
                    await sign_in(app, alias, users[i % len(users)], per)
                if prof:
                    prof.disable()
                    prof.dump_stats(args.profile)
                cpu = (time.process_time() - t0) / args.n
                ot1 = os.times()
                user_ms = (ot1.user - ot0.user) / args.n * 1e3
                system_ms = (ot1.system - ot0.system) / args.n * 1e3
                print(f"  user {user_ms:.2f} ms, system {system_ms:.2f} ms per sign-in")
                cols = [sum(p[j] for p in per) / len(per) for j in range(6)]
                results.append(cpu)
                print(f"run {r}: {cpu * 1e3:.2f} ms CPU per sign-in, {(cpu - hc) * 1e3:.2f} ms besides the hash;"
                      f" form GET {cols[0] * 1e3:.2f}, POST {cols[1] * 1e3:.2f} (incl. hash), console GET "
                      f"{cols[2] * 1e3:.2f} ms; SQL statements {cols[3]:.0f} + {cols[4]:.0f} + {cols[5]:.0f} = "
                      f"{cols[3] + cols[4] + cols[5]:.0f}", flush=True)
            best = min(results)
            print(f"min: {best * 1e3:.2f} ms per sign-in, {(best - hc) * 1e3:.2f} ms besides the hash")
        else:
            body = gci_body()
            amz = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            hdrs = [*signer.headers("127.0.0.1:8080", "sts", body, amz), ("Content-Length", str(len(body)))]
            status, _, out = await call(app, "POST", "/", hdrs, body.encode())
            assert status == 200, out
            for _ in range(2000):
                await call(app, "POST", "/", hdrs, body.encode())
            results = []
            for r in range(args.repeat):
                gc.collect()
                prof = cProfile.Profile() if args.profile and r == args.repeat - 1 else None
                s0 = SQL_COUNT[0]
                t0 = time.process_time()
                if prof:
                    prof.enable()
                for _ in range(args.n):
                    await call(app, "POST", "/", hdrs, body.encode())
                if prof:
                    prof.disable()
                    prof.dump_stats(args.profile)
                cpu = (time.process_time() - t0) / args.n
                results.append(cpu)
                print(f"run {r}: {cpu * 1e6:.1f} us CPU per GetCallerIdentity, "
                      f"{(SQL_COUNT[0] - s0) / args.n:.3f} SQL statements each", flush=True)
            print(f"min: {min(results) * 1e6:.1f} us per GetCallerIdentity")
    finally:
        await runtime.close()
        tmp.cleanup()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("op", choices=["signin", "gci"])
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", default="")
    args = p.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
