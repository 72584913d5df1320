"""Steps shared by the personal profile's tests: a profile made directly in the store, and a browser signed in
to it (the profile cookie of a session made by the one completion, as the sign-in pages make it)."""

from __future__ import annotations

import httpx

from support import CaptchaAnswers, csrf_of, last_code
from vestibule.core import totp
from vestibule.runtime import Runtime
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox
from vestibule.services.mfa import seal_secret
from vestibule.services.principals import profile_principal
from vestibule.services.profiles.accounts import new_profile_id, stored_email
from vestibule.services.signin.completion import complete_sign_in
from vestibule.store.models import MfaDevice, Profile

PROFILE_EMAIL = "maker@example.com"
PROFILE_NAME = "Mei Maker"
PROFILE_PASSWORD = "Quiet-Harbor-42"  # meets PROFILE_POLICY
PROFILE_COOKIE = "vestibule_profile"


async def make_profile(runtime: Runtime, email: str = PROFILE_EMAIL, name: str = PROFILE_NAME,
                       password: str = PROFILE_PASSWORD) -> str:
    """A profile with this email, name and password; its ID."""
    deps = runtime.deps
    now = deps.clock()
    profile = Profile(id=new_profile_id(), email=stored_email(email), name=name, nickname=None,
                      password_hash=deps.hasher.hash(password), password_changed_at=now, created_at=now)
    async with deps.store.unit() as uow:
        await uow.profiles.add(profile)
    return profile.id


async def open_profile_session(runtime: Runtime, client: httpx.AsyncClient, profile_id: str,
                               user_agent: str = "") -> str:
    """Sign `client` in to the profile without the pages (for tests of the signed-in pages); the session token."""
    async with runtime.deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
    assert profile is not None
    done = await complete_sign_in(runtime.deps.session_ports, principal=profile_principal(profile),
                                  client=Client(ip="203.0.113.7", user_agent=user_agent), method="password",
                                  mfa_used=False)
    client.cookies.set(PROFILE_COOKIE, done.session.token)
    return done.session.token


async def step(client: httpx.AsyncClient, flow_url: str, step_name: str, **fields: str) -> httpx.Response:
    """Post one step of a profile flow page (its CSRF token read from the page)."""
    page = await client.get(flow_url)
    if 'name="csrf_token"' not in page.text:  # the flow is gone: the browser's token from the start page
        page = await client.get("/profile")
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": step_name, **fields})


async def step_with_captcha(client: httpx.AsyncClient, captcha: CaptchaAnswers, flow_url: str, step_name: str,
                            **fields: str) -> httpx.Response:
    """`step` answering the CAPTCHA the page just showed."""
    page = await client.get(flow_url)
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": step_name,
                                             "captcha": captcha.latest, **fields})


async def start_signup(client: httpx.AsyncClient, email: str = PROFILE_EMAIL) -> str:
    """The sign-up's email page; the flow URL of its next step."""
    page = await client.get("/profile/signup")
    r = await client.post("/profile/signup", data={"csrf_token": csrf_of(page.text), "email": email})
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    assert location.startswith("/profile/signup/flow?flow=")
    return location


async def sign_up_profile(client: httpx.AsyncClient, mailbox: DevMailbox, email: str = PROFILE_EMAIL,
                          name: str = PROFILE_NAME, password: str = PROFILE_PASSWORD,
                          captcha: CaptchaAnswers | None = None) -> httpx.Response:
    """The whole sign-up through the pages, the code read from the mail; asserts it lands on My details."""
    flow_url = await start_signup(client, email)
    r = await (step(client, flow_url, "name", name=name) if captcha is None
               else step_with_captcha(client, captcha, flow_url, "name", name=name))
    assert r.status_code == 303, r.text
    r = await step(client, flow_url, "verify", verification_code=last_code(mailbox, email.lower()))
    assert r.status_code == 303, r.text
    r = await step(client, flow_url, "password", password=password, confirm_password=password)
    assert r.status_code == 303 and r.headers["location"] == "/profile/details?notice=welcome", r.text
    return r


async def start_signin(client: httpx.AsyncClient, email: str = PROFILE_EMAIL) -> str:
    """The sign-in's email page; the flow URL of the password step."""
    page = await client.get("/profile")
    r = await client.post("/profile", data={"csrf_token": csrf_of(page.text), "email": email})
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    assert location.startswith("/profile/signin?flow=")
    return location


async def profile_password(client: httpx.AsyncClient, email: str = PROFILE_EMAIL, password: str = PROFILE_PASSWORD,
                           **extra: str) -> tuple[str, httpx.Response]:
    """Email, then the password (with `extra` fields: trusted_device, captcha); the flow URL and the answer."""
    flow_url = await start_signin(client, email)
    return flow_url, await step(client, flow_url, "password", password=password, **extra)


async def add_profile_totp(runtime: Runtime, profile_id: str, name: str = "phone") -> str:
    """An enabled virtual MFA device of the profile (no account: `account_id` NULL); its secret."""
    deps = runtime.deps
    secret, now = totp.new_secret(), deps.clock()
    serial = f"profile:{profile_id}:mfa/{name}"
    async with deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=None, principal_key=f"profile:{profile_id}", name=name, serial=serial,
                                    secret_sealed=seal_secret(deps, serial, secret), enabled_at=now, created_at=now))
    return secret


def totp_now(runtime: Runtime, secret: str, steps_ahead: int = 0) -> str:
    return totp.code_at(secret, totp.step_of(runtime.deps.clock()) + steps_ahead)


async def profile_sign_out(client: httpx.AsyncClient) -> httpx.Response:
    """Sign out from My details (the top right's form)."""
    page = await client.get("/profile/details")
    return await client.post("/profile/signout", data={"csrf_token": csrf_of(page.text)})
