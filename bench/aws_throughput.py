#!/usr/bin/env python3
"""Benchmark (not a test): SigV4-signed STS GetCallerIdentity and IAM CreateUser+GetUser
throughput and latency at 1, 8 and 64 concurrent connections, against Vestibule, moto_server
and a bare Starlette endpoint (bench/bare_endpoint.py), all started side by side in one run.

Load generator: `wrk` (Debian package) with a generated Lua script.
- GetCallerIdentity: one request, signed with SigV4 just before each wrk run and replayed for
  the whole run (a signed request stays valid for the 5-minute clock-skew window; Vestibule
  verifies every signature from scratch, it keeps no record of signatures seen).
- CreateUser+GetUser: a pool of distinct, pre-signed CreateUser(UserName=u) / GetUser(u)
  pairs is signed just before each wrk run; wrk runs one connection per thread and each
  connection sends CreateUser(u_i), waits for the answer, then GetUser(u_i), then the next
  pair. The pool is sized from that target's GetCallerIdentity rate; if a connection runs
  out of pairs it starts over (its CreateUser calls then fail with 409 and are counted as
  errors, and the table says so).
Requests are signed by this script's own SigV4 signer (checked against botocore's signer at
start, byte for byte), with the headers botocore signs for the query protocol.

Each point (operation x connections x target) is measured --repeat times (default 3),
the targets one after another for each point, and the medians are reported with the ratios
Vestibule/moto and Vestibule/bare.

moto comes from the `moto[server]` package in a separate virtual environment
(bench/.venv-moto, created with pip on first use), never the project's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    BENCH_DIR,
    Server,
    command_line,
    cpu_seconds,
    free_port,
    machine,
    median,
    save_json,
    system_busy_seconds,
    venv_bin,
    wait_for_quiet,
)

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
REGION = "us-east-1"
STS_VERSION = "2011-06-15"
IAM_VERSION = "2010-05-08"
PASSWORD = "Bench-Passw0rd-for-aws!"


# --- SigV4 signing (client side) ---------------------------------------------------------------


class Signer:
    """SigV4 for `POST /` query-protocol calls, signing content-type;host;x-amz-date like botocore."""

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self.secret = key_id, secret
        self._keys: dict[tuple[str, str], bytes] = {}

    def _key(self, date: str, service: str) -> bytes:
        k = self._keys.get((date, service))
        if k is None:
            k = ("AWS4" + self.secret).encode()
            for step in (date, REGION, service, "aws4_request"):
                k = hmac.new(k, step.encode(), hashlib.sha256).digest()
            self._keys[(date, service)] = k
        return k

    def headers(self, host: str, service: str, body: str, amz_date: str) -> list[tuple[str, str]]:
        payload = hashlib.sha256(body.encode()).hexdigest()
        signed = "content-type;host;x-amz-date"
        canonical = (f"POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\n\n"
                     f"{signed}\n{payload}")
        scope = f"{amz_date[:8]}/{REGION}/{service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key(amz_date[:8], service), to_sign.encode(), hashlib.sha256).hexdigest()
        return [("Host", host), ("Content-Type", CONTENT_TYPE), ("X-Amz-Date", amz_date),
                ("Authorization", f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                                  f"SignedHeaders={signed}, Signature={signature}")]

    def raw(self, host: str, service: str, body: str, amz_date: str) -> bytes:
        lines = ["POST / HTTP/1.1"] + [f"{k}: {v}" for k, v in self.headers(host, service, body, amz_date)]
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def amz_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def check_signer_against_botocore() -> None:
    """Our signer must produce exactly botocore's Authorization header (when botocore is installed;
    Vestibule's own check of every signature in check_target() covers it otherwise)."""
    try:
        from botocore.auth import SigV4Auth
    except ImportError:
        print("botocore is not installed: the signer is checked by Vestibule's answers only", flush=True)
        return
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = urlencode({"Action": "CreateUser", "Version": IAM_VERSION, "UserName": "someone+x=y,z.@-_"})
    req = AWSRequest(method="POST", url="http://127.0.0.1:1234/", data=body, headers={"Content-Type": CONTENT_TYPE})
    SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "iam", REGION).add_auth(req)
    ours = dict(Signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").headers(
        "127.0.0.1:1234", "iam", body, req.headers["X-Amz-Date"]))
    if ours["Authorization"] != req.headers["Authorization"]:
        raise SystemExit(f"signer mismatch:\n ours     {ours['Authorization']}\n"
                         f" botocore {req.headers['Authorization']}")


