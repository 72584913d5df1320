#!/usr/bin/env python3
"""Benchmark (not a test): what checking an SSO bearer token costs. Requests per second of the SSO portal API's
`ListAccounts` and `GetRoleCredentials` with a valid bearer token (`x-amz-sso_bearer_token`), next to a bare
endpoint of the same server (`GET /_health`: the same uvicorn workers, ASGI stack and AWS front, no work),
measured one after another in each repetition; medians of the repetitions and the ratios to the bare endpoint.

Two more points show where the time goes: `ListAccounts` without a token (the REST-JSON front and member
validation answering InvalidRequestException 400, no token lookup) and with an unknown token (the token lookup
answering UnauthorizedException 401). Their answers are non-2xx by design; the table counts them apart.

Setup, on a new SQLite data directory: an account and its root key (`vestibule` CLI), `vestibule serve
--workers W`, then through the API (botocore, signed as the root user) an Identity Center instance, a directory
user, a permission set assigned to the user in the account; the MFA prompt off and a one-time password (CLI);
the portal sign-in over HTTP (one-time password, new password); the device flow with unsigned botocore
`sso-oidc` calls, the user code approved in this process through the service's `decide` with the portal session
(the same call the /device page makes), and CreateToken for the bearer token.

    .venv/bin/python bench/sso_portal_throughput.py                       # 3 runs x 10 s, 8 and 64 connections
    .venv/bin/python bench/sso_portal_throughput.py --seconds 2 --repeat 1 --connections 8 --max-load 100 --max-wait 0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Server, command_line, free_port, machine, median, save_json, wait_for_quiet
from aws_throughput import LUA_DONE, PASSWORD, _lua_str, cli, run_wrk, vestibule_argv

REGION = "us-east-1"
USER = "bench-user"
ROLE = "BenchDevelopers"
NEW_PASSWORD = "bench portal password 9"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')

# every answer's status is checked against the one expected; LUA_DONE reports the count of others in its
# `wrapped` field (the name aws_throughput.py gives that per-thread counter)
LUA_GET = r"""
threads = {}
function setup(thread) table.insert(threads, thread) end
wrk.method = "GET"
wrk.path = %(path)s
wrk.body = nil
wrk.headers = {}
%(headers)s
wrapped = 0
function response(status, headers, body)
  if status ~= %(expect)d then wrapped = wrapped + 1 end
end
"""

# name, label, path (with the account ID filled in), bearer: "valid" | "unknown" | None, answer expected
POINTS = (
    ("bare", "bare endpoint `GET /_health`", "/_health", None, 200),
    ("accounts", "ListAccounts, valid token", "/assignment/accounts", "valid", 200),
    ("credentials", "GetRoleCredentials, valid token",
     "/federation/credentials?role_name=" + ROLE + "&account_id={account}", "valid", 200),
    ("no-token", "ListAccounts, no token (400)", "/assignment/accounts", None, 400),
    ("bad-token", "ListAccounts, unknown token (401)", "/assignment/accounts", "unknown", 401),
)


def _client(service: str, url: str, keys: dict[str, str] | None) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    if keys is None:
        return boto3.client(service, endpoint_url=url, region_name=REGION, config=Config(signature_version=UNSIGNED))
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=keys["AccessKeyId"],
                        aws_secret_access_key=keys["SecretAccessKey"])


def _world(url: str, root: dict[str, str], account_id: str) -> str:
    """The instance, user, permission set and assignment: the identity store ID."""
    admin, ids = _client("sso-admin", url, root), _client("identitystore", url, root)
    instance = admin.create_instance(Name="bench")["InstanceArn"]
    store = admin.describe_instance(InstanceArn=instance)["IdentityStoreId"]
    user = ids.create_user(IdentityStoreId=store, UserName=USER, DisplayName="Bench User",
                           Name={"GivenName": "Bench", "FamilyName": "User"},
                           Emails=[{"Value": "bench-user@example.com", "Primary": True}])["UserId"]
    ps = admin.create_permission_set(InstanceArn=instance, Name=ROLE, SessionDuration="PT1H")
    arn = ps["PermissionSet"]["PermissionSetArn"]
    admin.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=arn,
                                                  ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    admin.create_account_assignment(InstanceArn=instance, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                    PermissionSetArn=arn, PrincipalType="USER", PrincipalId=user)
    return str(store)


def _portal_session(url: str, store: str, one_time: str) -> str:
    import httpx

    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as browser:
        page = browser.get(f"/portal/{store}/start")
        r = browser.post(f"/portal/{store}/start", data={"csrf_token": _csrf(page.text), "username": USER})
        flow = r.headers["location"]
        page = browser.get(flow)
        browser.post(flow, data={"csrf_token": _csrf(page.text), "step": "password", "password": one_time})
        page = browser.get(flow)
        r = browser.post(flow, data={"csrf_token": _csrf(page.text), "step": "new_password",
                                     "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        if r.status_code != 303:
            raise SystemExit(f"portal sign-in failed: {r.status_code} {r.text[:300]}")
        tokens = [c.value for c in browser.cookies.jar if "vestibule_portal" in c.name and "user" not in c.name]
    if len(tokens) != 1 or not tokens[0]:
        raise SystemExit("portal sign-in set no session cookie")
    return tokens[0]


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    if not found:
        raise SystemExit("a portal page has no CSRF token")
    return found.group(1)


async def _approve(env: dict[str, str], session_token: str, user_code: str) -> None:
    """What the /device page does on Allow, on the server's own database."""
    from vestibule.runtime import build
    from vestibule.services.context import Client
    from vestibule.services.identity_center import sso_oidc
    from vestibule.services.signin import portal as portal_signin
    from vestibule.settings import load_settings

    runtime = await build(load_settings({**os.environ, **env}), run_migrations=False)
    try:
        signed = await portal_signin.signed_in(runtime.deps, session_token)
        if signed is None:
            raise SystemExit("the portal session is not live")
        browser = Client(ip="127.0.0.1", user_agent="bench")
        pending = await sso_oidc.pending_device(runtime.deps, browser, user_code)
        await sso_oidc.decide(runtime.deps, browser, signed, pending.id, True)
    finally:
        await runtime.close()


