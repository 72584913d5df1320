"""Browser end-to-end helpers: a mail sink for a real SMTP server (aiosmtpd), screenshots, setup work
in a helper thread, and `Site`, the user-level steps shared by the browser tests (see conftest.py).

Playwright's sync API keeps its event loop marked as running in the main thread, so nothing may call
`asyncio.run` in the main thread while a browser is open: the `site` fixture starts the browser only
after the database and the live server are ready, and setup work that needs the database runs in a
helper thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pyotp
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from support import CHEAP_HASH, LiveServer
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services import accounts, iam_users
from vestibule.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SENDER = "no-reply@vestibule.test"
T = TypeVar("T")


# ---- SMTP ----------------------------------------------------------------------------------------

@dataclass
class ReceivedMail:
    to: list[str]
    sender: str
    subject: str
    body: str


class CollectingHandler:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        mail = ReceivedMail([str(r).lower() for r in envelope.rcpt_tos], str(envelope.mail_from),
                            str(parsed["Subject"] or ""), body)
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, controller: Controller, handler: CollectingHandler, port: int) -> None:
        self.controller, self.handler, self.port = controller, handler, port

    @property
    def messages(self) -> list[ReceivedMail]:
        return list(self.handler.messages)

    def wait_for(self, to: str, pattern: str, after: int = 0, timeout: float = 10.0) -> tuple[ReceivedMail, str]:
        """The first mail to `to` (among those numbered from `after`) whose body matches `pattern`;
        returns it with the first group of the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.handler._arrived:
            while True:
                for mail in self.handler.messages[after:]:
                    if to.lower() in mail.to:
                        match = regex.search(mail.body)
                        if match:
                            return mail, match.group(1)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no mail to {to} matching {pattern!r}; got {self.handler.messages!r}")
                self.handler._arrived.wait(remaining)

    def code_for(self, to: str, after: int = 0) -> str:
        return self.wait_for(to, r"\b(\d{6})\b", after)[1]


# ---- setup work in a helper thread ---------------------------------------------------------------