def gci_body() -> str:
    return urlencode({"Action": "GetCallerIdentity", "Version": STS_VERSION})


def create_body(name: str) -> str:
    return urlencode({"Action": "CreateUser", "Version": IAM_VERSION, "UserName": name})


def get_body(name: str) -> str:
    return urlencode({"Action": "GetUser", "Version": IAM_VERSION, "UserName": name})


# --- wrk -----------------------------------------------------------------------------------

LUA_DONE = r"""
function done(summary, latency, requests)
  local wrapped = 0
  for _, t in ipairs(threads) do wrapped = wrapped + (t:get("wrapped") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"wrapped":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, wrapped))
end
"""

LUA_STATIC = r"""
threads = {}
function setup(thread) table.insert(threads, thread) end
wrk.method = "POST"
wrk.body = %(body)s
wrk.headers = {}
%(headers)s
"""

LUA_POOL = r"""
threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local pool = {}
local n = 0
local i = 0
wrapped = 0

function init(args)
  local f = assert(io.open(%(dir)s .. "/pool-" .. id .. ".bin", "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    n = n + 1
    pool[n] = data:sub(nl + 1, nl + len)
    pos = nl + len + 1
  end
end

function request()
  i = i + 1
  if i > n then
    i = 1
    wrapped = wrapped + 1
  end
  return pool[i]
end
"""


def _lua_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    wrapped: int
    server_cpu_cores: float
    wrk_cpu_cores: float
    raw: dict = field(default_factory=dict)


def run_wrk(port: int, script: Path, threads: int, conns: int, seconds: float, server_pids: list[int]) -> WrkResult:
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script),
            f"http://127.0.0.1:{port}/"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0, m0, me0 = cpu_seconds(server_pids), system_busy_seconds(), time.process_time()
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    s1, m1, me1 = cpu_seconds(server_pids), system_busy_seconds(), time.process_time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    d = json.loads(line[len("BENCHJSON "):])
    errors = d["connect"] + d["read"] + d["write"] + d["status"] + d["timeout"]
    wrk_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # everything else the machine did meanwhile (other people's tests, idle servers, the kernel)
    d["other_cpu_cores"] = ((m1 - m0) - (s1 - s0) - wrk_cpu - (me1 - me0)) / wall
    return WrkResult(
        rps=d["requests"] / (d["duration_us"] / 1e6), p50_ms=d["p50_us"] / 1000, p99_ms=d["p99_us"] / 1000,
        requests=d["requests"], errors=errors, wrapped=d["wrapped"],
        server_cpu_cores=(s1 - s0) / wall, wrk_cpu_cores=wrk_cpu / wall, raw=d)


# --- targets ---------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    server: Server
    signer: Signer
    distinct_users: bool  # CreateUser names must be new (a real IAM)
    gci_rate: dict[int, float] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"


def ensure_moto(venv: Path) -> Path:
    exe = venv / "bin" / "moto_server"
    if not exe.exists():
        print(f"creating {venv} with moto[server] (pip) ...", flush=True)
        subprocess.run([shutil.which("python3.11") or sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "moto[server]"], check=True)
    return exe


