"""Two nodes (two runtimes and apps in this process) on one database, and one Redis when the pass has one: a
personal profile signed in through node A and, in another browser, through node B; "Delete all active sessions"
on A ends B's session at B's very next request (no node keeps a session alive from memory), and A's own.
(Starting two `vestibule serve` processes would add some 18 s a pass for the same check of shared state.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar

import httpx

from profile_steps import PROFILE_EMAIL, PROFILE_PASSWORD, make_profile
from support import CHEAP_HASH, CaptchaAnswers, DeliveringTransport, csrf_of
from vestibule.app import create_app
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings


@asynccontextmanager
async def _node(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await build(settings, run_migrations=False, mailer=DevMailbox(), hasher=PasswordHasher(CHEAP_HASH))
    try:
        yield runtime
    finally:
        await runtime.close()


def _browser(runtime: Runtime, jar: CookieJar) -> httpx.AsyncClient:
    app = create_app(runtime, captcha_text_source=CaptchaAnswers(), close_runtime=False)
    return httpx.AsyncClient(transport=DeliveringTransport(app, runtime), base_url="http://testserver",
                             follow_redirects=False, cookies=jar)


async def _sign_in(client: httpx.AsyncClient) -> None:
    start = await client.get("/profile")
    flow = await client.post("/profile", data={"csrf_token": csrf_of(start.text), "email": PROFILE_EMAIL})
    assert flow.status_code == 303, flow.text
    page = await client.get(flow.headers["location"])
    done = await client.post(flow.headers["location"], data={"csrf_token": csrf_of(page.text), "step": "password",
                                                             "password": PROFILE_PASSWORD})
    assert done.status_code == 303 and done.headers["location"].startswith("/profile/details"), done.text


async def test_delete_all_on_one_node_ends_the_sessions_on_the_other(settings: Settings) -> None:
    first, second = CookieJar(), CookieJar()
    async with _node(settings) as a, _node(settings) as b:
        await make_profile(a)
        async with _browser(a, first) as first_on_a, _browser(b, first) as first_on_b, \
                _browser(b, second) as second_on_b:
            await _sign_in(first_on_a)
            await _sign_in(second_on_b)
            assert (await first_on_b.get("/profile/security")).status_code == 200  # one session, either node
            assert (await second_on_b.get("/profile/security")).status_code == 200
            form = await first_on_a.get("/profile/security/sessions/delete-all")
            done = await first_on_a.post("/profile/security/sessions/delete-all",
                                         data={"csrf_token": csrf_of(form.text), "confirm_words": "delete all"})
            assert done.status_code == 303 and done.headers["location"] == "/profile?signed_out=1"
            ended = await second_on_b.get("/profile/security")
            assert ended.status_code == 303 and ended.headers["location"] == "/profile"
            assert (await first_on_b.get("/profile/security")).status_code == 303