def run_async(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `work` against the test database with its own runtime, in a thread with its own event loop
    (the main thread's loop belongs to Playwright, the server's loop to the live server)."""

    async def main() -> T:
        runtime = await build(settings, run_migrations=False, hasher=PasswordHasher(CHEAP_HASH))
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=60)


# ---- screenshots ---------------------------------------------------------------------------------

def artifacts_dir(rootpath: Path) -> Path:
    base = Path(os.environ.get("VESTIBULE_TEST_ARTIFACTS", "test-artifacts"))
    if not base.is_absolute():
        base = rootpath / base
    return base / "screenshots"


class Screenshots:
    def __init__(self, directory: Path, test_name: str) -> None:
        self.directory = directory
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.count = 0
        self.saved: list[Path] = []
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob(f"{self.test_name}-*.png"):
            old.unlink()

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.directory / f"{self.test_name}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.saved.append(path)
        return path


# ---- the site as a user sees it ------------------------------------------------------------------

@dataclass
class Account:
    account_id: str
    email: str
    password: str
    alias: str | None = None

    @property
    def formatted_id(self) -> str:
        return f"{self.account_id[:4]}-{self.account_id[4:8]}-{self.account_id[8:]}"


@dataclass
class Site:
    live: LiveServer
    smtp: SmtpSink
    settings: Settings
    playwright: Playwright
    browser: Browser
    shot: Screenshots
    contexts: list[BrowserContext] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.live.url

    def new_browser(self, locale: str = "en-US") -> Page:
        """A fresh browser profile (own cookies), as if on another computer."""
        context = self.browser.new_context(base_url=self.live.url, locale=locale,
                                           viewport={"width": 1024, "height": 800})
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def path_of(self, page: Page) -> str:
        return page.url.removeprefix(self.live.url)

    # -- setup behind the scenes

    def create_account(self, email: str, password: str, alias: str | None = None, name: str | None = None) -> Account:
        async def work(rt: Runtime) -> str:
            async with rt.deps.store.unit() as uow:
                created = await accounts.create_account(rt.deps, uow, email=email, password=password,
                                                        alias=alias, name=name)
            return created.account_id

        return Account(run_async(self.settings, work), email, password, alias)

    def create_iam_user(self, account: Account, name: str, password: str, reset_required: bool) -> None:
        async def work(rt: Runtime) -> None:
            async with rt.deps.store.unit() as uow:
                acc = await accounts.require(uow, account.account_id)
                await iam_users.create_user(rt.deps, uow, acc, name, password=password,
                                            password_reset_required=reset_required)

        run_async(self.settings, work)

    # -- what a user does

    def solve_captcha_if_shown(self, page: Page) -> None:
        if page.locator("#captcha").count():
            page.fill("#captcha", self.live.captcha.latest)

    def start_root_sign_in(self, page: Page, email: str, password: str, step: str = "signin") -> None:
        """From `/`: Root user, email, Next, password, Sign in."""
        page.goto("/")
        page.check("input[name=user_type][value=root]")
        page.fill("input[name=email]", email)
        self.shot(page, f"{step}-start")
        page.get_by_role("button", name="Next").click()
        page.wait_for_url(re.compile(r"/signin\?flow="))
        assert page.locator("#signin-email").inner_text() == email
        page.fill("input[name=password]", password)
        self.solve_captcha_if_shown(page)
        self.shot(page, f"{step}-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    def sign_in_root_with_mailed_code(self, page: Page, account: Account, step: str = "signin") -> None:
        mails_before = len(self.smtp.messages)
        self.start_root_sign_in(page, account.email, account.password, step)
        assert page.locator("input[name=verification_code]").count() == 1, page.content()
        self.shot(page, f"{step}-verification-code")
        _, code = self.smtp.wait_for(account.email, r"verification code is: (\d{6})", after=mails_before)
        page.fill("input[name=verification_code]", code)
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(f"{self.url}/console")
        self.shot(page, f"{step}-console")

    def confirm_password_if_asked(self, page: Page, password: str, step: str) -> None:
        """Credential changes ask for the password again unless it was confirmed in the last minutes."""
        page.wait_for_load_state()
        if page.locator("#reauth-form").count():
            self.shot(page, f"{step}-confirm-password")
            page.fill("#reauth-form input[name=password]", password)
            page.click("#reauth-submit")
            page.wait_for_load_state()

    def add_virtual_mfa(self, page: Page, device_name: str, password: str, step: str = "mfa") -> tuple[str, int]:
        """From a signed-in console: Security credentials -> assign a virtual MFA device (the password confirmed
        again when asked). Returns the secret and the last TOTP step used (the server refuses codes of that step
        or older)."""
        page.goto("/console")
        page.click("#security-link")
        page.wait_for_url(f"{self.url}/console/security")
        self.shot(page, f"{step}-security")
        page.click("#add-mfa")
        self.confirm_password_if_asked(page, password, step)
        page.wait_for_url(re.compile(r"/console/mfa/new\?flow="))
        assert page.locator("#mfa-qr").is_visible()
        secret = page.locator("#mfa-secret").get_attribute("data-secret")
        assert secret and re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
        assert page.locator("#mfa-secret").inner_text().replace(" ", "") == secret
        self.shot(page, f"{step}-add-device")
        # Two consecutive codes, as an authenticator app shows them: the previous step and the current one.
        now = time.time()
        totp = pyotp.TOTP(secret)
        page.fill("#device_name", device_name)
        page.fill("#mfa_code", totp.at(now - 30))
        page.fill("#mfa_code_2", totp.at(now))
        page.get_by_role("button", name="Add MFA").click()
        page.wait_for_url(re.compile(r"/console/security\?notice=mfa\.added"))
        self.shot(page, f"{step}-device-listed")
        return secret, int(now // 30)

    def sign_out(self, page: Page) -> None:
        page.click("#sign-out")
        page.wait_for_url(re.compile(r"/\?signed_out=1$"))


def identity_center_admin(site: Site, owner: str, region: str = "us-east-1") -> tuple[str, Any, Any]:
    """A new account (owner-<owner>@example.com) and signed boto3 `sso-admin` and `identitystore` clients with its
    root user's new access key: (account ID, sso-admin, identitystore)."""
    import boto3  # only the Identity Center browser tests need it

    from vestibule.services import access_keys, accounts

    async def make(rt: Runtime) -> tuple[str, str, str]:
        async with rt.deps.store.unit() as uow:
            created = await accounts.create_account(rt.deps, uow, email=f"owner-{owner}@example.com",
                                                    password="Owner pass phrase 1", alias=None)
            key = await access_keys.create(rt.deps, uow, created.account_id, f"root:{created.account_id}")
        return created.account_id, key.access_key_id, key.secret_access_key

    account_id, key_id, secret = run_async(site.settings, make)
    kw = {"endpoint_url": site.url, "region_name": region, "aws_access_key_id": key_id,
          "aws_secret_access_key": secret}
    return account_id, boto3.client("sso-admin", **kw), boto3.client("identitystore", **kw)
