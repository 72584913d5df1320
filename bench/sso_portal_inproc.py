#!/usr/bin/env python3
"""Time per SSO portal API call, in process (not a throughput benchmark, not a test): the bearer check, the
portal's reads (`accounts_for`, `role_credentials_by_name`) and the whole ListAccounts, ListAccountRoles and
GetRoleCredentials requests driven through the ASGI app with no HTTP server; `time.perf_counter()` over `--n`
calls each (wall time: on a shared machine, take the minimum of `--repeat` runs) and the SQL statements per call.

    .venv/bin/python bench/sso_portal_inproc.py                   # SQLite file in a temporary directory
    BENCH_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/sso_portal_inproc.py

The world, made with the services and store directly: 4 accounts, an Identity Center instance, a user in 3
groups (of 6), 6 permission sets each provisioned to every account, the user assigned 2 of them directly in one
account and more through each group in the others (one pair both ways), 40 other users with assignments of their
own; a portal session and an SSO-OIDC access token for the user.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inproc import SQL_COUNT, call

PASSWORD = "Bench-Passw0rd-for-portal!"


async def setup(data: Path) -> tuple[Any, Any, dict[str, Any]]:
    os.environ.update({
        "VESTIBULE_DATA_DIR": str(data), "VESTIBULE_DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", ""),
        "VESTIBULE_REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""), "VESTIBULE_PUBLIC_URL": "http://127.0.0.1:8080",
        "VESTIBULE_ARGON2_MEMORY_KIB": "1024", "VESTIBULE_ARGON2_TIME_COST": "1", "VESTIBULE_LOG_LEVEL": "warning",
        "VESTIBULE_JANITOR_INTERVAL_SECONDS": "0",
    })
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from vestibule.app import create_app
    from vestibule.core.flows.portal_signin import directory_user_ref
    from vestibule.core.tokens import hash_token
    from vestibule.runtime import build
    from vestibule.services import accounts
    from vestibule.services.identity_center import directory, provisioning
    from vestibule.services.identity_center.directory_profile import UserProfile
    from vestibule.services.identity_center.settings import InstanceSettings
    from vestibule.settings import load_settings
    from vestibule.store.models import Session, SsoAssignment, SsoInstance, SsoPermissionSet
    from vestibule.store.models.sso_oidc import OidcClient, OidcToken

    runtime = await build(load_settings())
    deps = runtime.deps
    now = deps.clock()
    account_ids = []
    for i in range(4):
        async with deps.store.unit() as uow:
            made = await accounts.create_account(deps, uow, email=f"bench{i}@example.com", password=PASSWORD,
                                                 name=f"bench-{i}", alias=f"bench-portal-{i}")
        account_ids.append(str(made.as_json()["AccountId"]))
    owner = account_ids[0]
    store_id = f"d-{secrets.token_hex(5)}"
    instance_arn = f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}"
    token = secrets.token_urlsafe(48)
    async with deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=instance_arn, identity_store_id=store_id, owner_account_id=owner, name="bench", kind="ACCOUNT",
            status="ACTIVE", created_at=now, settings=InstanceSettings().to_json(), tags="[]"))
        user = await directory.create_user(uow, store_id, "bench-user", UserProfile(display_name="Bench"),
                                           actor="bench", now=now)
        others = [await directory.create_user(uow, store_id, f"other-{i:02d}", UserProfile(), actor="bench", now=now)
                  for i in range(40)]
        groups = [await directory.create_group(uow, store_id, f"group-{i}", actor="bench", now=now)
                  for i in range(6)]
        for g in groups[:3]:
            await directory.add_member(uow, store_id, g.id, user.id, actor="bench", now=now)
        for i, other in enumerate(others):
            await directory.add_member(uow, store_id, groups[3 + i % 3].id, other.id, actor="bench", now=now)
        sets = []
        for i in range(6):
            row = SsoPermissionSet(arn=f"arn:aws:sso:::permissionSet/ssoins-x/ps-{secrets.token_hex(8)}",
                                   instance_arn=instance_arn, name=f"Set{i}", description=f"set {i}",
                                   session_duration=3600, created_at=now, updated_at=now)
            await uow.identity_center.add(row)
            sets.append(row)
            for account_id in account_ids:
                await provisioning.provision(uow, row, account_id, now)

        def assign(ps: SsoPermissionSet, account_id: str, kind: str, principal: str) -> SsoAssignment:
            return SsoAssignment(permission_set_arn=ps.arn, account_id=account_id, principal_type=kind,
                                 principal_id=principal, instance_arn=instance_arn, created_at=now)

        rows = [assign(sets[0], owner, "USER", user.id), assign(sets[1], owner, "USER", user.id),
                assign(sets[0], owner, "GROUP", groups[0].id)]  # the same pair directly and through a group
        for n, g in enumerate(groups[:3]):
            rows += [assign(sets[2 + n], account_ids[1 + n], "GROUP", g.id),
                     assign(sets[5], account_ids[1 + n], "GROUP", g.id)]
        for g in groups[3:]:
            rows += [assign(ps, a, "GROUP", g.id) for ps in sets for a in account_ids]
        for i, other in enumerate(others):
            rows.append(assign(sets[i % 6], account_ids[i % 4], "USER", other.id))
        for row in rows:
            await uow.identity_center.add(row)
        principal_key = directory_user_ref(user.id).key
        session_hash = hash_token(secrets.token_urlsafe(32))
        await uow.sessions.add(Session(id_hash=session_hash, account_id=owner, principal_key=principal_key,
                                       created_at=now, last_seen_at=now, expires_at=now + 86400, idle_seconds=3600,
                                       mfa_used=False, csrf_secret="c" * 43))
        await uow.oidc_clients.add(OidcClient(id="bench-client", secret_hash="x" * 64, name="bench",
                                              client_type="public", scopes=["sso:account:access"],
                                              grant_types=["refresh_token"], redirect_uris=[],
                                              identity_store_id=store_id, created_at=now,
                                              secret_expires_at=now + 86400))
        await uow.oidc_tokens.add([OidcToken(
            id=secrets.token_hex(16), kind="access", token_hash=hash_token(token), family_id="f",
            client_id="bench-client", identity_store_id=store_id, session_id_hash=session_hash,
            principal_key=principal_key, user_id=user.id,
            scopes=["sso:account:access"], created_at=now, expires_at=now + 86400)])

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        SQL_COUNT[0] += 1

    world = {"token": token, "account": account_ids[1], "owner": owner, "role": "Set2", "sets": len(sets)}
    return create_app(runtime), runtime, world


async def measure(label: str, n: int, repeat: int, fn: Callable[[], Awaitable[object]]) -> None:
    for _ in range(min(n, 200)):
        await fn()
    best = float("inf")
    statements = 0.0
    for _ in range(repeat):
        gc.collect()
        s0 = SQL_COUNT[0]
        t0 = time.perf_counter()
        for _ in range(n):
            await fn()
        best = min(best, (time.perf_counter() - t0) / n)
        statements = (SQL_COUNT[0] - s0) / n
    print(f"| {label} | {best * 1e3:.3f} | {statements:.1f} |", flush=True)


async def main_async(args: argparse.Namespace) -> None:
    from vestibule.services.context import Client
    from vestibule.services.identity_center import portal, sso_oidc

    tmp = tempfile.TemporaryDirectory(prefix="vestibule-portal-inproc-")
    app, runtime, world = await setup(Path(tmp.name))
    await runtime.start()
    deps = runtime.deps
    client = Client(ip="127.0.0.1", user_agent="vestibule-bench/1")
    token = world["token"]
    headers = [("Host", "127.0.0.1:8080"), ("x-amz-sso_bearer_token", token), ("User-Agent", "vestibule-bench/1")]
    try:
        signed = (await sso_oidc.bearer(deps, token)).portal
        shown = await portal.accounts_for(deps, signed.instance, signed.user)
        assert len(shown) == 4 and sum(len(a.roles) for a in shown) == 8, shown

        async def bearer() -> object:
            return await sso_oidc.bearer(deps, token)

        async def accounts() -> object:
            return await portal.accounts_for(deps, signed.instance, signed.user)

        async def credentials() -> object:
            return await portal.role_credentials_by_name(deps, client, signed.instance, signed.user,
                                                         world["account"], world["role"])

        def request(path: str, query: str = "") -> Callable[[], Awaitable[object]]:
            async def go() -> object:
                status, _, body = await call(app, "GET", path, headers, query=query)
                assert status == 200, (status, body[:300])
                return body
            return go

        backend = (deps.settings.database_url or "sqlite").split(":", 1)[0]
        print(f"n={args.n}, best of {args.repeat}; database: {backend}")
        print("| call | ms per call | SQL statements per call |\n|---|---:|---:|")
        await measure("`sso_oidc.bearer`", args.n, args.repeat, bearer)
        await measure("`portal.accounts_for`", args.n, args.repeat, accounts)
        await measure("`portal.role_credentials_by_name`", args.n, args.repeat, credentials)
        await measure("ListAccounts (ASGI)", args.n, args.repeat, request("/assignment/accounts"))
        await measure("ListAccountRoles (ASGI)", args.n, args.repeat,
                      request("/assignment/roles", f"account_id={world['account']}"))
        await measure("GetRoleCredentials (ASGI)", args.n, args.repeat, request(
            "/federation/credentials", f"account_id={world['account']}&role_name={world['role']}"))
    finally:
        await runtime.close()
        tmp.cleanup()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
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