def _bearer_token(url: str, env: dict[str, str], store: str, session_token: str) -> str:
    oidc = _client("sso-oidc", url, None)
    client = oidc.register_client(clientName="bench", clientType="public", scopes=["sso:account:access"],
                                  grantTypes=[DEVICE_GRANT, "refresh_token"])
    started = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                              startUrl=f"{url}/portal/{store}/start")
    asyncio.run(_approve(env, session_token, started["userCode"]))
    token = oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                              grantType=DEVICE_GRANT, deviceCode=started["deviceCode"])
    return str(token["accessToken"])


def _check(url: str, token: str, account_id: str) -> None:
    portal = _client("sso", url, None)
    listed = portal.list_accounts(accessToken=token)["accountList"]
    if [a["accountId"] for a in listed] != [account_id]:
        raise SystemExit(f"ListAccounts answered {listed}")
    creds = portal.get_role_credentials(accessToken=token, accountId=account_id, roleName=ROLE)["roleCredentials"]
    import boto3

    sts = boto3.client("sts", endpoint_url=url, region_name=REGION,
                                     aws_access_key_id=creds["accessKeyId"],
                                     aws_secret_access_key=creds["secretAccessKey"],
                                     aws_session_token=creds["sessionToken"])
    arn = sts.get_caller_identity()["Arn"]
    if f":assumed-role/AWSReservedSSO_{ROLE}_" not in arn:
        raise SystemExit(f"the role credentials are {arn}")
    print(f"  check: ListAccounts {account_id}, GetRoleCredentials -> {arn}", flush=True)


