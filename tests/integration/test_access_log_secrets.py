"""Secrets never reach the access log: `vestibule serve` (two worker processes, its real uvicorn access log
captured from its output) is sent a mailed reset link, a sign-in flow and a presigned-style AWS query; the log
has a line for each request, and none of the token, the flow IDs or the signature."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support import CHEAP_HASH, csrf_of, free_port
from vestibule.core.flows.recovery import LINK_LIFETIME
from vestibule.core.tokens import hash_token, new_token
from vestibule.runtime import build
from vestibule.services import accounts
from vestibule.settings import Settings
from vestibule.store.models import RecoveryToken

MASTER_KEY = "33" * 32
EMAIL = "owner@example.com"


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/_health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not start:\n{log.read_text()[-3000:]}")


async def _account_with_reset_link(settings: Settings) -> str:
    """An account and a live reset link for it, as `request_reset` stores one (the mail is not the point)."""
    runtime = await build(settings, run_migrations=False)
    try:
        token = new_token()
        now = time.time()
        async with runtime.deps.store.unit() as uow:
            created = await accounts.create_account(runtime.deps, uow, email=EMAIL, password="root password 1")
            await uow.recovery.add(RecoveryToken(token_hash=hash_token(token), account_id=created.account_id,
                                                 created_at=now, expires_at=now + LINK_LIFETIME, used_at=None))
        return token
    finally:
        await runtime.close()


def test_access_log_has_no_reset_token_flow_id_or_signature(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if os.environ.get("VESTIBULE_TEST_DATABASE_URL"):
        database_url = request.getfixturevalue("clean_database")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VESTIBULE_DATA_DIR": str(tmp_path / "data"), "VESTIBULE_DATABASE_URL": database_url,
           "VESTIBULE_REDIS_URL": os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), "VESTIBULE_MASTER_KEY": MASTER_KEY,
           "VESTIBULE_PUBLIC_URL": url, "VESTIBULE_LOG_LEVEL": "info", "VESTIBULE_JANITOR_INTERVAL_SECONDS": "0",
           "VESTIBULE_ARGON2_MEMORY_KIB": str(CHEAP_HASH.memory_kib),
           "VESTIBULE_ARGON2_TIME_COST": str(CHEAP_HASH.time_cost)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--workers", "2"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, process, log)
        settings = Settings(data_dir=tmp_path / "setup", database_url=database_url,
                            redis_url=env["VESTIBULE_REDIS_URL"], master_key=MASTER_KEY, public_url=url,
                            argon2_memory_kib=CHEAP_HASH.memory_kib, argon2_time_cost=CHEAP_HASH.time_cost)
        token = asyncio.run(_account_with_reset_link(settings))
        signature = new_token()
        with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as browser:
            opened = browser.get(f"/recovery/reset?token={token}")
            assert opened.status_code == 303
            assert opened.headers["referrer-policy"] == "no-referrer"
            reset_url = opened.headers["location"]
            assert token not in reset_url
            reset_flow = re.fullmatch(r"/recovery/reset\?flow=([A-Za-z0-9_-]+)", reset_url)
            assert reset_flow is not None
            page = browser.get(reset_url)
            assert page.status_code == 200 and 'name="new_password"' in page.text
            assert page.headers["referrer-policy"] == "no-referrer"

            start = browser.get("/")
            r = browser.post("/", data={"csrf_token": csrf_of(start.text), "user_type": "root", "email": EMAIL})
            signin_flow = re.fullmatch(r"/signin\?flow=([A-Za-z0-9_-]+)", r.headers["location"])
            assert signin_flow is not None
            assert browser.get(r.headers["location"]).status_code == 200

            browser.get(f"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature={signature}"
                        f"&X-Amz-Credential=AKIAEXAMPLE{signature[:8]}")
            browser.get("/?lang=zh-TW")
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    text = log.read_text()
    # the access log is really on, one line per request, the harmless parts kept
    assert '"GET /recovery/reset?token=[redacted] HTTP/1.1" 303' in text, text[-3000:]
    assert '"GET /recovery/reset?flow=[redacted] HTTP/1.1" 200' in text
    assert '"GET /signin?flow=[redacted] HTTP/1.1" 200' in text
    assert "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature=[redacted]" in text
    assert '"GET /?lang=zh-TW HTTP/1.1" 200' in text
    for secret in (token, reset_flow.group(1), signin_flow.group(1), signature, signature[:8]):
        assert secret not in text, "a secret reached the server's log"
