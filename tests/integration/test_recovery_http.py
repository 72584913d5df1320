"""Forgotten root password: CAPTCHA, a single-use mailed link from the public URL, newest link only,
every root session ended, a notification; IAM users are sent to their administrator."""

from __future__ import annotations

import re

import httpx

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    browser,
    error_of,
    make_account,
    root_password,
    sign_in_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")
NEW_PASSWORD = "fresh root password 2"
_LINK = re.compile(r"(https?://\S+/recovery/reset\?token=([A-Za-z0-9_-]+))")


async def _request(client: httpx.AsyncClient, captcha: CaptchaAnswers, email: str = ROOT_EMAIL,
                   headers: dict[str, str] | None = None, answer: str | None = None) -> httpx.Response:
    page = await client.get("/recovery", headers=headers)
    assert page.status_code == 200 and 'name="captcha"' in page.text
    return await client.post("/recovery", headers=headers, data={
        "csrf_token": csrf_of(page.text), "email": email,
        "captcha": captcha.latest if answer is None else answer})


def _links(mailbox: DevMailbox, to: str = ROOT_EMAIL) -> list[tuple[str, str]]:
    found = []
    for mail in mailbox.messages:
        if mail.to == to:
            found += _LINK.findall(mail.body)
    return found


async def _open(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Follow the mailed link: a usable one is exchanged for this browser's reset flow (303 to `?flow=`)."""
    return await client.get(f"/recovery/reset?token={token}")


async def _reset(client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD,
                 confirm: str | None = None) -> httpx.Response:
    opened = await _open(client, token)
    if opened.status_code != 303:
        return opened
    flow_url = opened.headers["location"]
    assert flow_url.startswith("/recovery/reset?flow=") and token not in flow_url
    page = await client.get(flow_url)
    return await client.post(flow_url, data={
        "csrf_token": csrf_of(page.text), "new_password": password,
        "confirm_password": password if confirm is None else confirm})


async def test_reset_link_uses_public_url_not_host_header(client: httpx.AsyncClient, runtime: Runtime,
                                                          captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    r = await _request(client, captcha, headers={"host": "attacker.example"})
    assert r.status_code == 200
    links = _links(mailbox)
    assert len(links) == 1
    url, _ = links[0]
    assert url.startswith(runtime.deps.settings.public_origin + "/recovery/reset?token=")
    assert "attacker.example" not in mailbox.messages[-1].body


async def test_request_needs_the_captcha(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers,
                                         mailbox: DevMailbox) -> None:
    await make_account(runtime)
    r = await _request(client, captcha, answer="")
    assert r.status_code == 400 and error_of(r.text) == t("captcha.invalid")
    r = await _request(client, captcha, answer="NOTIT1")
    assert r.status_code == 400
    assert mailbox.messages == []
    r = await _request(client, captcha)
    assert r.status_code == 200 and len(_links(mailbox)) == 1


async def test_unknown_email_gets_the_same_page_and_no_mail(client: httpx.AsyncClient, runtime: Runtime,
                                                            captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    known = await _request(client, captcha, ROOT_EMAIL)
    unknown = await _request(client, captcha, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert [m.to for m in mailbox.messages] == [ROOT_EMAIL]


async def test_link_works_once_and_ends_every_root_session(client: httpx.AsyncClient, runtime: Runtime,
                                                           captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.5") as signed_in:
        await sign_in_root(signed_in, mailbox)
        assert (await signed_in.get("/console")).status_code == 200

        await _request(client, captcha)
        url, token = _links(mailbox)[-1]
        opened = await client.get(url.replace(runtime.deps.settings.public_origin, ""))
        assert opened.status_code == 303
        page = await client.get(opened.headers["location"])
        assert page.status_code == 200 and 'name="new_password"' in page.text
        # opening the link twice changes nothing
        assert (await _open(client, token)).status_code == 303

        r = await _reset(client, token, NEW_PASSWORD, "something else 1")
        assert r.status_code == 400 and error_of(r.text) == t("password.mismatch")
        r = await _reset(client, token, "short")
        assert r.status_code == 400 and error_of(r.text) == t("password.too_short")
        assert (await signed_in.get("/console")).status_code == 200, "failed attempts end nothing"

        sent = len(mailbox.messages)
        r = await _reset(client, token)
        assert r.status_code == 200 and "recovery.done" not in r.text
        assert t("recovery.done") in r.text.replace("&#39;", "'")

        r = await signed_in.get("/console")
        assert r.status_code == 303 and r.headers["location"] == "/", "the old root session ended"
    notification = mailbox.messages[sent:]
    assert len(notification) == 1 and notification[0].to == ROOT_EMAIL
    assert "changed" in notification[0].subject.lower()
    assert token not in notification[0].body

    # the link works once
    assert (await _open(client, token)).status_code == 410
    r = await _reset(client, token, "yet another password")
    assert r.status_code == 410 and error_of(r.text).replace("&#39;", "'") == t("recovery.link_invalid")

    # the new password works, the old one does not
    _, r = await root_password(client, ROOT_EMAIL, ROOT_PASSWORD)
    assert r.status_code == 200 and error_of(r.text) == t("signin.invalid_credentials")
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.6") as fresh:
        await sign_in_root(fresh, mailbox, password=NEW_PASSWORD)


async def test_newer_link_invalidates_the_older(client: httpx.AsyncClient, runtime: Runtime,
                                                captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await _request(client, captcha)
    await _request(client, captcha)
    (_, older), (_, newer) = _links(mailbox)
    assert older != newer
    assert (await _open(client, older)).status_code == 410
    r = await _reset(client, older)
    assert r.status_code == 410
    r = await _reset(client, newer)
    assert r.status_code == 200


async def test_link_expires_after_an_hour(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers,
                                          mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await _request(client, captcha)
    _, token = _links(mailbox)[-1]
    clock.advance(3601)
    assert (await _open(client, token)).status_code == 410
    assert (await _reset(client, token)).status_code == 410


async def test_bogus_tokens_and_flows(client: httpx.AsyncClient) -> None:
    assert (await client.get("/recovery/reset")).status_code == 410
    assert (await client.get("/recovery/reset?token=nonsense")).status_code == 410
    assert (await client.get("/recovery/reset?flow=nonsense")).status_code == 410
    assert (await _reset(client, "nonsense")).status_code == 410
    assert (await _reset(client, "")).status_code == 410
    page = await client.get("/")
    r = await client.post("/recovery/reset?flow=nonsense", data={
        "csrf_token": csrf_of(page.text), "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert r.status_code == 410


async def test_iam_recovery_page_points_to_the_administrator(client: httpx.AsyncClient) -> None:
    page = await client.get("/recovery?type=iam&account=acme")
    assert page.status_code == 200
    text = page.text.replace("&#39;", "'")
    assert t("recovery.iam_text") in text
    assert "vestibule iam-user set-password --account acme" in text
    assert 'name="captcha"' not in page.text and 'name="email"' not in page.text
    signin = await client.get("/acme/console")
    assert "/recovery?type=iam&amp;account=acme" in signin.text


async def test_reset_mails_per_account_are_limited(client: httpx.AsyncClient, runtime: Runtime,
                                                    captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    """A flood of requests for one address (each with a solved CAPTCHA) mails at most 5 links an hour; the
    others get the same page, and the last link mailed keeps working."""
    from vestibule.services.recovery import LINKS_PER_HOUR

    clock = use_clock(runtime)
    await make_account(runtime)
    pages = [await _request(client, captcha) for _ in range(LINKS_PER_HOUR + 3)]
    assert {p.status_code for p in pages} == {200} and len({p.text for p in pages}) == 1
    links = _links(mailbox)
    assert len(links) == LINKS_PER_HOUR
    assert (await _open(client, links[-1][1])).status_code == 303, "the extra requests superseded nothing"
    clock.advance(3601)
    await _request(client, captcha)
    assert len(_links(mailbox)) == LINKS_PER_HOUR + 1, "an hour later links are mailed again"
