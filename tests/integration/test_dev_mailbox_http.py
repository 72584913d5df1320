"""The dev mailbox holds live codes and reset links: served only by a loopback-bound server whose public URL is a
loopback http:// URL, and only to requests whose Host is that URL's (not through a proxy or a rebound name)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from support import (
    CHEAP_HASH,
    CaptchaAnswers,
    DeliveringTransport,
    LiveServer,
    deliver_mail,
    free_port,
    last_code,
    start_live_server,
    stop_live_server,
)
from vestibule.app import create_app
from vestibule.core.outbox import MailKind
from vestibule.core.passwords import PasswordHasher
from vestibule.core.tokens import new_numeric_code
from vestibule.runtime import Runtime, build
from vestibule.services import outbox
from vestibule.services.mail import DevMailbox, Mail
from vestibule.settings import Settings

LOCAL = "http://127.0.0.1:8080"


@asynccontextmanager
async def _server(settings: Settings, public_url: str, mailbox: DevMailbox, *,
                  loopback: bool = True) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    rt = await build(settings.with_overrides(public_url=public_url), run_migrations=False, mailer=mailbox,
                     hasher=PasswordHasher(CHEAP_HASH))
    try:
        app = create_app(rt, captcha_text_source=CaptchaAnswers(), close_runtime=False, loopback=loopback)
        async with httpx.AsyncClient(transport=DeliveringTransport(app, rt), base_url=public_url) as client:
            yield rt, client
    finally:
        await rt.close()


async def _mail_a_code(rt: Runtime, client: httpx.AsyncClient, mailbox: DevMailbox) -> str:
    """A code queued as the sign-in does, then delivered to the dev mailbox."""
    code = new_numeric_code()
    async with rt.deps.store.unit() as uow:
        await outbox.enqueue(uow, rt.deps.outbox, Mail("owner@example.com", "Your code", f"Your code is: {code}\n"),
                             kind=MailKind.SIGNIN_CODE)
    await deliver_mail(rt)
    assert last_code(mailbox, "owner@example.com") == code
    return code


async def test_served_to_the_public_urls_own_host_only(settings: Settings, mailbox: DevMailbox) -> None:
    async with _server(settings, LOCAL, mailbox) as (rt, client):
        code = await _mail_a_code(rt, client, mailbox)
        page = await client.get("/_dev/mail")
        assert page.status_code == 200 and code in page.text
        for other in ("vestibule.example", "proxy.internal:8080", "localhost:8080", "127.0.0.1:8081", "127.0.0.1",
                      "attacker.example:8080"):
            refused = await client.get("/_dev/mail", headers={"host": other})
            assert refused.status_code == 404, other
            assert code not in refused.text


@pytest.mark.parametrize("public_url", ["https://127.0.0.1:8443", "https://vestibule.example",
                                        "http://vestibule.example"])
async def test_not_served_when_the_public_url_is_not_loopback_http(
        settings: Settings, mailbox: DevMailbox, public_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vestibule"):
        async with _server(settings, public_url, mailbox) as (rt, client):
            code = await _mail_a_code(rt, client, mailbox)
            page = await client.get("/_dev/mail")
            assert page.status_code == 404 and code not in page.text
    said = f"dev mailbox off: the public URL {public_url} is not a loopback http:// URL; mail is not delivered"
    assert any(m.startswith(said) for m in caplog.messages), caplog.messages


async def test_not_served_by_a_server_bound_to_other_addresses(settings: Settings, mailbox: DevMailbox,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vestibule"):
        async with _server(settings, LOCAL, mailbox, loopback=False) as (_, client):
            assert (await client.get("/_dev/mail")).status_code == 404
    assert any(m.startswith("dev mailbox off: the server listens on a non-loopback address") for m in caplog.messages)


async def test_start_up_says_it_is_on_and_for_which_host(settings: Settings, mailbox: DevMailbox,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vestibule"):
        async with _server(settings, LOCAL, mailbox):
            pass
    assert (f"dev mailbox on at {LOCAL}/_dev/mail (no SMTP configured, loopback server and public URL; "
            "only for requests with Host 127.0.0.1:8080)") in caplog.messages


@pytest.fixture
def dev_live_server(settings: Settings) -> Iterator[LiveServer]:
    live = start_live_server(settings, DevMailbox())
    yield live
    stop_live_server(live)


def test_live_server_checks_the_host_header(dev_live_server: LiveServer) -> None:
    """Over a real socket: a proxy in front forwards its own Host name; the page is not there for it."""
    with httpx.Client(base_url=dev_live_server.url) as http:
        assert http.get("/_dev/mail").status_code == 200
        assert http.get("/_dev/mail", headers={"host": "vestibule.example"}).status_code == 404
        assert http.get("/_dev/mail", headers={"host": "localhost"}).status_code == 404


def _serve(tmp_path: Path, public_url: str | None, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update({"VESTIBULE_DATA_DIR": str(tmp_path / "data"), "VESTIBULE_MASTER_KEY": "44" * 32,
                "VESTIBULE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
                "VESTIBULE_JANITOR_INTERVAL_SECONDS": "0"})
    if public_url:
        env["VESTIBULE_PUBLIC_URL"] = public_url
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "vestibule.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_health", timeout=1.0).status_code == 200:
                return process, log
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    pytest.fail(f"server did not start:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize("https", [False, True], ids=["loopback-http", "https-public-url"])
def test_vestibule_serve_says_at_start_up_whether_the_dev_mailbox_is_on(tmp_path: Path, https: bool) -> None:
    port = free_port()
    process, log = _serve(tmp_path, f"https://127.0.0.1:{port}" if https else None, port)
    try:
        page = httpx.get(f"http://127.0.0.1:{port}/_dev/mail")
    finally:
        process.terminate()
        process.wait(30)
    said = log.read_text()
    if https:
        assert page.status_code == 404
        assert f"dev mailbox off: the public URL https://127.0.0.1:{port} is not a loopback http:// URL" in said
        assert "/_dev/mail (" not in said
    else:
        assert page.status_code == 200
        assert f"dev mailbox on at http://127.0.0.1:{port}/_dev/mail (no SMTP configured" in said
