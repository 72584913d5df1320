"""Steps shared by the HTTP-level integration tests: accounts and users, extra browsers,
a clock the tests move, and the sign-in walks a user does through the pages."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from support import CaptchaAnswers, DeliveringTransport, csrf_of, last_code
from vestibule.app import create_app
from vestibule.core import passwords as rules
from vestibule.runtime import Runtime
from vestibule.services import accounts, iam_users
from vestibule.services.mail import DevMailbox

ROOT_EMAIL = "owner@example.com"
ROOT_PASSWORD = "root password 1"
USER_PASSWORD = "user password 1"
DEFAULT_IP = "203.0.113.7"

_ERROR = re.compile(r'<p class="error" role="alert" id="error">(.*?)</p>', re.DOTALL)
_NOTICE = re.compile(r'<p class="notice" role="status" id="notice">(.*?)</p>', re.DOTALL)


class Clock:
    """Stands in for `runtime.deps.clock`; tests move it forward."""

    def __init__(self, start: float | None = None) -> None:
        self.now = float(start if start is not None else time.time())

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def use_clock(runtime: Runtime, start: float | None = None) -> Clock:
    clock = Clock(start)
    runtime.deps.clock = clock
    return clock


def error_of(page: str) -> str:
    """The text of the page's error paragraph ('' when there is none)."""
    match = _ERROR.search(page)
    return html.unescape(match.group(1)) if match else ""


def notice_of(page: str) -> str:
    match = _NOTICE.search(page)
    return html.unescape(match.group(1)) if match else ""


def session_cookie_set(response: httpx.Response) -> bool:
    return any(h.startswith("vestibule_session=") and "Max-Age=0" not in h
               for h in response.headers.get_list("set-cookie"))


async def make_account(runtime: Runtime, email: str = ROOT_EMAIL, password: str = ROOT_PASSWORD,
                       alias: str | None = "acme") -> str:
    async with runtime.deps.store.unit() as uow:
        created = await accounts.create_account(runtime.deps, uow, email=email, password=password, alias=alias)
    return created.account_id


async def make_user(runtime: Runtime, account_ref: str, name: str, password: str | None = USER_PASSWORD,
                    reset_required: bool = False) -> str:
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, account_ref)
        user = await iam_users.create_user(runtime.deps, uow, account, name, password=password,
                                           password_reset_required=reset_required)
        return user.id


async def set_policy(runtime: Runtime, account_ref: str, **fields: Any) -> None:
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, account_ref)
        await accounts.set_password_policy(runtime.deps, uow, account, rules.PasswordPolicy(**fields))


@asynccontextmanager
async def browser(runtime: Runtime, captcha: CaptchaAnswers, ip: str = DEFAULT_IP) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (its own cookie jar) on the same server, optionally from another address."""
    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    transport = DeliveringTransport(app, runtime, client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False) as c:
        yield c


async def start_root(client: httpx.AsyncClient, email: str = ROOT_EMAIL) -> str:
    """Root user: choose root, enter the email; returns the flow URL of the password step."""
    page = await client.get("/?root=1")
    r = await client.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root", "email": email})
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith("/signin?flow=")
    return location


async def post_step(client: httpx.AsyncClient, flow_url: str, step: str, **fields: str) -> httpx.Response:
    page = await client.get(flow_url)
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": step, **fields})


async def root_password(client: httpx.AsyncClient, email: str = ROOT_EMAIL, password: str = ROOT_PASSWORD,
                        captcha: str | None = None) -> tuple[str, httpx.Response]:
    flow_url = await start_root(client, email)
    fields = {"password": password}
    if captcha is not None:
        fields["captcha"] = captcha
    return flow_url, await post_step(client, flow_url, "password", **fields)


async def sign_in_root(client: httpx.AsyncClient, mailbox: DevMailbox, email: str = ROOT_EMAIL,
                       password: str = ROOT_PASSWORD) -> httpx.Response:
    """The whole root sign-in, with the mailed code when asked; asserts it lands on /console."""
    flow_url, r = await root_password(client, email, password)
    assert r.status_code == 303, r.text
    if r.headers["location"] != "/console":
        assert r.headers["location"] == flow_url
        r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, email.lower()))
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text
    return r


async def iam_password(client: httpx.AsyncClient, account: str, username: str, password: str,
                       **extra: str) -> httpx.Response:
    page = await client.get(f"/{account}/console")
    return await client.post(f"/{account}/console", data={
        "csrf_token": csrf_of(page.text), "username": username, "password": password, **extra})


async def sign_in_iam(client: httpx.AsyncClient, account: str = "acme", username: str = "alice",
                      password: str = USER_PASSWORD) -> httpx.Response:
    r = await iam_password(client, account, username, password)
    assert r.status_code == 303 and r.headers["location"] == "/console", r.text
    return r


async def console_csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/console")
    assert page.status_code == 200, page.status_code
    return csrf_of(page.text)


async def sign_out(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/signout", data={"csrf_token": await console_csrf(client)})
