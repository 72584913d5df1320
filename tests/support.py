"""Helpers shared by the tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import httpx
import uvicorn
from starlette.applications import Starlette

from vestibule.core.passwords import HashParameters, PasswordHasher
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime, build
from vestibule.services import sessions
from vestibule.services.captcha import random_text
from vestibule.services.context import Client, Deps
from vestibule.services.mail import DevMailbox, Mailer
from vestibule.settings import Settings
from vestibule.store.sql.unit import UnitOfWork

CHEAP_HASH = HashParameters(memory_kib=1024, time_cost=1, parallelism=1)
T = TypeVar("T")


class CaptchaAnswers:
    """A challenge-text source that also remembers what it issued, so tests can solve CAPTCHAs."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    def __call__(self) -> str:
        text = random_text()
        self.issued.append(text)
        return text

    @property
    def latest(self) -> str:
        return self.issued[-1]


_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def last_code(mailbox: DevMailbox, to: str) -> str:
    for mail in reversed(mailbox.messages):
        if mail.to == to:
            match = re.search(r"\b(\d{6})\b", mail.body)
            if match:
                return match.group(1)
    raise AssertionError(f"no code mailed to {to}")


async def add_session(deps: Deps, uow: UnitOfWork, ref: PrincipalRef, account_id: str, client: Client, *,
                      now: float, lifetime: int, mfa: bool = False, idle_seconds: int | None = None) -> str:
    """A browser session of `ref`, stored as a finished sign-in stores it (without the sign-in), ending `lifetime`
    seconds after `now`; its cookie token."""
    made, row = sessions.new_session(deps.session_ports, ref, account_id, client, mfa, now)
    row.expires_at = now + lifetime
    if idle_seconds is not None:
        row.idle_seconds = idle_seconds
    await uow.sessions.add(row)
    return made.token


class DeliveringTransport(httpx.ASGITransport):
    """The app in process, each request followed by delivering the mail it queued: what the mail sender does
    in the background (`vestibule serve` wakes it at commit), done here before the test reads the mailbox."""

    def __init__(self, app: Starlette, runtime: Runtime, client: tuple[str, int] = ("203.0.113.7", 50000)) -> None:
        super().__init__(app=app, client=client)
        self._runtime = runtime

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await deliver_mail(self._runtime)
        return response


async def deliver_mail(runtime: Runtime) -> None:
    """Send every mail that is due now (what a test waits for instead of sleeping)."""
    assert runtime.mail_sender is not None
    await runtime.mail_sender.drain()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    captcha: CaptchaAnswers
    thread: threading.Thread
    server: uvicorn.Server
    extra: dict[str, object] = field(default_factory=dict)


def start_live_server(settings: Settings, mailer: Mailer | None = None, port: int | None = None,
                      public_host: str = "127.0.0.1") -> LiveServer:
    """uvicorn on a real socket in a thread, with its own event loop. `public_host`: the public URL's host
    (`localhost` for WebAuthn, whose relying party ID cannot be an IP address); it listens on 127.0.0.1."""
    from vestibule.app import create_app

    port = port or free_port()
    settings = settings.with_overrides(public_url=f"http://{public_host}:{port}")
    captcha = CaptchaAnswers()
    holder: dict[str, object] = {}
    ready = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        rt = loop.run_until_complete(build(settings, run_migrations=False, mailer=mailer,
                                           hasher=PasswordHasher(CHEAP_HASH)))
        app = create_app(rt, captcha_text_source=captcha, loopback=True)
        # proxy_headers=False as `vestibule serve` has it: only VESTIBULE_TRUSTED_PROXIES believes a proxy
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                proxy_headers=False)
        server = uvicorn.Server(config)
        holder.update(runtime=rt, server=server, loop=loop)
        ready.set()
        loop.run_until_complete(server.serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    server = holder["server"]
    assert isinstance(server, uvicorn.Server)
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    runtime = holder["runtime"]
    assert isinstance(runtime, Runtime)
    return LiveServer(f"http://{public_host}:{port}", runtime, captcha, thread, server, {"loop": holder["loop"]})


def on_live_server(live: LiveServer, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """From a test thread: run `work` in the live server's event loop (its store and sender live there)."""
    loop = live.extra["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    return asyncio.run_coroutine_threadsafe(work, loop).result(timeout)


def deliver_live_mail(live: LiveServer, timeout: float = 30.0) -> None:
    """From a test thread: send every mail that is due now on the live server."""
    on_live_server(live, deliver_mail(live.runtime), timeout)


def stop_live_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(30)




# The Redis database of the Redis port tests when no VESTIBULE_TEST_REDIS_URL is set (the SQLite pass of
# `make suite` sets its own, so it never shares one with the PostgreSQL + Redis pass running beside it).
FALLBACK_REDIS_URL = os.environ.get("VESTIBULE_TEST_FALLBACK_REDIS_URL", "redis://127.0.0.1:6379/15")


def backend_missing(what: str, url: str) -> NoReturn:
    """A backend a test needs does not answer: a failure in CI (which starts it), a visible skip elsewhere."""
    import os

    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{what} must answer at {url} in CI (.ci/run starts it)")
    pytest.skip(f"no {what} at {url}; CI starts one")


async def reachable_redis_url() -> str:
    """VESTIBULE_TEST_REDIS_URL, else the local default; fails in CI and skips elsewhere when it is down."""
    import os

    import redis.asyncio as redis
    from redis.exceptions import ConnectionError as RedisDown

    url = os.environ.get("VESTIBULE_TEST_REDIS_URL", "") or FALLBACK_REDIS_URL
    probe = redis.from_url(url)
    try:
        await probe.ping()
    except (RedisDown, OSError):
        backend_missing("Redis", url)
    finally:
        await probe.aclose()
    return url


async def flush_test_redis() -> None:
    """Counters, leases and channels left in the test Redis database (VESTIBULE_TEST_REDIS_URL) by an earlier run
    or module."""
    url = os.environ.get("VESTIBULE_TEST_REDIS_URL", "")
    if url:
        import redis.asyncio as redis

        client = redis.from_url(url)
        await client.flushdb()
        await client.aclose()
