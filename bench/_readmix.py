"""The read-heavy mix of bench/aws_throughput.py (`--ops readmix`).

Setup, once per target: `--readmix-users` users (CreateUser), one customer managed policy
allowing `iam:GetUser` (CreatePolicy) attached to the first of them (AttachUserPolicy); then one
`ListUsers(MaxItems=100)` to see how many users the first page holds, and one
`SimulatePrincipalPolicy(PolicySourceArn=<first user>, ActionNames=[iam:GetUser])` to see whether
the target serves it.

Load: wrk, one connection per thread; each connection cycles through pre-signed requests in a
fixed order that spreads the weights evenly (smooth weighted round robin; 6:3:1 gives
G L G G L G S G L G): GetUser(a random one of the users), ListUsers(MaxItems=100) and
SimulatePrincipalPolicy. The Lua script counts answers and non-200 answers per operation.
Standard library only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from _sigv4 import Client, Signer, amz_now, create_body, error_code, get_body, iam_body

NAMES = {"g": "GetUser", "l": "ListUsers", "s": "SimulatePrincipalPolicy"}
SHORT = {"g": "GetUser", "l": "ListUsers", "s": "Simulate"}
LIST_MAX_ITEMS = 100
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}'


@dataclass
class MixSetup:
    users: list[str]
    source_arn: str  # the user SimulatePrincipalPolicy asks about (the policy is attached to it)
    list_page: int  # users in the first ListUsers(MaxItems=100) page
    list_truncated: bool
    simulate_status: int
    simulate_answer: str  # the EvalDecision, or the error code (or the start of a non-XML body)

    @property
    def simulate_served(self) -> bool:
        return self.simulate_status == 200


def parse_weights(text: str) -> dict[str, int]:
    """'6:3:1' -> GetUser 6, ListUsers 3, SimulatePrincipalPolicy 1."""
    parts = [int(p) for p in text.split(":")]
    if len(parts) != 3 or min(parts) < 0 or parts[0] + parts[1] == 0:
        raise SystemExit(f"--mix wants three weights GetUser:ListUsers:SimulatePrincipalPolicy, not {text!r}")
    return dict(zip("gls", parts, strict=True))


def cycle(weights: dict[str, int]) -> list[str]:
    """One cycle of the kinds, each as often as its weight, spread out (smooth weighted round robin)."""
    total = sum(weights.values())
    current = dict.fromkeys(weights, 0)
    out: list[str] = []
    for _ in range(total):
        for k, w in weights.items():
            current[k] += w
        pick = max(current, key=lambda k: current[k])
        current[pick] -= total
        out.append(pick)
    return out


def describe(weights: dict[str, int]) -> str:
    kept = [k for k in "gls" if weights[k]]
    return ":".join(SHORT[k] for k in kept) + " " + ":".join(str(weights[k]) for k in kept)


def _arn(body: bytes) -> str:
    m = re.search(rb"<Arn>([^<]+)</Arn>", body)
    return m.group(1).decode() if m else ""


def list_body() -> str:
    return iam_body("ListUsers", MaxItems=str(LIST_MAX_ITEMS))


def simulate_body(source_arn: str) -> str:
    return iam_body("SimulatePrincipalPolicy", PolicySourceArn=source_arn, **{"ActionNames.member.1": "iam:GetUser"})


def prepare(client: Client, n_users: int, tag: str) -> MixSetup:
    users = [f"rm{tag}-{i}" for i in range(n_users)]
    source_arn = _arn(client.ok("iam", create_body(users[0])))
    for name in users[1:]:
        client.ok("iam", create_body(name))
    policy_arn = _arn(client.ok("iam", iam_body("CreatePolicy", PolicyName=f"bench-readmix-{tag}",
                                                PolicyDocument=POLICY)))
    client.ok("iam", iam_body("AttachUserPolicy", UserName=users[0], PolicyArn=policy_arn))
    page = client.ok("iam", list_body())
    status, body = client.call("iam", simulate_body(source_arn))
    if status == 200:
        m = re.search(rb"<EvalDecision>([^<]+)</EvalDecision>", body)
        answer = m.group(1).decode() if m else "(no EvalDecision in the answer)"
    else:
        answer = error_code(body)
    return MixSetup(users, source_arn, page.count(b"<UserName>"), b"<IsTruncated>true</IsTruncated>" in page,
                    status, answer)


def write_pool(signer: Signer, host: str, pool_dir: Path, threads: int, per_thread: int, mix: MixSetup,
               kinds: list[str], rng: random.Random) -> None:
    """pool-<thread>.bin: entries '<kind> <length>\\n<raw request>', `per_thread` of them rounded up to whole
    cycles, thread t starting at place t of the cycle; every request signed now (one signature per distinct
    request: they are replayed)."""
    date = amz_now()
    gets = {u: signer.raw(host, "iam", get_body(u), date) for u in mix.users}
    fixed = {"l": signer.raw(host, "iam", list_body(), date),
             "s": signer.raw(host, "iam", simulate_body(mix.source_arn), date)}
    cycles = max(1, -(-per_thread // len(kinds)))
    for th in range(threads):
        # each connection starts at another place in the cycle, so even a short run keeps the ratio
        shift = th % len(kinds)
        order = kinds[shift:] + kinds[:shift]
        chunks = []
        for _ in range(cycles):
            for k in order:
                raw = gets[rng.choice(mix.users)] if k == "g" else fixed[k]
                chunks.append(b"%s %d\n" % (k.encode(), len(raw)) + raw)
        (pool_dir / f"pool-{th}.bin").write_bytes(b"".join(chunks))


LUA = r"""
threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local pool, kinds = {}, {}
local n, i = 0, 0
-- one connection per thread: the answer that arrives is always to the last request sent (wrk's
-- check of the script calls request() once more in thread 0 before the run; the next call overwrites it)
local pending = nil
n_g, e_g, s_g, n_l, e_l, s_l, n_s, e_s, s_s = 0, 0, 0, 0, 0, 0, 0, 0, 0

