"""A personal profile's forgotten password over HTTP: the same answer for any address, the mailed link (one
hour, once, hashed, left for a page bound to the browser), the profile's password rules, every session ended,
the requests throttled."""

from __future__ import annotations

import re

import httpx

from http_steps import error_of, use_clock
from profile_steps import PROFILE_COOKIE, PROFILE_EMAIL, PROFILE_PASSWORD, make_profile, open_profile_session
from support import csrf_of
from vestibule.core.tokens import hash_token
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox, Mail

NEW_PASSWORD = "Brand-new 2 password!"
BROWSER_COOKIE = "vestibule_browser"
_LINK = re.compile(r"http://testserver(/profile/recover/reset\?token=[A-Za-z0-9_-]+)")


def _mails(mailbox: DevMailbox, to: str) -> list[Mail]:
    return [m for m in mailbox.messages if m.to == to]


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/profile/recover")
    assert page.status_code == 200 and 'for="email"' in page.text
    return await client.post("/profile/recover", data={"csrf_token": csrf_of(page.text), "email": email})


async def _link(client: httpx.AsyncClient, mailbox: DevMailbox) -> str:
    sent = await _ask(client, PROFILE_EMAIL)
    assert sent.status_code == 200
    found = _LINK.search(_mails(mailbox, PROFILE_EMAIL)[-1].body)
    assert found is not None
    return found.group(1)


async def _set(client: httpx.AsyncClient, link: str, password: str = NEW_PASSWORD) -> httpx.Response:
    opened = await client.get(link)
    assert opened.status_code == 303, opened.text
    page_url = opened.headers["location"]
    assert page_url.startswith("/profile/recover/reset?flow=") and "token" not in page_url
    page = await client.get(page_url)
    assert page.status_code == 200 and PROFILE_EMAIL in page.text
    return await client.post(page_url, data={"csrf_token": csrf_of(page.text), "new_password": password,
                                             "confirm_password": password})


async def test_the_answer_is_the_same_for_any_address(client: httpx.AsyncClient, runtime: Runtime,
                                                      mailbox: DevMailbox) -> None:
    await make_profile(runtime)
    known, unknown = await _ask(client, PROFILE_EMAIL), await _ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text and "If a personal profile exists" in known.text
    assert len(_mails(mailbox, PROFILE_EMAIL)) == 1 and _mails(mailbox, "nobody@example.com") == []
    async with runtime.deps.store.unit() as uow:
        counts = await uow.outbox.counts()
    assert counts.get("dropped") == 1  # the unknown address did the same work, its mail born dropped
    mail = _mails(mailbox, PROFILE_EMAIL)[0]
    token = _LINK.search(mail.body)
    assert token is not None and "one hour" not in mail.body and "60 minutes" in mail.body
    async with runtime.deps.store.unit() as uow:  # the token is stored nowhere, only its hash names the link
        assert await uow.flows.get(hash_token(token.group(1).rpartition("=")[2])) is not None
    bad = await _ask(client, "not an address")
    assert bad.status_code == 400 and error_of(bad.text)


async def test_the_link_sets_a_new_password_once_and_ends_every_session(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    profile_id = await make_profile(runtime)
    old_session = await open_profile_session(runtime, client, profile_id)
    link = await _link(client, mailbox)
    weak = await _set(client, link, "password")
    assert weak.status_code == 400 and error_of(weak.text)
    same = await _set(client, link, PROFILE_PASSWORD)  # the current one (history): refused, link still good
    assert same.status_code == 400
    done = await _set(client, link)
    assert done.status_code == 200 and 'id="reset-done"' in done.text
    client.cookies.set(PROFILE_COOKIE, old_session)
    assert (await client.get("/profile/details")).status_code == 303  # signed out everywhere
    again = await client.get(link)
    assert again.status_code == 410 and "used already" in error_of(again.text)
    notice = _mails(mailbox, PROFILE_EMAIL)[-1]
    assert "was reset" in notice.subject and "1 session(s)" in notice.body
    async with runtime.deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
        events = [(e.event, e.result) for e in await uow.audit.of_principal(f"profile/{profile_id}")]
    assert profile is not None and runtime.deps.hasher.verify(profile.password_hash, NEW_PASSWORD)
    assert ("ProfilePasswordRecovered", "Success") in events
    # the new password signs in; the old one does not
    start = await client.get("/profile")
    flow = await client.post("/profile", data={"csrf_token": csrf_of(start.text), "email": PROFILE_EMAIL})
    page = await client.get(flow.headers["location"])
    old = await client.post(flow.headers["location"], data={"csrf_token": csrf_of(page.text), "step": "password",
                                                            "password": PROFILE_PASSWORD})
    assert old.status_code == 400
    new = await client.post(flow.headers["location"], data={"csrf_token": csrf_of(page.text), "step": "password",
                                                            "password": NEW_PASSWORD})
    assert new.status_code == 303


async def test_expired_older_and_other_browser_links_do_not_work(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_profile(runtime)
    stale = await _link(client, mailbox)
    clock.advance(3601)
    assert (await client.get(stale)).status_code == 410  # past its hour
    first, second = await _link(client, mailbox), await _link(client, mailbox)
    opened = await client.get(first)
    page_url = opened.headers["location"]
    mine = client.cookies.get(BROWSER_COOKIE)
    assert mine
    client.cookies.set(BROWSER_COOKIE, "someone else")  # another browser (it gets an ID of its own)
    other_browser = await client.get(page_url)
    assert other_browser.status_code == 400 and 'id="reset-submit"' not in other_browser.text
    client.cookies.set(BROWSER_COOKIE, mine)
    assert (await _set(client, second)).status_code == 200
    # the first link was mailed before the password changed: it no longer works, nor its open page
    assert (await client.get(first)).status_code == 410
    assert (await client.get(page_url)).status_code == 410
    # a link mailed to an address the profile no longer has: dead too
    last = await _link(client, mailbox)
    async with runtime.deps.store.unit() as uow:
        profile = await uow.profiles.by_email(PROFILE_EMAIL)
        assert profile is not None
        profile.email = "moved@example.com"
        await uow.profiles.save(profile)
    assert (await client.get(last)).status_code == 410


async def test_requests_are_throttled_alike_for_known_and_unknown_addresses(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_profile(runtime)
    for email in (PROFILE_EMAIL, "nobody@example.com"):
        answers = [(await _ask(client, email)).status_code for _ in range(6)]
        assert answers[:5] == [200] * 5 and answers[5] == 429, (email, answers)
    assert len(_mails(mailbox, PROFILE_EMAIL)) == 5


async def test_troubleshooting_pages_in_both_languages(client: httpx.AsyncClient) -> None:
    from vestibule.web.profile.help import TOPICS

    index = await client.get("/profile/help")
    assert index.status_code == 200 and len(TOPICS) == 13
    for topic in TOPICS:
        assert f'href="/profile/help/{topic.slug}"' in index.text
        page = await client.get(f"/profile/help/{topic.slug}")
        assert page.status_code == 200 and 'id="help-text"' in page.text and 'href="/profile/help"' in page.text
    assert (await client.get("/profile/help/no-such-topic")).status_code == 404
    used = await client.get("/profile/help/email-in-use")
    assert 'href="/profile"' in used.text and 'href="/profile/recover"' in used.text
    zh = await client.get("/profile/help/authenticator-unexpected-error?lang=zh-TW")
    assert "驗證器應用程式" in zh.text and "TOTP" in zh.text
    recover = await client.get("/profile/recover?lang=zh-TW")
    assert "重設您的個人設定檔密碼" in recover.text
