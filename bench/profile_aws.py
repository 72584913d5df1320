#!/usr/bin/env python3
"""Where does Vestibule's time go on the AWS path? Starts Vestibule like bench/aws_throughput.py,
drives it with wrk (GetCallerIdentity or CreateUser+GetUser) and samples every worker with
py-spy (from the bench venv: bench/.venv-moto/bin/py-spy, `pip install py-spy` there).

Writes collapsed stacks (flamegraph input) to bench/results/ and prints the functions with the
most samples, inclusive ("total") and exclusive ("self"), as a share of all samples.

    .venv/bin/python bench/profile_aws.py --op gci --connections 64 --seconds 20
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, RESULTS_DIR, Server, free_port, tree_memory
from aws_throughput import Signer, Target, measure, setup_vestibule


def summarize(collapsed: Path, top: int) -> str:
    total = 0
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue  # a frame name with a line break in it
        n = int(count)
        total += n
        frames = stack.split(";")
        seen = set()
        for f in frames:
            name = _short(f)
            if name not in seen:
                inclusive[name] += n
                seen.add(name)
        exclusive[_short(frames[-1])] += n
    out = [f"{total} samples", "", "| inclusive | function |", "|---|---|"]
    out += [f"| {100 * c / total:.1f}% | `{f}` |" for f, c in inclusive.most_common(top)]
    out += ["", "| self | function |", "|---|---|"]
    out += [f"| {100 * c / total:.1f}% | `{f}` |" for f, c in exclusive.most_common(top)]
    return "\n".join(out)


def _short(frame: str) -> str:
    # py-spy frames look like "function (path/to/file.py:123)"; drop the line number and site-packages prefix
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "src/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--summarize":
        print(summarize(Path(sys.argv[2]), 60))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--op", choices=["gci", "pair"], default="gci")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--launcher", choices=["serve", "uvicorn"], default="uvicorn")
    ap.add_argument("--principal", choices=["user", "root"], default="user")
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--target", choices=["vestibule", "bare"], default="vestibule",
                    help="bare: profile bench/bare_endpoint.py the same way, for comparison")
    ap.add_argument("--all-threads", action="store_true",
                    help="sample every thread (default: only the thread holding the GIL, so idle "
                         "aiosqlite worker threads blocked in C do not count as busy)")
    ap.add_argument("--py-spy", default=str(BENCH_DIR / ".venv-moto" / "bin" / "py-spy"))
    args = ap.parse_args()

    tmp_dir = tempfile.TemporaryDirectory(prefix="vestibule-bench-profile-")
    tmp = Path(tmp_dir.name)
    if args.target == "bare":
        port = free_port()
        srv = Server("bare", [sys.executable, str(BENCH_DIR / "bare_endpoint.py"), "--port", str(port),
                              "--workers", str(args.workers)], port, log_path=tmp / "bare.log",
                     health_path="/_health").start()
        target = Target("bare", srv, Signer("AKIAIOSFODNN7EXAMPLE", "bench-secret"), False)
    else:
        target = setup_vestibule("vestibule", args.launcher, args.workers, args.principal, tmp)
    try:
        work = tmp / "work"
        work.mkdir()
        target.gci_rate[args.connections] = 10_000.0  # size the CreateUser pool generously
        measure(target, "gci", 8, 2, work, 50)  # warm-up
        procs = [p for p in tree_memory(target.server.pid) if p.role in ("worker",)] or \
            [p for p in tree_memory(target.server.pid) if p.role == "master"]
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        outs = []
        spies = []
        for p in procs:
            out = RESULTS_DIR / f"profile-{args.target}-{args.op}-c{args.connections}-{stamp}-pid{p.pid}.txt"
            outs.append(out)
            spies.append(subprocess.Popen([args.py_spy, "record", "--pid", str(p.pid), "--format", "raw",
                                           "--rate", str(args.rate), "--duration", str(int(args.seconds)),
                                           "--nonblocking", "--output", str(out)]
                                          + ([] if args.all_threads else ["--gil"]),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(0.5)
        result = measure(target, args.op, args.connections, args.seconds, work, 50)
        for s in spies:
            s.wait(timeout=60)
        print(f"{args.op} c={args.connections}: {result.rps:.1f} req/s, p50 {result.p50_ms:.2f} ms, "
              f"p99 {result.p99_ms:.2f} ms, errors {result.errors}, server {result.server_cpu_cores:.2f} cores, "
              f"wrk {result.wrk_cpu_cores:.2f} cores (while sampled by py-spy --nonblocking)")
        merged = RESULTS_DIR / f"profile-{args.target}-{args.op}-c{args.connections}-{stamp}.collapsed"
        merged.write_text("".join(o.read_text() for o in outs if o.exists()))
        for o in outs:
            o.unlink(missing_ok=True)
        print(f"collapsed stacks: {merged}")
        print(summarize(merged, args.top))
    finally:
        target.server.stop()
        tmp_dir.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
