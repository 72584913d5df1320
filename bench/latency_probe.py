#!/usr/bin/env python3
"""Diagnostic (not a benchmark table): when do Vestibule's slow AWS requests happen?

Starts Vestibule (the app factory under `uvicorn --factory --workers 2`, SQLite), loads it with
wrk (signed GetCallerIdentity, 64 connections) and meanwhile sends signed GetCallerIdentity
calls on 4 extra connections, timing each one; prints wrk's p50/p99 and every probe slower
than --slow-ms with its time since the start. With --key-cache-ttl the access-key cache TTL
(5 s in the code) is changed in the server processes through bench/diag/sitecustomize.py,
to see whether its expiry causes the slow requests; --gc-log records garbage collections.

    .venv/bin/python bench/latency_probe.py
    .venv/bin/python bench/latency_probe.py --key-cache-ttl 3600
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from aws_throughput import amz_now, gci_body, measure, setup_vestibule  # noqa: E402
from signin_throughput import Connection  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--slow-ms", type=float, default=30.0)
    ap.add_argument("--key-cache-ttl", type=float, help="diagnostic: access-key cache TTL in the server, seconds")
    ap.add_argument("--gc-log", type=Path, help="diagnostic: folder for per-process garbage collection logs")
    args = ap.parse_args()

    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH / "diag"), os.environ.get("PYTHONPATH")]))
    if args.key_cache_ttl:
        os.environ["VB_KEY_TTL"] = str(args.key_cache_ttl)
    if args.gc_log:
        args.gc_log.mkdir(parents=True, exist_ok=True)
        os.environ["VB_GC_LOG"] = str(args.gc_log)
    tmp_dir = tempfile.TemporaryDirectory(prefix="vestibule-bench-probe-")
    tmp = Path(tmp_dir.name)
    target = setup_vestibule("vestibule", "uvicorn", 2, "user", tmp)
    samples: list[tuple[float, float, int]] = []
    stop = threading.Event()

    async def probe() -> None:
        body = gci_body()

        async def one(conn: Connection) -> None:
            while not stop.is_set():
                headers = [(k, v) for k, v in target.signer.headers(target.host, "sts", body, amz_now()) if k != "Host"]
                t0 = time.perf_counter()
                status, _, _ = await conn.request("POST", "/", headers, body.encode())
                samples.append((time.time(), time.perf_counter() - t0, status))
                await asyncio.sleep(0.002)

        await asyncio.gather(*(one(Connection("127.0.0.1", target.server.port)) for _ in range(4)))

    thread = threading.Thread(target=lambda: asyncio.run(probe()))
    try:
        work = tmp / "work"
        work.mkdir()
        measure(target, "gci", 8, 3, work, 50)  # warm-up
        started = time.time()
        thread.start()
        result = measure(target, "gci", args.connections, args.seconds, work, 50)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        target.server.stop()
        tmp_dir.cleanup()
    lat = sorted(s[1] for s in samples)
    bad = [s for s in samples if s[2] != 200]
    print(f"key cache TTL: {args.key_cache_ttl or 'as in the code (5 s)'}")
    print(f"wrk GetCallerIdentity c={args.connections}: {result.rps:.0f} req/s, p50 {result.p50_ms:.2f} ms, "
          f"p99 {result.p99_ms:.2f} ms, max {result.raw['max_us'] / 1000:.1f} ms, errors {result.errors}")
    print(f"probe: {len(lat)} calls, p50 {1000 * lat[len(lat) // 2]:.2f} ms, "
          f"p99 {1000 * lat[int(len(lat) * 0.99)]:.2f} ms, "
          f"max {1000 * lat[-1]:.1f} ms, non-200: {len(bad)}")
    slow = [(at - started, took) for at, took, _ in samples if took * 1000 > args.slow_ms]
    print(f"probe calls slower than {args.slow_ms:g} ms: {len(slow)}")
    for at, took in slow:
        print(f"  t={at:6.2f} s  {1000 * took:6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
