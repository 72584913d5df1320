"""Browser end-to-end fixtures: a real SMTP server (aiosmtpd), the live app sending mail through it,
and Debian's Chromium driven by Playwright's sync API (helpers in browser_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import sync_playwright

from e2e.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SENDER,
    CollectingHandler,
    Screenshots,
    Site,
    SmtpSink,
    artifacts_dir,
)
from support import LiveServer, free_port, start_live_server, stop_live_server
from vestibule.services.mail import SmtpMailer
from vestibule.settings import Settings


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink(controller, handler, port)
    finally:
        controller.stop()


@pytest.fixture
def public_host() -> str:
    """The live server's public host; a WebAuthn test overrides it with `localhost` (an RP ID is no IP address)."""
    return "127.0.0.1"


@pytest.fixture
def smtp_live_server(settings: Settings, smtp_sink: SmtpSink, public_host: str) -> Iterator[LiveServer]:
    """The real app under uvicorn, sending its mail over SMTP to `smtp_sink`."""
    live = start_live_server(settings, SmtpMailer("127.0.0.1", smtp_sink.port, SENDER), public_host=public_host)
    try:
        yield live
    finally:
        stop_live_server(live)


@pytest.fixture
def site(request: pytest.FixtureRequest, settings: Settings, smtp_live_server: LiveServer,
         smtp_sink: SmtpSink) -> Iterator[Site]:
    shots = Screenshots(artifacts_dir(request.config.rootpath), request.node.name)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        s = Site(smtp_live_server, smtp_sink, settings, pw, browser, shots)
        try:
            yield s
        finally:
            for context in s.contexts:
                context.close()
            browser.close()