def _script(work: Path, name: str, path: str, token: str | None, expect: int) -> Path:
    headers = f"wrk.headers['x-amz-sso_bearer_token'] = {_lua_str(token)}" if token else ""
    script = work / f"{name}.lua"
    script.write_text(LUA_GET % {"path": _lua_str(path), "headers": headers, "expect": expect} + LUA_DONE)
    return script


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"Command: `{results['command']}`", "",
             f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['date']}, load average before "
             f"{m['loadavg'][0]:.2f}; code {m.get('code', '?')}; wrk and the server share the CPUs. "
             f"`vestibule serve --workers {results['workers']}` on SQLite; {results['repeat']} runs of "
             f"{results['seconds']:g} s per point, the points one after another in each run; medians.", "",
             "| request | connections | req/s | runs (req/s) | p50 | p99 | answers not as expected | ratio to bare |",
             "|---|---|---|---|---|---|---|---|"]
    for conns in results["connections"]:
        bare = results["points"].get(f"bare|{conns}")
        for name, label, _path, _bearer, _expect in POINTS:
            p = results["points"].get(f"{name}|{conns}")
            if p is None:
                continue
            rps = median([r["rps"] for r in p["runs"]])
            ratio = rps / median([r["rps"] for r in bare["runs"]]) if bare else float("nan")
            runs = ", ".join(f"{r['rps']:.0f}" for r in p["runs"])
            wrong = sum(r["unexpected"] for r in p["runs"])
            p50, p99 = median([r["p50_ms"] for r in p["runs"]]), median([r["p99_ms"] for r in p["runs"]])
            lines.append(f"| {label} | {conns} | **{rps:.1f}** | {runs} | {p50:.2f} ms | {p99:.2f} ms | {wrong} | "
                         f"{'' if name == 'bare' else f'**{ratio:.3f}**'} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per point (medians are reported)")
    ap.add_argument("--connections", default="8,64")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--points", default=",".join(p[0] for p in POINTS),
                    help="which of " + ",".join(p[0] for p in POINTS))
    ap.add_argument("--max-load", type=float, default=0.5)
    ap.add_argument("--max-wait", type=float, default=600.0)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    wanted = args.points.split(",")
    if "bare" not in wanted:
        wanted.insert(0, "bare")
    connections = [int(c) for c in args.connections.split(",")]
    tmp_dir = tempfile.TemporaryDirectory(prefix="vestibule-bench-sso-")
    tmp = Path(tmp_dir.name)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"VESTIBULE_DATA_DIR": str(tmp / "data"), "VESTIBULE_DATABASE_URL": "", "VESTIBULE_REDIS_URL": "",
           "VESTIBULE_PUBLIC_URL": url, "VESTIBULE_LOG_LEVEL": "warning", "VESTIBULE_SERVE_LOOPBACK": "1"}
    account = cli(env, "account", "create", "--email", "bench-sso@example.com", "--password", PASSWORD,
                  "--alias", "bench-sso")
    account_id = account["AccountId"]
    root = cli(env, "access-key", "create", "--account", account_id)
    server = Server("vestibule", vestibule_argv("serve", port, args.workers), port, env=env,
                    log_path=tmp / "vestibule.log", health_path="/_health")
    print("starting vestibule serve and setting up the portal ...", flush=True)
    server.start()
    try:
        store = _world(url, root, account_id)
        cli(env, "sso", "settings", "set", "--identity-store-id", store, "--mfa-prompt", "never")
        one_time = cli(env, "sso", "user", "reset-password", "--identity-store-id", store, "--user-name", USER,
                       "--one-time-password")["OneTimePassword"]
        token = _bearer_token(url, env, store, _portal_session(url, store, one_time))
        _check(url, token, account_id)
        work = tmp / "work"
        work.mkdir()
        scripts = {name: _script(work, name, path.format(account=account_id),
                                 token if bearer == "valid" else "x" * 43 if bearer == "unknown" else None, expect)
                   for name, _label, path, bearer, expect in POINTS if name in wanted}
        load = wait_for_quiet(args.max_load, args.max_wait)
        info = machine()
        for script in scripts.values():  # warm-up, not recorded
            run_wrk(port, script, 2, 8, 2, server.pids())
        points: dict[str, dict[str, Any]] = {}
        for rep in range(args.repeat):
            for conns in connections:
                for name, script in scripts.items():
                    r = run_wrk(port, script, min(2, conns), conns, args.seconds, server.pids())
                    # answers of another status than the point expects, and socket errors (wrk's own status
                    # count is every non-2xx answer, which the 400 and 401 points answer by design)
                    unexpected = r.wrapped + r.errors - r.raw["status"]
                    run = {**r.__dict__, "unexpected": unexpected}
                    points.setdefault(f"{name}|{conns}", {"runs": []})["runs"].append(run)
                    print(f"rep {rep + 1} c={conns:<3} {name:12} {r.rps:9.1f} req/s  p50 {r.p50_ms:7.2f} ms  "
                          f"p99 {r.p99_ms:7.2f} ms  unexpected {unexpected}  server {r.server_cpu_cores:.2f} cores  "
                          f"other {r.raw['other_cpu_cores']:.2f} cores", flush=True)
        results = {"command": command_line(), "machine": info, "loadavg_start": load, "seconds": args.seconds,
                   "repeat": args.repeat, "workers": args.workers, "connections": connections, "points": points}
    finally:
        server.stop()
    print()
    print(render(results))
    path = save_json("sso-portal", results)
    print(f"\nraw numbers: {os.path.relpath(path)}")
    tmp_dir.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
