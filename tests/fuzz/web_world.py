"""The site the web fuzz suite posts to: the app in process (each browser its own cookie jar, mail delivered
after every request), a clock the suite moves, and accounts and users in every state a form can be reached in:
a root user without MFA (emailed code), a root user and an IAM user with an MFA device, an IAM user who must
change the password, a plain IAM user, and an account for password recovery."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pyotp

from fuzz import tally
from fuzz.forms import Form, encode_form, forms_of, good_fill
from http_steps import Clock, browser, make_account, make_user, sign_in_root, use_clock
from support import CHEAP_HASH, CaptchaAnswers, last_code
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services import accounts, iam_users
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings

FORM = "application/x-www-form-urlencoded"
PASSWORD = "web fuzz password 1"
NEW_PASSWORD = "web fuzz password 2"
_SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')
_LINK = re.compile(r"https?://testserver(/\S+)")
T = TypeVar("T")


def check(response: httpx.Response) -> None:
    """The property: no server error and no stack trace, whatever was posted."""
    request = response.request
    tally.request("web forms", response.status_code,
                  f"{request.method} {request.url.path} {response.status_code}" if request.method == "POST" else "",
                  f"{request.method} {request.url} {request.content[:300].decode('latin-1')}")
    assert response.status_code < 500, (response.request.method, str(response.request.url), response.text[:2000])
    assert "Traceback" not in response.text and 'File "/' not in response.text, response.text[:2000]


def _local(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@dataclass
class Person:
    """Who signs in: `account` is what the IAM sign-in page takes (alias), `email` for root users."""

    account_id: str
    alias: str
    email: str = ""
    user: str = ""
    password: str = PASSWORD
    totp: pyotp.TOTP | None = None


@dataclass
class Site:
    runtime: Runtime
    mailbox: DevMailbox
    captcha: CaptchaAnswers
    clock: Clock
    runner: asyncio.Runner
    tag: str
    people: dict[str, Person] = field(default_factory=dict)
    _ip: int = 0
    _kept: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def signed_in(self, who: str) -> httpx.AsyncClient:
        """A browser kept signed in as `who` across cases (signed in again when a case ended the session)."""
        client = self._kept.get(who)
        if client is None:
            client = self._kept[who] = await self._stack.enter_async_context(self.browser())
        home = await client.get("/console")
        check(home)
        if home.status_code != 200:
            self.clock.advance(2 * 3600)  # failures the cases made (wrong passwords) age out first
            await self.sign_in(client, self.people[who])
        return client

    @classmethod
    async def open(cls, settings: Settings, runner: asyncio.Runner, tag: str) -> Site:
        mailbox = DevMailbox()
        runtime = await build(settings, run_migrations=False, mailer=mailbox, hasher=PasswordHasher(CHEAP_HASH))
        site = cls(runtime, mailbox, CaptchaAnswers(), use_clock(runtime), runner, tag)
        await site.populate()
        return site

    async def close(self) -> None:
        await self._stack.aclose()
        await self.runtime.close()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the module's event loop (where the runtime's engine and connections live)."""
        return self.runner.run(work)

    @asynccontextmanager
    async def browser(self) -> AsyncIterator[httpx.AsyncClient]:
        """A new browser from a new address (sign-in failures count per address too)."""
        self._ip += 1
        async with browser(self.runtime, self.captcha, ip=f"198.18.{self._ip // 250}.{self._ip % 250 + 1}") as c:
            yield c

    async def page(self, client: httpx.AsyncClient, path: str) -> tuple[str, list[Form]]:
        """GET `path` (following local redirects); the final path and its forms."""
        for _ in range(4):
            response = await client.get(path)
            check(response)
            location = response.headers.get("location", "")
            if response.status_code in (301, 302, 303, 307) and _local(location):
                path = location
                continue
            return path, forms_of(response.text, path)
        return path, []

    async def post(self, client: httpx.AsyncClient, form: Form, pairs: Sequence[tuple[str, bytes]]) -> httpx.Response:
        """POST the pairs to the form's action; also GET a local redirect target, as a browser would."""
        response = await client.post(form.action, content=encode_form(pairs), headers={"Content-Type": FORM})
        check(response)
        location = response.headers.get("location", "")
        if response.status_code in (301, 302, 303) and _local(location):
            check(await client.get(location))
        return response

    def good(self, person: Person | None = None) -> dict[str, list[str]]:
        """Correct values for the fields a person fills, by field name."""
        good: dict[str, list[str]] = {"user_type": ["root", "iam"], "device_name": ["fuzz-phone"],
                                      "account_name": ["Fuzz Co"], "remember": ["on"],
                                      "new_password": [NEW_PASSWORD], "confirm_password": [NEW_PASSWORD]}
        if self.captcha.issued:
            good["captcha"] = [self.captcha.latest]
        if person is not None:
            good.update(email=[person.email] if person.email else [], account=[person.alias, person.account_id],
                        username=[person.user] if person.user else [], password=[person.password])
            if person.email:
                with suppress(AssertionError):  # no code mailed yet
                    good["verification_code"] = [last_code(self.mailbox, person.email)]
            if person.totp is not None:
                good["mfa_code"] = [person.totp.at(self.clock.now)]
        return good

    def mailed_link(self, to: str) -> str | None:
        for mail in reversed(self.mailbox.messages):
            if mail.to == to:
                found = _LINK.search(mail.body)
                if found:
                    return found.group(1)
        return None

    # ---- set-up -------------------------------------------------------------------------------------------

    async def populate(self) -> None:
        tag = self.tag
        for key in ("root", "root-mfa", "recovery"):
            email = f"{key}-{tag}@example.com"
            alias = f"fw-{key}-{tag}"
            account_id = await make_account(self.runtime, email, PASSWORD, alias)
            self.people[key] = Person(account_id, alias, email=email)
        iam_account = self.people["root"]
        for user in ("alice", "bob", "carol"):
            await make_user(self.runtime, iam_account.alias, user, PASSWORD, reset_required=user == "bob")
            self.people[user] = Person(iam_account.account_id, iam_account.alias, user=user)
        self.people["root-mfa"].totp = await self._enrol_mfa(self.people["root-mfa"])
        self.people["alice"].totp = await self._enrol_mfa(self.people["alice"])

    async def sign_in(self, client: httpx.AsyncClient, person: Person) -> None:
        """The whole sign-in, through the forms; asserts it lands on the console."""
        if person.email:
            assert person.totp is None, "sign_in walks root users without MFA"
            await sign_in_root(client, self.mailbox, person.email, person.password)
            return
        _, forms = await self.page(client, f"/{person.alias}/console")
        response = await self.post(client, forms[0], good_fill(forms[0], self.good(person)))
        while response.headers.get("location", "") not in ("/console", ""):
            path, forms = await self.page(client, response.headers["location"])
            assert forms, f"the sign-in stopped at {path}"
            response = await client.post(forms[0].action, content=encode_form(good_fill(forms[0], self.good(person))),
                                          headers={"Content-Type": FORM})
            check(response)
        assert response.headers.get("location") == "/console", response.text[:1000]

    async def _enrol_mfa(self, person: Person) -> pyotp.TOTP:
        """Add a virtual MFA device through the security page, as its owner does."""
        async with self.browser() as client:
            if person.email:
                await sign_in_root(client, self.mailbox, person.email, person.password)
            else:
                await self.sign_in(client, person)
            opened = await self.enrolment_page(client, person)
            assert opened is not None, "the enrolment page could not be opened"
            path, page = opened
            forms = forms_of(page, path)
            secret = _SECRET.search(page)
            assert secret, "the enrolment page shows no secret"
            totp = pyotp.TOTP(secret.group(1))
            enrol = next(f for f in forms if f.field("mfa_code") is not None)
            first = totp.at(self.clock.now)
            self.clock.advance(30)
            good = {**self.good(person), "mfa_code": [first], "mfa_code_2": [totp.at(self.clock.now)]}
            done = await client.post(enrol.action, content=encode_form(good_fill(enrol, good)),
                                     headers={"Content-Type": FORM})
            assert done.status_code == 303, re.findall(r"role=\"alert\"[^>]*>([^<]*)", done.text)
        self.clock.advance(60)
        return totp

    async def enrolment_page(self, client: httpx.AsyncClient, person: Person) -> tuple[str, str] | None:
        """Start adding an MFA device on the security page and answer what it asks (the password again, when
        the sign-in is not recent) until the page shows the new device's secret: (path, HTML); None when the
        page asks for something else (a CAPTCHA after the wrong passwords of earlier cases)."""
        _, forms = await self.page(client, "/console/security")
        start = next(f for f in forms if f.action.startswith("/console/mfa/new"))
        response = await client.post(start.action, content=encode_form(good_fill(start, self.good(person))),
                                     headers={"Content-Type": FORM})
        check(response)
        path = start.action
        for _ in range(4):
            location = response.headers.get("location", "")
            if response.status_code in (301, 302, 303) and _local(location):
                path = location
                response = await client.get(location)
                check(response)
                continue
            if _SECRET.search(response.text):
                return path, response.text
            form = next((f for f in forms_of(response.text, path) if f.field("password")), None)
            if form is None:
                return None
            path = form.action
            response = await client.post(form.action, content=encode_form(good_fill(form, self.good(person))),
                                         headers={"Content-Type": FORM})
            check(response)
        return None

    async def reset_bob(self) -> None:
        """Bob must change his password at the next sign-in (whatever a case did to it)."""
        async with self.runtime.deps.store.unit() as uow:
            account = await accounts.require(uow, self.people["bob"].alias)
            user = await iam_users.require_user(uow, account, "bob")
            await iam_users.set_password(self.runtime.deps, uow, account, user, PASSWORD, True)

