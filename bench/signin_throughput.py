#!/usr/bin/env python3
"""Benchmark (not a test): complete IAM user password sign-ins per second through the whole
HTTP flow, next to raw argon2id verifications per second on the same cores.

What it does, in one run:
1. makes a temporary VESTIBULE_DATA_DIR (SQLite), creates an account with an alias and N IAM
   users with console passwords through the `vestibule` CLI;
2. starts `vestibule serve --workers W` (default 2) as a subprocess; argon2id parameters are
   passed explicitly (default OWASP m=19456 KiB, t=2, p=1);
3. records the idle server's memory (RSS and PSS of the uvicorn master and each worker);
4. R times (default 5), alternating which goes first:
   - raw: W processes call argon2-cffi `PasswordHasher.verify` on a correct password in a loop
     for T seconds (no server traffic); verifications/s is the sum over processes;
   - sign-in: K concurrent clients, each with its own cookie jar, do complete sign-ins for
     T seconds: GET /{alias}/console (form + CSRF token), POST csrf_token/username/password
     (must answer 303 -> /console with a session cookie), GET /console (must be 200 and name
     the user). Each sign-in is a new browser: a fresh cookie jar and a new connection.
   ratio = sign-in rate / raw rate of that run;
5. records memory again after the load (idle), prints a markdown table of medians and the
   exact command, and writes the raw numbers to bench/results/.

The load generator is a small asyncio HTTP/1.1 client in this process (not httpx), so that
the client takes as little of the two cores as possible; its own CPU time is reported. Each
sign-in uses one new keep-alive connection for its three requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from _common import (
    Server,
    command_line,
    cpu_seconds,
    free_port,
    machine,
    median,
    percentile,
    save_json,
    system_busy_seconds,
    tree_memory,
    venv_bin,
    wait_for_quiet,
)

PASSWORD = "Bench-Passw0rd-for-signin!"
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')


# --- raw argon2id ----------------------------------------------------------------------------


def _argon_worker(params: tuple[int, int, int], seconds: float, start, out) -> None:
    from argon2 import PasswordHasher

    m, t, p = params
    hasher = PasswordHasher(time_cost=t, memory_cost=m, parallelism=p)
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)  # warm
    start.wait()
    count = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        hasher.verify(stored, PASSWORD)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    out.put((count, now - t0))


HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def raw_argon2_rate(params: tuple[int, int, int], procs: int, seconds: float,
                    huge_pages: bool = False) -> dict[str, float]:
    """`huge_pages`: the processes start with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (what `vestibule serve`
    sets for itself), so argon2id's work area is on transparent huge pages, as in the server."""
    ctx = mp.get_context("spawn" if huge_pages else "fork")
    start = ctx.Event()
    out = ctx.Queue()
    workers = [ctx.Process(target=_argon_worker, args=(params, seconds, start, out)) for _ in range(procs)]
    saved = os.environ.get("GLIBC_TUNABLES")
    if huge_pages:
        os.environ["GLIBC_TUNABLES"] = HUGE_PAGES_TUNABLE  # read by each new interpreter at its start
    try:
        for w in workers:
            w.start()
    finally:
        if saved is None:
            os.environ.pop("GLIBC_TUNABLES", None)
        else:
            os.environ["GLIBC_TUNABLES"] = saved
    if huge_pages:
        time.sleep(1.5)  # spawned interpreters import argon2 first
    time.sleep(0.5)  # every process has hashed its password and waits
    start.set()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    rate = sum(count / elapsed for count, elapsed in results)
    total = sum(count for count, _ in results)
    return {"rate": rate, "verifications": total,
            "ms_per_verify": 1000 * sum(elapsed for _, elapsed in results) / total}


# --- a small HTTP/1.1 client -----------------------------------------------------------------


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None

    async def request(self, method: str, path: str, headers: list[tuple[str, str]],
                      body: bytes = b"") -> tuple[int, list[tuple[str, str]], bytes]:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                assert self.writer is not None
                self.writer.write(raw)
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()  # a kept-alive connection closed by the server: open a new one once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = []
        length, chunked, close = None, False, False
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            k, v = k.strip().lower(), v.strip()
            headers.append((k, v))
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
            elif k == "connection" and v.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, headers, body