def vestibule_argv(launcher: str, port: int, workers: int) -> list[str]:
    if launcher == "serve":
        return [venv_bin("vestibule"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return [sys.executable, "-m", "uvicorn", "vestibule.app:app_from_environment", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-proxy-headers",
            "--no-server-header", "--log-level", "warning"]


def cli(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([venv_bin("vestibule"), *args], env={**os.environ, **env}, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"vestibule {' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def setup_vestibule(name: str, launcher: str, workers: int, principal: str, tmp: Path) -> Target:
    port = free_port()
    data = tmp / name
    env = {
        "VESTIBULE_DATA_DIR": str(data),
        "VESTIBULE_DATABASE_URL": "",
        "VESTIBULE_REDIS_URL": "",
        "VESTIBULE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VESTIBULE_LOG_LEVEL": "warning",
        "VESTIBULE_SERVE_LOOPBACK": "1",
    }
    account = cli(env, "account", "create", "--email", f"{name}@example.com", "--password", PASSWORD,
                  "--alias", f"bench-{name}")
    account_id = account["AccountId"]
    root_key = cli(env, "access-key", "create", "--account", account_id)
    server = Server(name, vestibule_argv(launcher, port, workers), port, env=env, log_path=tmp / f"{name}.log",
                    health_path="/_health")
    server.start()
    if principal == "root":
        key = root_key
    else:
        cli(env, "iam-user", "create", "--account", account_id, "--name", "bench-admin")
        root = Target(name, server, Signer(root_key["AccessKeyId"], root_key["SecretAccessKey"]), True)
        post(root, "iam", urlencode({"Action": "AttachUserPolicy", "Version": IAM_VERSION, "UserName": "bench-admin",
                                     "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
        key = cli(env, "access-key", "create", "--account", account_id, "--user", "bench-admin")
    return Target(name, server, Signer(key["AccessKeyId"], key["SecretAccessKey"]), True)


def post(t: Target, service: str, body: str) -> bytes:
    """One signed call through urllib; anything but 200 stops the benchmark."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"http://{t.host}/", data=body.encode(), method="POST",
                                 headers=dict(t.signer.headers(t.host, service, body, amz_now())))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{t.name}: {body.split('&', 1)[0]} failed: {exc.code} {exc.read()[:400]!r}") from None


def check_target(t: Target) -> None:
    """A GetCallerIdentity, a CreateUser and its GetUser must all answer 200 (Vestibule checks the
    signatures, so this also proves the signer right)."""
    name = f"chk-{uuid.uuid4().hex[:12]}"
    for service, body in (("sts", gci_body()), ("iam", create_body(name)), ("iam", get_body(name))):
        post(t, service, body)


# --- the runs --------------------------------------------------------------------------------


def write_gci_script(t: Target, path: Path) -> None:
    headers = "\n".join(f"wrk.headers[{_lua_str(k)}] = {_lua_str(v)}"
                        for k, v in t.signer.headers(t.host, "sts", gci_body(), amz_now()))
    path.write_text(LUA_STATIC % {"body": _lua_str(gci_body()), "headers": headers} + LUA_DONE)


def write_pair_pool(t: Target, pool_dir: Path, threads: int, pairs_per_thread: int, tag: str) -> None:
    if pool_dir.exists():
        shutil.rmtree(pool_dir)
    pool_dir.mkdir(parents=True)
    date = amz_now()
    # wrk calls request() once for thread 0 before the run to check the script, and throws that
    # request away; a harmless GetCallerIdentity first keeps every CreateUser(u) before GetUser(u)
    # (the other threads send it as their first call)
    first = t.signer.raw(t.host, "sts", gci_body(), date)
    for th in range(threads):
        chunks = [b"%d\n" % len(first) + first]
        for i in range(pairs_per_thread):
            name = f"b{tag}-{th}-{i}"
            for body in (create_body(name), get_body(name)):
                raw = t.signer.raw(t.host, "iam", body, date)
                chunks.append(b"%d\n" % len(raw) + raw)
        (pool_dir / f"pool-{th}.bin").write_bytes(b"".join(chunks))
    (pool_dir / "script.lua").write_text(LUA_POOL % {"dir": _lua_str(str(pool_dir))} + LUA_DONE)


def measure(t: Target, op: str, conns: int, seconds: float, work: Path, min_pairs: int) -> WrkResult:
    if op == "gci":
        script = work / f"{t.name}-gci.lua"
        write_gci_script(t, script)
        return run_wrk(t.server.port, script, min(2, conns), conns, seconds, t.server.pids())
    # one connection per wrk thread, so each connection keeps CreateUser(u) before GetUser(u)
    threads = conns
    if t.distinct_users:
        expected_calls = max(t.gci_rate.get(conns, 0.0), 100.0) * seconds * 1.5
        pairs = max(min_pairs, int(expected_calls / 2 / threads) + 1)
    else:
        pairs = 500  # the canned endpoint does not care about repeats
    pool = work / f"{t.name}-pairs"
    write_pair_pool(t, pool, threads, pairs, uuid.uuid4().hex[:8])
    result = run_wrk(t.server.port, pool / "script.lua", threads, conns, seconds, t.server.pids())
    if not t.distinct_users:
        result.wrapped = 0
    shutil.rmtree(pool)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    ap.add_argument("--repeat", type=int, default=3, help="measurements per point (medians are reported)")
    ap.add_argument("--connections", default="1,8,64")
    ap.add_argument("--ops", default="gci,pair", help="gci (GetCallerIdentity), pair (CreateUser+GetUser)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers for Vestibule and the bare endpoint")
    ap.add_argument("--vestibule", default="serve",
                    help="comma list of how to start Vestibule: serve (`vestibule serve --workers W`), uvicorn "
                         "(the same app factory under `uvicorn --factory --workers W`)")
    ap.add_argument("--principal", choices=["user", "root"], default="user",
                    help="sign as an IAM user with AdministratorAccess attached (default) or as the root user")
    ap.add_argument("--targets", default="bare,vestibule,moto")
    ap.add_argument("--moto-venv", type=Path, default=BENCH_DIR / ".venv-moto")
    ap.add_argument("--max-load", type=float, default=0.5)
    ap.add_argument("--max-wait", type=float, default=600.0)
    args = ap.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    check_signer_against_botocore()
    conns_list = [int(c) for c in args.connections.split(",")]
    ops = args.ops.split(",")
    wanted = args.targets.split(",")
    tmp_dir = tempfile.TemporaryDirectory(prefix="vestibule-bench-aws-")
    tmp = Path(tmp_dir.name)
    targets: list[Target] = []
    try:
        print("starting servers ...", flush=True)
        if "bare" in wanted:
            port = free_port()
            srv = Server("bare", [sys.executable, str(BENCH_DIR / "bare_endpoint.py"), "--port", str(port),
                                  "--workers", str(args.workers)], port, log_path=tmp / "bare.log",
                         health_path="/_health").start()
            targets.append(Target("bare", srv, Signer("AKIAIOSFODNN7EXAMPLE", "bench-secret"), False))
        if "vestibule" in wanted:
            for launcher in args.vestibule.split(","):
                name = "vestibule" if launcher == "serve" else f"vestibule-{launcher}"
                targets.append(setup_vestibule(name, launcher, args.workers, args.principal, tmp))
        if "moto" in wanted:
            exe = ensure_moto(args.moto_venv)
            port = free_port()
            srv = Server("moto", [str(exe), "-H", "127.0.0.1", "-p", str(port)], port, log_path=tmp / "moto.log",
                         health_path="/moto-api/").start()
            targets.append(Target("moto", srv, Signer("AKIAIOSFODNN7EXAMPLE", "moto-ignores-signatures"), True))
        for t in targets:
            check_target(t)
            procs = len(t.server.pids())
            print(f"  {t.name}: port {t.server.port}, {procs} process(es): {' '.join(t.server.argv[:3])} ...",
                  flush=True)
        load = wait_for_quiet(args.max_load, args.max_wait)
        info = machine()
        print(f"machine: {info}", flush=True)
        work = tmp / "work"
        work.mkdir()
        points: dict[str, dict] = {}
        # Every GetCallerIdentity run comes before any CreateUser load: moto's GetCallerIdentity
        # gets slower as it holds more users (about 3x slower after a few thousand), so measuring
        # it after the CreateUser runs would understate moto.
        for op in ops:
            for t in targets:  # warm-up, not recorded
                measure(t, op, 8, 3 if op == "gci" else 2, work, 50)
            for rep in range(args.repeat):
                for conns in conns_list:
                    for t in targets:
                        load_before = os.getloadavg()[0]
                        r = measure(t, op, conns, args.seconds, work, 50)
                        r.raw["loadavg_before"] = load_before
                        if op == "gci":
                            t.gci_rate[conns] = max(t.gci_rate.get(conns, 0.0), r.rps)
                        key = f"{t.name}|{op}|{conns}"
                        points.setdefault(key, {"target": t.name, "op": op, "conns": conns, "runs": []})
                        points[key]["runs"].append(r.__dict__)
                        print(f"rep {rep + 1} {op:4} c={conns:<3} {t.name:18} {r.rps:9.1f} req/s  "
                              f"p50 {r.p50_ms:8.2f} ms"
                              f"  p99 {r.p99_ms:8.2f} ms  errors {r.errors}{'  WRAPPED' if r.wrapped else ''}"
                              f"  server {r.server_cpu_cores:.2f} cores, wrk {r.wrk_cpu_cores:.2f} cores, "
                              f"other {r.raw['other_cpu_cores']:.2f} cores"
                              f"  load {os.getloadavg()[0]:.2f}", flush=True)
        results = {"command": command_line(), "machine": info, "loadavg_start": load, "seconds": args.seconds,
                   "repeat": args.repeat, "workers": args.workers, "principal": args.principal,
                   "targets": {t.name: {"argv": t.server.argv, "processes": len(t.server.pids())} for t in targets},
                   "points": points}
    finally:
        for t in targets:
            t.server.stop()
    print()
    print(render(results))
    path = save_json("aws", results)
    print(f"\nraw numbers: {os.path.relpath(path)}")
    tmp_dir.cleanup()
    return 0


def _med(point: dict, key: str) -> float:
    return median([r[key] for r in point["runs"]])


def render(results: dict) -> str:
    m = results["machine"]
    points = results["points"]
    names = list(results["targets"])
    others = [r["raw"].get("other_cpu_cores", 0.0) for p in points.values() for r in p["runs"]]
    lines = [
        f"Command: `{results['command']}`",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['date']}, load average before the "
        f"runs {m['loadavg'][0]:.2f} / {m['loadavg'][1]:.2f} / {m['loadavg'][2]:.2f}; code {m.get('code', '?')}; "
        f"wrk and the servers share "
        f"the same CPUs. {results['repeat']} runs of {results['seconds']:g} s per point, medians.",
        "",
        "Targets: " + "; ".join(f"{n}: `{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(t['argv']))}` "
                                f"({t['processes']} processes)" for n, t in results["targets"].items()),
        f"CPU used by everything else on the machine during the measurements (other processes, the kernel "
        f"outside the servers and wrk): median {median(others):.2f} cores, at most {max(others):.2f}.",
        "",
        "| operation | connections | target | req/s | p50 | p99 | errors | server CPU (cores) | wrk CPU (cores) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ops_seen: list[tuple[str, int]] = []
    for p in points.values():
        if (p["op"], p["conns"]) not in ops_seen:
            ops_seen.append((p["op"], p["conns"]))
    label = {"gci": "GetCallerIdentity", "pair": "CreateUser+GetUser (calls)"}
    for op, conns in ops_seen:
        for n in names:
            p = points.get(f"{n}|{op}|{conns}")
            if p is None:
                continue
            errors = sum(r["errors"] for r in p["runs"])
            wrapped = any(r["wrapped"] for r in p["runs"])
            lines.append(f"| {label[op]} | {conns} | {n} | {_med(p, 'rps'):.1f} | {_med(p, 'p50_ms'):.2f} ms "
                         f"| {_med(p, 'p99_ms'):.2f} ms | {errors}{' (pool wrapped)' if wrapped else ''} "
                         f"| {_med(p, 'server_cpu_cores'):.2f} | {_med(p, 'wrk_cpu_cores'):.2f} |")
    vest = [n for n in names if n.startswith("vestibule")]
    if vest:
        lines += ["", "| operation | connections | " + " | ".join(
            f"{v}/moto | {v}/bare" for v in vest) + " |", "|---|---|" + "---|---|" * len(vest)]
        for op, conns in ops_seen:
            cells = []
            for v in vest:
                pv = points.get(f"{v}|{op}|{conns}")
                for other in ("moto", "bare"):
                    po = points.get(f"{other}|{op}|{conns}")
                    cells.append(f"{_med(pv, 'rps') / _med(po, 'rps'):.2f}x" if pv and po else "n/a")
            lines.append(f"| {label[op]} | {conns} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