function init(args)
  local f = assert(io.open(%(dir)s .. "/pool-" .. id .. ".bin", "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local kind, len = data:sub(pos, nl - 1):match("^(%%a) (%%d+)$")
    len = tonumber(len)
    n = n + 1
    kinds[n] = kind
    pool[n] = data:sub(nl + 1, nl + len)
    pos = nl + len + 1
  end
end

function request()
  i = i + 1
  if i > n then i = 1 end
  pending = kinds[i]
  return pool[i]
end

function response(status, headers, body)
  if pending == "g" then
    n_g = n_g + 1
    if status ~= 200 then e_g = e_g + 1; s_g = status end
  elseif pending == "l" then
    n_l = n_l + 1
    if status ~= 200 then e_l = e_l + 1; s_l = status end
  elseif pending == "s" then
    n_s = n_s + 1
    if status ~= 200 then e_s = e_s + 1; s_s = status end
  end
end

function done(summary, latency, requests)
  local ops = {}
  for _, k in ipairs({"g", "l", "s"}) do
    local n_, e_, s_ = 0, 0, 0
    for _, t in ipairs(threads) do
      n_ = n_ + (t:get("n_" .. k) or 0)
      e_ = e_ + (t:get("e_" .. k) or 0)
      local s = t:get("s_" .. k) or 0
      if s ~= 0 then s_ = s end
    end
    table.insert(ops, string.format('"%%s":{"answers":%%d,"errors":%%d,"last_error_status":%%d}', k, n_, e_, s_))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"mean_us":%%.1f,"max_us":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,"wrapped":0,"ops":{%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, table.concat(ops, ",")))
end
"""


def write_script(pool_dir: Path, lua_str: str) -> Path:
    path = pool_dir / "script.lua"
    path.write_text(LUA % {"dir": lua_str})
    return path
