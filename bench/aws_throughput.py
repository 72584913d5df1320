#!/usr/bin/env python3
"""Benchmark (not a test): SigV4-signed STS GetCallerIdentity, a read-heavy IAM mix (GetUser,
ListUsers, SimulatePrincipalPolicy) and IAM CreateUser+GetUser throughput and latency at 1, 8 and
64 concurrent connections, against Vestibule, moto_server and a bare Starlette endpoint
(bench/bare_endpoint.py), all started side by side in one run.

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
- Read mix (`--ops readmix`, bench/_readmix.py): after a setup of `--readmix-users` users and a
  managed policy attached to one of them, each connection (one per wrk thread) cycles through
  pre-signed GetUser(a random user), ListUsers(MaxItems=100) and SimulatePrincipalPolicy(that
  user, iam:GetUser) in the ratio `--mix` (6:3:1); answers and errors are counted per operation.
  SimulatePrincipalPolicy stays in the mix only when every target serves it (`--simulate auto`),
  so that all targets get the same mix; the output says who refused it and with what answer.
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
import json
import os
import random
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
import _readmix as readmix
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
from _sigv4 import (  # Signer, amz_now, gci_body: the other scripts import them from here
    IAM_VERSION,
    Client,
    Signer,
    amz_now,
    check_signer_against_botocore,
    create_body,
    gci_body,
    get_body,
)

PASSWORD = "Bench-Passw0rd-for-aws!"
# the order the operations run in, whatever order --ops names them: moto slows down as it holds more
# users, so GetCallerIdentity comes before anything that creates users, and the read mix (500 users)
# before CreateUser+GetUser (thousands)
OP_ORDER = ("gci", "readmix", "pair")


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
    mix: readmix.MixSetup | None = None  # the read mix's users and what the target answered at setup
    mix_kinds: list[str] = field(default_factory=list)  # one cycle of the read mix, as sent to this target

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


def setup_vestibule(name: str, launcher: str, workers: int, principal: str, tmp: Path,
                    env_extra: dict[str, str] | None = None) -> Target:
    """A new data directory (SQLite unless `env_extra` names a VESTIBULE_DATABASE_URL), an account, the
    server started, and the key the requests are signed with."""
    port = free_port()
    data = tmp / name
    env = {
        "VESTIBULE_DATA_DIR": str(data),
        "VESTIBULE_DATABASE_URL": "",
        "VESTIBULE_REDIS_URL": "",
        "VESTIBULE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VESTIBULE_LOG_LEVEL": "warning",
        "VESTIBULE_SERVE_LOOPBACK": "1",
        **(env_extra or {}),
    }
    account = cli(env, "account", "create", "--email", f"{name}@example.com", "--password", PASSWORD,
                  "--alias", f"bench-{name}")
    account_id = account["AccountId"]
    root_key = cli(env, "access-key", "create", "--account", account_id)
    server = Server(name, vestibule_argv(launcher, port, workers), port, env=env, log_path=tmp / f"{name}.log",
                    health_path="/_health")
    server.start()
    try:
        if principal == "root":
            key = root_key
        else:
            cli(env, "iam-user", "create", "--account", account_id, "--name", "bench-admin")
            root = Target(name, server, Signer(root_key["AccessKeyId"], root_key["SecretAccessKey"]), True)
            post(root, "iam", urlencode({"Action": "AttachUserPolicy", "Version": IAM_VERSION,
                                         "UserName": "bench-admin",
                                         "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
            key = cli(env, "access-key", "create", "--account", account_id, "--user", "bench-admin")
    except BaseException:
        server.stop()  # the caller never gets the target, so it could not stop the server
        raise
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
    if op == "readmix":
        return measure_readmix(t, conns, seconds, work)
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


def measure_readmix(t: Target, conns: int, seconds: float, work: Path, per_thread: int = 600) -> WrkResult:
    """One connection per wrk thread (so each answer is matched to its operation); reads can repeat, so
    the pool simply starts over when a connection has sent it all."""
    assert t.mix is not None, "prepare_readmix() first"
    pool = work / f"{t.name}-readmix"
    if pool.exists():
        shutil.rmtree(pool)
    pool.mkdir(parents=True)
    readmix.write_pool(t.signer, t.host, pool, conns, per_thread, t.mix, t.mix_kinds, random.Random(conns))
    script = readmix.write_script(pool, _lua_str(str(pool)))
    result = run_wrk(t.server.port, script, conns, conns, seconds, t.server.pids())
    shutil.rmtree(pool)
    return result


def prepare_readmix(targets: list[Target], n_users: int, weights: dict[str, int], simulate: str,
                    moto_version: str) -> dict:
    """Create the mix's users and policy on every target, see who serves SimulatePrincipalPolicy, and choose
    the cycle every target gets (the same one for all, so their rates compare)."""
    notes: list[str] = []
    setups: dict[str, readmix.MixSetup] = {}
    for t in targets:
        print(f"  read mix setup on {t.name}: {n_users} users, a managed policy ...", flush=True)
        m = setups[t.name] = t.mix = readmix.prepare(Client(t.server.port, t.signer), n_users, uuid.uuid4().hex[:6])
        if t.name == "moto" and not m.simulate_served:
            m.simulate_answer += _moto_says_why(t.server)
        print(f"    ListUsers(MaxItems={readmix.LIST_MAX_ITEMS}) answered {m.list_page} users "
              f"(IsTruncated {str(m.list_truncated).lower()}); SimulatePrincipalPolicy answered "
              f"{m.simulate_status} {m.simulate_answer}", flush=True)
        if t.name == "moto" and m.list_page > readmix.LIST_MAX_ITEMS:
            notes.append(f"moto {moto_version} ignores MaxItems: its ListUsers answered all {m.list_page} users "
                         f"where Vestibule answers a page of {readmix.LIST_MAX_ITEMS} (--readmix-users 99 makes "
                         f"the pages the same size)")
    label = {n: f"{n} {moto_version}" if n == "moto" else n for n in setups}
    sent = dict(weights)
    if weights["s"]:
        # the bare endpoint answers 200 to anything; only the real IAMs count
        refusing = [n for n, m in setups.items() if n != "bare" and not m.simulate_served]
        if simulate == "never":
            sent["s"] = 0
            notes.append("SimulatePrincipalPolicy left out of the mix for every target (--simulate never)")
        elif simulate == "auto" and refusing:
            sent["s"] = 0
            notes.append("SimulatePrincipalPolicy left out of the mix for every target, so that they get the same "
                         "mix: not served by " + ", ".join(
                             f"{label[n]} ({setups[n].simulate_status} {setups[n].simulate_answer})"
                             for n in refusing) + "; --simulate always sends it anyway and counts the failures")
        elif refusing:
            notes.append("SimulatePrincipalPolicy is sent to every target (--simulate always) but fails on "
                         + ", ".join(label[n] for n in refusing)
                         + ": those answers count as errors in the table (and as requests in req/s)")
    kinds = readmix.cycle(sent)
    for t in targets:
        t.mix_kinds = kinds
    for n in notes:
        print(f"  NOTE: {n}", flush=True)
    print(f"  read mix: {readmix.describe(sent)}, one cycle: {' '.join(kinds).upper()}", flush=True)
    return {"users": n_users, "weights": sent, "asked_weights": weights, "cycle": kinds,
            "label": readmix.describe(sent), "notes": notes,
            "setup": {n: {"list_page": m.list_page, "list_truncated": m.list_truncated,
                          "simulate_status": m.simulate_status, "simulate_answer": m.simulate_answer}
                      for n, m in setups.items()}}


def _moto_says_why(server: Server) -> str:
    """moto answers an HTML 500 for an action it lacks and logs the reason just after answering."""
    for _ in range(30):
        if server.log_path is None:
            break
        why = [ln for ln in server.log_path.read_text(errors="replace").splitlines()
               if ln.startswith("NotImplementedError")]
        if why:
            return f"; its log: {why[-1]}"
        time.sleep(0.1)
    return ""


def moto_version(venv: Path) -> str:
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import moto; print(moto.__version__)"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    ap.add_argument("--repeat", type=int, default=3, help="measurements per point (medians are reported)")
    ap.add_argument("--connections", default="1,8,64")
    ap.add_argument("--ops", default="gci,readmix,pair",
                    help="gci (GetCallerIdentity), readmix (GetUser, ListUsers, SimulatePrincipalPolicy), pair "
                         "(CreateUser+GetUser); always run in this order")
    ap.add_argument("--readmix-users", type=int, default=500, help="users created for the read mix")
    ap.add_argument("--mix", default="6:3:1", help="read mix weights GetUser:ListUsers:SimulatePrincipalPolicy")
    ap.add_argument("--simulate", choices=["auto", "always", "never"], default="auto",
                    help="SimulatePrincipalPolicy in the read mix: auto = only when every target (bare aside) "
                         "serves it, else left out for all; always = sent to all, failures counted as errors")
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
    unknown = [op for op in ops if op not in OP_ORDER]
    if unknown:
        raise SystemExit(f"unknown --ops {','.join(unknown)}: choose from {','.join(OP_ORDER)}")
    if ops != sorted(ops, key=OP_ORDER.index):
        ops = sorted(ops, key=OP_ORDER.index)
        print(f"running the operations in the order {','.join(ops)} (moto slows down as it holds more users)")
    weights = readmix.parse_weights(args.mix)
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
        mix_info: dict | None = None
        # Every GetCallerIdentity run comes before any CreateUser load: moto's GetCallerIdentity
        # gets slower as it holds more users (about 3x slower after a few thousand), so measuring
        # it after the CreateUser runs would understate moto.
        for op in ops:
            if op == "readmix":
                mix_info = prepare_readmix(targets, args.readmix_users, weights, args.simulate,
                                           moto_version(args.moto_venv) if "moto" in wanted else "")
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
                        print(f"rep {rep + 1} {op:7} c={conns:<3} {t.name:18} {r.rps:9.1f} req/s  "
                              f"p50 {r.p50_ms:8.2f} ms"
                              f"  p99 {r.p99_ms:8.2f} ms  errors {r.errors}{'  WRAPPED' if r.wrapped else ''}"
                              f"  server {r.server_cpu_cores:.2f} cores, wrk {r.wrk_cpu_cores:.2f} cores, "
                              f"other {r.raw['other_cpu_cores']:.2f} cores"
                              f"  load {os.getloadavg()[0]:.2f}{_per_op(r.raw)}", flush=True)
        results = {"command": command_line(), "machine": info, "loadavg_start": load, "seconds": args.seconds,
                   "repeat": args.repeat, "workers": args.workers, "principal": args.principal,
                   "targets": {t.name: {"argv": t.server.argv, "processes": len(t.server.pids())} for t in targets},
                   "points": points, "readmix": mix_info}
    finally:
        for t in targets:
            t.server.stop()
    print()
    print(render(results))
    path = save_json("aws", results)
    print(f"\nraw numbers: {os.path.relpath(path)}")
    tmp_dir.cleanup()
    return 0


def _per_op(raw: dict) -> str:
    """The read mix's answers per operation: '  [GetUser 6012 (0 errors), ...]'."""
    ops = raw.get("ops")
    if not ops:
        return ""
    return "  [" + ", ".join(f"{readmix.SHORT[k]} {v['answers']}"
                             + (f" ({v['errors']} errors, last status {v['last_error_status']})" if v["errors"] else "")
                             for k, v in ops.items() if v["answers"]) + "]"


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
    mix = results.get("readmix")
    label = {"gci": "GetCallerIdentity", "pair": "CreateUser+GetUser (calls)",
             "readmix": f"read mix {mix['label']}" if mix else "read mix"}
    for op, conns in ops_seen:
        for n in names:
            p = points.get(f"{n}|{op}|{conns}")
            if p is None:
                continue
            errors = sum(r["errors"] for r in p["runs"])
            wrapped = any(r["wrapped"] for r in p["runs"])
            by_op = {k: sum(r["raw"]["ops"][k]["errors"] for r in p["runs"]) for k in readmix.SHORT} \
                if op == "readmix" else {}
            split = ", ".join(f"{readmix.SHORT[k]} {e}" for k, e in by_op.items() if e)
            lines.append(f"| {label[op]} | {conns} | {n} | {_med(p, 'rps'):.1f} | {_med(p, 'p50_ms'):.2f} ms "
                         f"| {_med(p, 'p99_ms'):.2f} ms | {errors}{' (pool wrapped)' if wrapped else ''}"
                         f"{f' ({split})' if split else ''} "
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
    if mix:
        lines += ["", f"Read mix: {mix['users']} users; each connection cycles "
                      f"{' '.join(mix['cycle']).upper()} (G = GetUser of a random one of the users, "
                      f"L = ListUsers MaxItems={readmix.LIST_MAX_ITEMS}, S = SimulatePrincipalPolicy of iam:GetUser "
                      f"for the user with the managed policy); req/s counts every call, latency is per call, "
                      f"errors are all runs' non-200 answers and socket errors (per operation in brackets)."]
        lines += [f"- setup on {n}: ListUsers answered {v['list_page']} users (IsTruncated "
                  f"{str(v['list_truncated']).lower()}); SimulatePrincipalPolicy answered {v['simulate_status']} "
                  f"{v['simulate_answer']}" for n, v in mix["setup"].items()]
        lines += [f"- {note}" for note in mix["notes"]]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
