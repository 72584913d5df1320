"""VESTIBULE_LOG_FORMAT=json: `vestibule serve` (two worker processes, behind a trusted proxy) writes one JSON
object per line on stderr, the application's lines and one access line per request (request ID, route or AWS
service and operation, status, latency, client address, principal ARN when known); the request ID is the one
the AWS answer and the error page show; no password, reset token, session cookie, secret key or signature is
ever written. In process: an unhandled error's page shows the request ID the log line names."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from http_steps import make_account, make_user
from support import CHEAP_HASH, csrf_of, free_port
from vestibule.core.flows.recovery import LINK_LIFETIME
from vestibule.core.tokens import hash_token, new_token
from vestibule.runtime import Runtime, build
from vestibule.services import access_keys
from vestibule.settings import Settings
from vestibule.store.models import RecoveryToken

MASTER_KEY = "44" * 32
ALICE_PASSWORD = "alice's long password 7"
_SHOWN_ID = re.compile(r'id="request-id">[^<]*<code>([0-9a-f-]{36})</code>')


def _wait_ready(url: str, process: subprocess.Popen[bytes], err: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{err.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not start:\n{err.read_text()[-3000:]}")


async def _world(settings: Settings) -> dict[str, str]:
    """An account (alias acme) with a root access key, an IAM user with a password, a live reset link."""
    runtime: Runtime = await build(settings, run_migrations=True)
    try:
        account_id = await make_account(runtime)
        await make_user(runtime, account_id, "alice", password=ALICE_PASSWORD)
        token = new_token()
        now = time.time()
        async with runtime.deps.store.unit() as uow:
            key = await access_keys.create(runtime.deps, uow, account_id, f"root:{account_id}")
            await uow.recovery.add(RecoveryToken(token_hash=hash_token(token), account_id=account_id,
                                                 created_at=now, expires_at=now + LINK_LIFETIME, used_at=None))
        return {"account_id": account_id, "key_id": key.access_key_id, "secret": key.secret_access_key,
                "token": token}
    finally:
        await runtime.close()


def _sts(url: str, key_id: str, secret: str, signatures: list[str]) -> Any:
    client: Any = boto3.session.Session().client(
        "sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}))

    def keep_signature(request: Any, **_: Any) -> None:
        signatures.append(request.headers["Authorization"].decode().rpartition("Signature=")[2])

    client.meta.events.register("before-send.sts.*", keep_signature)
    return client


def test_serve_writes_json_lines_with_request_ids_and_no_secrets(tmp_path: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    if os.environ.get("VESTIBULE_TEST_DATABASE_URL"):
        database_url = request.getfixturevalue("clean_database")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path / "setup", database_url=database_url,
                        redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), master_key=MASTER_KEY,
                        public_url=url, argon2_memory_kib=CHEAP_HASH.memory_kib,
                        argon2_time_cost=CHEAP_HASH.time_cost)
    world = asyncio.run(_world(settings))
    env = {**os.environ, "VESTIBULE_DATA_DIR": str(tmp_path / "data"), "VESTIBULE_DATABASE_URL": database_url,
           "VESTIBULE_REDIS_URL": settings.redis_url, "VESTIBULE_MASTER_KEY": MASTER_KEY,
           "VESTIBULE_PUBLIC_URL": url, "VESTIBULE_LOG_LEVEL": "info", "VESTIBULE_LOG_FORMAT": "json",
           "VESTIBULE_TRUSTED_PROXIES": "127.0.0.1", "VESTIBULE_JANITOR_INTERVAL_SECONDS": "0",
           "VESTIBULE_ARGON2_MEMORY_KIB": str(CHEAP_HASH.memory_kib),
           "VESTIBULE_ARGON2_TIME_COST": str(CHEAP_HASH.time_cost)}
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--workers", "2"], env=env, stdout=stdout, stderr=stderr)
    signatures: list[str] = []
    try:
        _wait_ready(url, process, err)
        proxy = {"X-Forwarded-For": "6.6.6.6, 198.51.100.8"}
        with httpx.Client(base_url=url, follow_redirects=False, timeout=30, headers=proxy) as browser:
            reset = browser.get(f"/recovery/reset?token={world['token']}")
            assert reset.status_code == 303
            page = browser.get("/acme/console")
            signed_in = browser.post("/acme/console", data={"csrf_token": csrf_of(page.text), "username": "alice",
                                                            "password": ALICE_PASSWORD})
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console", signed_in.text
            session_cookie = next(v for k, v in browser.cookies.items() if "session" in k)
            assert browser.get("/console").status_code == 200
            missing = browser.get("/no-such-page")
            assert missing.status_code == 404
            shown = _SHOWN_ID.search(missing.text)
            assert shown is not None, "the not-found page shows the request ID"
            assert missing.headers["x-request-id"] == shown.group(1)
            browser.get(f"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature={world['token'][:20]}")
        identity = _sts(url, world["key_id"], world["secret"], signatures).get_caller_identity()
        amz_id = identity["ResponseMetadata"]["RequestId"]
        wrong_secret = "x" * 40
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            _sts(url, world["key_id"], wrong_secret, signatures).get_caller_identity()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        refused_id = refused.value.response["ResponseMetadata"]["RequestId"]
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    text = err.read_text()
    lines: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines()]  # each line one JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's own lines are JSON too"
    access = [line for line in lines if line.get("type") == "access"]
    assert all(line["logger"] == "vestibule.access" and line["latency_ms"] >= 0 for line in access)
    assert len({line["request_id"] for line in access}) == len(access), "one ID per request"

    def one(**match: object) -> dict[str, Any]:
        found = [line for line in access if all(line.get(k) == v for k, v in match.items())]
        assert len(found) == 1, (match, access)
        return found[0]

    account = world["account_id"]
    reset_line = one(path="/recovery/reset?token=[redacted]")
    assert reset_line["status"] == 303 and reset_line["route"] == "/recovery/reset"
    assert reset_line["client"] == "198.51.100.8" and reset_line["proxy"] == "127.0.0.1"
    posted = one(method="POST", route="/{account}/console")
    assert posted["status"] == 303 and posted["client"] == "198.51.100.8"
    home = one(method="GET", path="/console")
    assert home["principal_arn"] == f"arn:aws:iam::{account}:user/alice" and home["status"] == 200
    assert one(path="/no-such-page")["request_id"] == shown.group(1)
    ok = one(request_id=amz_id)
    assert (ok["service"], ok["operation"], ok["status"]) == ("sts", "GetCallerIdentity", 200)
    assert "error_code" not in ok
    assert ok["principal_arn"] == f"arn:aws:iam::{account}:root" and ok["client"] == "127.0.0.1"
    assert "proxy" not in ok
    bad = one(request_id=refused_id)
    assert (bad["service"], bad["operation"], bad["status"]) == ("sts", "GetCallerIdentity", 403)
    assert bad["error_code"] == "SignatureDoesNotMatch"
    assert "principal_arn" not in bad
    assert "X-Amz-Signature=[redacted]" in one(service="sts", operation="GetCallerIdentity", method="GET")["path"]

    everything = text + out.read_text()
    assert len(signatures) == 2
    for secret in (world["token"], world["token"][:20], ALICE_PASSWORD, session_cookie, world["secret"],
                   wrong_secret, *signatures):
        assert secret not in everything, "a secret reached the server's output"


async def test_an_unhandled_error_page_shows_the_request_id_the_log_names(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    from vestibule.app import create_app

    async def broken(request: Request) -> Response:
        raise RuntimeError("the database went away")

    app = create_app(runtime, close_runtime=False)
    app.router.routes.insert(0, Route("/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="vestibule"):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.get("/broken")
    assert r.status_code == 500
    shown = _SHOWN_ID.search(r.text)
    assert shown is not None and r.headers["x-request-id"] == shown.group(1)
    assert "the database went away" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "vestibule" and "unhandled error" in rec.getMessage()]
    assert len(logged) == 1 and shown.group(1) in logged[0].getMessage()