def _store_cookies(jar: dict[str, str], headers: list[tuple[str, str]]) -> None:
    for k, v in headers:
        if k != "set-cookie":
            continue
        first, *attrs = v.split(";")
        name, _, value = first.strip().partition("=")
        if any(a.strip().lower() == "max-age=0" for a in attrs) or value == "":
            jar.pop(name, None)
        else:
            jar[name] = value


def _cookie_header(jar: dict[str, str]) -> list[tuple[str, str]]:
    return [("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))] if jar else []


@dataclass
class SigninResult:
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, why: str) -> None:
        self.failed += 1
        self.errors[why] = self.errors.get(why, 0) + 1


async def sign_in_once(conn: Connection, alias: str, username: str, origin: str) -> str | None:
    """One complete sign-in with a fresh cookie jar; None when it worked, else what went wrong."""
    jar: dict[str, str] = {}
    common = [("Accept-Language", "en"), ("User-Agent", "vestibule-bench/1")]
    status, headers, body = await conn.request("GET", f"/{alias}/console", common + _cookie_header(jar))
    if status != 200:
        return f"form GET {status}"
    _store_cookies(jar, headers)
    match = CSRF.search(body)
    if not match:
        return "no csrf_token in form"
    form = urlencode({"csrf_token": match.group(1).decode(), "account": alias, "username": username,
                      "password": PASSWORD}).encode()
    status, headers, body = await conn.request(
        "POST", f"/{alias}/console",
        [*common, ("Content-Type", "application/x-www-form-urlencoded"), ("Origin", origin), *_cookie_header(jar)],
        form)
    location = next((v for k, v in headers if k == "location"), "")
    if status != 303 or not location.endswith("/console") or location.endswith(f"{alias}/console"):
        return f"POST {status} -> {location or body[:60]!r}"
    _store_cookies(jar, headers)
    status, headers, body = await conn.request("GET", "/console", common + _cookie_header(jar))
    if status != 200:
        return f"console GET {status}"
    if username.encode() not in body:
        return "console page does not name the user"
    return None


async def signin_load(port: int, alias: str, users: list[str], clients: int, seconds: float,
                      warmup: float) -> tuple[SigninResult, float]:
    origin = f"http://127.0.0.1:{port}"
    result = SigninResult()
    measuring = False
    start_at = 0.0
    stop_at = 0.0

    async def client(i: int) -> None:
        conn = Connection("127.0.0.1", port)
        n = 0
        try:
            while True:
                t0 = time.perf_counter()
                if stop_at and t0 >= stop_at:
                    return
                user = users[(i + n * clients) % len(users)]
                n += 1
                try:
                    problem = await sign_in_once(conn, alias, user, origin)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"[:80]
                # a new browser opens a new connection: the kernel spreads them over the workers
                await conn.close()
                t1 = time.perf_counter()
                if measuring and t0 >= start_at:
                    if problem is None:
                        result.ok += 1
                        result.latencies.append(t1 - t0)
                    else:
                        result.fail(problem)
        finally:
            await conn.close()

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(warmup)
    start_at = time.perf_counter()
    measuring = True
    stop_at = start_at + seconds
    await asyncio.gather(*tasks)
    # every sign-in that started inside the window is counted; the window ends when the last one does
    elapsed = time.perf_counter() - start_at
    return result, elapsed


# --- setup -----------------------------------------------------------------------------------


def cli(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([venv_bin("vestibule"), *args], env={**os.environ, **env}, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"vestibule {' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def vestibule_argv(launcher: str, port: int, workers: int) -> list[str]:
    """`vestibule serve`, or the same factory, settings and flags under the uvicorn command."""
    if launcher == "serve":
        return [venv_bin("vestibule"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return [sys.executable, "-m", "uvicorn", "vestibule.app:app_from_environment", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-proxy-headers",
            "--no-server-header", "--log-level", "warning"]


def mem_summary(pid: int) -> dict[str, object]:
    procs = tree_memory(pid)
    workers = [p for p in procs if p.role == "worker"]
    return {
        "processes": [p.__dict__ for p in procs],
        "rss_total_mb": sum(p.rss_mb for p in procs),
        "pss_total_mb": sum(p.pss_mb for p in procs),
        "master_rss_mb": sum(p.rss_mb for p in procs if p.role == "master"),
        "worker_rss_mb": [round(p.rss_mb, 1) for p in workers],
        "worker_pss_mb": [round(p.pss_mb, 1) for p in workers],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="measurements of each kind (medians are reported)")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of each measurement")
    ap.add_argument("--warmup", type=float, default=3.0, help="sign-ins before each measured window")
    ap.add_argument("--clients", type=int, default=8, help="concurrent sign-in clients (K)")
    ap.add_argument("--users", type=int, default=8, help="IAM users to sign in as (N)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers, and raw argon2id processes")
    ap.add_argument("--argon2-memory-kib", type=int, default=19456)
    ap.add_argument("--argon2-time-cost", type=int, default=2)
    ap.add_argument("--argon2-parallelism", type=int, default=1)
    ap.add_argument("--launcher", choices=["serve", "uvicorn"], default="serve",
                    help="serve: `vestibule serve --workers W`; uvicorn: the same app factory started by "
                         "`uvicorn --factory --workers W` directly (what `vestibule serve` runs)")
    ap.add_argument("--max-load", type=float, default=0.5,
                    help="wait (up to --max-wait s) until the 1-min load average is at most this")
    ap.add_argument("--max-wait", type=float, default=600.0)
    ap.add_argument("--raw-huge-pages", action="store_true",
                    help="also measure raw argon2id with its work area on transparent huge pages in each run")
    ap.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for the server (e.g. VESTIBULE_HUGE_PAGES=0)")
    args = ap.parse_args()

    try:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        loop_name = "uvloop"
    except ImportError:
        loop_name = "asyncio"

    params = (args.argon2_memory_kib, args.argon2_time_cost, args.argon2_parallelism)
    print(f"# sign-in throughput: argon2id m={params[0]} t={params[1]} p={params[2]}, "
          f"{args.workers} workers, {args.clients} clients, {args.runs} x {args.seconds:.0f} s", flush=True)
    tmp = tempfile.TemporaryDirectory(prefix="vestibule-bench-signin-")
    data = Path(tmp.name)
    port = free_port()
    env = {
        "VESTIBULE_DATA_DIR": str(data / "data"),
        "VESTIBULE_DATABASE_URL": "",
        "VESTIBULE_REDIS_URL": "",
        "VESTIBULE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VESTIBULE_ARGON2_MEMORY_KIB": str(params[0]),
        "VESTIBULE_ARGON2_TIME_COST": str(params[1]),
        "VESTIBULE_ARGON2_PARALLELISM": str(params[2]),
        "VESTIBULE_LOG_LEVEL": "warning",
        "VESTIBULE_SERVE_LOOPBACK": "1",  # what `vestibule serve` sets on 127.0.0.1 (for --launcher uvicorn)
    }
    for item in args.server_env:
        name, _, value = item.partition("=")
        env[name] = value
    alias = "bench-signin"
    print("setting up: account and users through the CLI ...", flush=True)
    account = cli(env, "account", "create", "--email", "bench@example.com", "--password", PASSWORD,
                  "--alias", alias)
    users = [f"bench-user-{i:02d}" for i in range(1, args.users + 1)]
    for name in users:
        cli(env, "iam-user", "create", "--account", account["AccountId"], "--name", name, "--password", PASSWORD)

    server = Server("vestibule", vestibule_argv(args.launcher, port, args.workers), port, env=env,
                    log_path=data / "server.log", health_path="/_health")
    results: dict[str, Any] = {"command": command_line(), "loop": loop_name,
                                  "argon2": {"memory_kib": params[0], "time_cost": params[1],
                                             "parallelism": params[2]},
                                  "workers": args.workers, "launcher": args.launcher, "clients": args.clients,
                                  "users": args.users,
                                  "seconds": args.seconds, "runs": []}
    try:
        server.start()
        time.sleep(2.0)
        results["memory_idle_start"] = mem_summary(server.pid)
        found = len(results["memory_idle_start"]["worker_rss_mb"]) or 1
        results["worker_processes"] = found
        if args.workers > 1 and found < args.workers:
            print(f"WARNING: asked for {args.workers} workers, the server runs {found} process(es) serving "
                  f"requests: {[p['cmd'][:60] for p in results['memory_idle_start']['processes']]}", flush=True)
        # one sign-in to check the flow before measuring anything
        check = asyncio.run(_one(port, alias, users[0]))
        if check is not None:
            raise SystemExit(f"a sign-in did not work: {check}; see {data / 'server.log'}")
        load = wait_for_quiet(args.max_load, args.max_wait)
        results["machine"] = machine()
        print(f"machine: {results['machine']}", flush=True)
        for r in range(args.runs):
            order = ["raw", "signin"] if r % 2 == 0 else ["signin", "raw"]
            if args.raw_huge_pages:
                order.insert(1, "raw_hp")
            run: dict[str, Any] = {"loadavg_before": os.getloadavg()}
            for kind in order:
                if kind in ("raw", "raw_hp"):
                    m0, w0 = system_busy_seconds(), time.perf_counter()
                    run[kind] = raw_argon2_rate(params, args.workers, args.seconds, huge_pages=kind == "raw_hp")
                    busy, wall = system_busy_seconds() - m0, time.perf_counter() - w0
                    # the argon2 processes keep `workers` cores busy for `seconds`; the rest is someone else
                    run[kind]["other_cpu_cores"] = (busy - args.workers * args.seconds) / wall
                else:
                    spids = server.pids()
                    s_cpu0, c_cpu0, m0 = cpu_seconds(spids), time.process_time(), system_busy_seconds()
                    res, elapsed = asyncio.run(signin_load(port, alias, users, args.clients, args.seconds,
                                                           args.warmup))
                    s_cpu, c_cpu = cpu_seconds(spids) - s_cpu0, time.process_time() - c_cpu0
                    other = (system_busy_seconds() - m0) - s_cpu - c_cpu
                    run["signin"] = {
                        "rate": res.ok / elapsed, "ok": res.ok, "failed": res.failed, "errors": res.errors,
                        "elapsed": elapsed,
                        "p50_ms": 1000 * percentile(res.latencies, 50),
                        "p99_ms": 1000 * percentile(res.latencies, 99),
                        # CPU seconds over warm-up + window, per second of wall time
                        "server_cpu_cores": s_cpu / (elapsed + args.warmup),
                        "client_cpu_cores": c_cpu / (elapsed + args.warmup),
                        "other_cpu_cores": other / (elapsed + args.warmup),
                    }
            run["ratio"] = run["signin"]["rate"] / run["raw"]["rate"]
            if "raw_hp" in run:
                run["ratio_hp"] = run["signin"]["rate"] / run["raw_hp"]["rate"]
            results["runs"].append(run)
            s, w = run["signin"], run["raw"]
            print(f"run {r + 1}/{args.runs}: sign-ins {s['rate']:.1f}/s (ok {s['ok']}, failed {s['failed']}, "
                  f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, server {s['server_cpu_cores']:.2f} cores, "
                  f"client {s['client_cpu_cores']:.2f} cores, other {s['other_cpu_cores']:.2f} cores); "
                  f"raw argon2id {w['rate']:.1f}/s "
                  f"({w['ms_per_verify']:.1f} ms each); ratio {run['ratio']:.3f}; load {run['loadavg_before'][0]:.2f}",
                  flush=True)
            if "raw_hp" in run:
                print(f"  raw argon2id on huge pages {run['raw_hp']['rate']:.1f}/s "
                      f"({run['raw_hp']['ms_per_verify']:.1f} ms each); ratio to it {run['ratio_hp']:.3f}", flush=True)
            if s["errors"]:
                print(f"  errors: {s['errors']}", flush=True)
        time.sleep(3.0)
        results["memory_idle_after"] = mem_summary(server.pid)
    finally:
        server.stop()
    results["loadavg_start"] = load
    print()
    print(render(results))
    path = save_json("signin", results)
    print(f"\nraw numbers: {os.path.relpath(path)}")
    tmp.cleanup()
    return 0


async def _one(port: int, alias: str, user: str) -> str | None:
    conn = Connection("127.0.0.1", port)
    try:
        return await sign_in_once(conn, alias, user, f"http://127.0.0.1:{port}")
    finally:
        await conn.close()


def launch_text(results: dict) -> str:
    w = results["workers"]
    how = (f"`vestibule serve --workers {w}`" if results["launcher"] == "serve"
           else f"`uvicorn vestibule.app:app_from_environment --factory --workers {w}`")
    return f"{how} ({results.get('worker_processes', '?')} process(es) serving requests)"


def render(results: dict) -> str:
    runs = results["runs"]
    signin = [r["signin"]["rate"] for r in runs]
    raw = [r["raw"]["rate"] for r in runs]
    ratios = [r["ratio"] for r in runs]
    a = results["argon2"]
    m = results["machine"]
    lines = [
        f"Command: `{results['command']}`",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['date']}, "
        f"load average before the runs {m['loadavg'][0]:.2f} / {m['loadavg'][1]:.2f} / {m['loadavg'][2]:.2f}; "
        f"code {m.get('code', '?')}",
        "",
        f"argon2id m={a['memory_kib']} KiB, t={a['time_cost']}, p={a['parallelism']}; "
        f"{launch_text(results)} on SQLite; {results['clients']} concurrent clients, "
        f"{results['users']} IAM users, {len(runs)} runs of {results['seconds']:.0f} s each",
        "",
        "| run | sign-ins/s | sign-in p50 | sign-in p99 | failed | raw argon2id verifications/s "
        "| ratio | server CPU (cores) | client CPU (cores) | other CPU during sign-ins / raw (cores) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(runs, 1):
        s, w = r["signin"], r["raw"]
        lines.append(f"| {i} | {s['rate']:.1f} | {s['p50_ms']:.0f} ms | {s['p99_ms']:.0f} ms | {s['failed']} "
                     f"| {w['rate']:.1f} | {r['ratio']:.3f} | {s['server_cpu_cores']:.2f} "
                     f"| {s['client_cpu_cores']:.2f} | {s['other_cpu_cores']:.2f} / {w['other_cpu_cores']:.2f} |")
    lines.append(f"| **median** | **{median(signin):.1f}** | {median([r['signin']['p50_ms'] for r in runs]):.0f} ms "
                 f"| {median([r['signin']['p99_ms'] for r in runs]):.0f} ms "
                 f"| {sum(r['signin']['failed'] for r in runs)} | **{median(raw):.1f}** | **{median(ratios):.3f}** "
                 f"| {median([r['signin']['server_cpu_cores'] for r in runs]):.2f} "
                 f"| {median([r['signin']['client_cpu_cores'] for r in runs]):.2f} "
                 f"| {median([r['signin']['other_cpu_cores'] for r in runs]):.2f} / "
                 f"{median([r['raw']['other_cpu_cores'] for r in runs]):.2f} |")
    lines += ["", f"Ratio of the medians: {median(signin) / median(raw):.3f}", ""]
    if all("raw_hp" in r for r in runs):
        hp = [r["raw_hp"]["rate"] for r in runs]
        hp_ratios = [r["ratio_hp"] for r in runs]
        lines += [f"Raw argon2id with `GLIBC_TUNABLES={HUGE_PAGES_TUNABLE}` (work area on huge pages, as the server "
                  f"runs): {', '.join(f'{x:.1f}' for x in hp)}/s, median **{median(hp):.1f}**; ratio of sign-ins to "
                  f"it per run {', '.join(f'{x:.3f}' for x in hp_ratios)}, median **{median(hp_ratios):.3f}**", ""]
    lines += ["| idle server memory (SQLite) | total RSS | master RSS | worker RSS | total PSS | worker PSS |",
              "|---|---|---|---|---|---|"]
    for label, key in (("after start-up", "memory_idle_start"), ("after the load", "memory_idle_after")):
        mem = results[key]
        w_rss = " + ".join(f"{x:.1f}" for x in mem["worker_rss_mb"]) + " MB" if mem["worker_rss_mb"] else "none"
        w_pss = " + ".join(f"{x:.1f}" for x in mem["worker_pss_mb"]) + " MB" if mem["worker_pss_mb"] else "none"
        lines.append(f"| {label} | {mem['rss_total_mb']:.1f} MB | {mem['master_rss_mb']:.1f} MB "
                     f"| {w_rss} | {mem['pss_total_mb']:.1f} MB | {w_pss} |")
    lines += ["", "RSS counts pages shared between processes once per process; PSS splits them."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
