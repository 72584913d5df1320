"""Changing the root email over HTTP: re-authentication first, a code mailed to the new address, the change,
the old address's notice with an undo link (7 days, once, in the browser that opened it) that restores it and
ends the root user's sessions; an address that cannot be used looks the same on the page; throttled codes and
resends; IAM users refused; every step audited."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    browser,
    error_of,
    make_account,
    make_user,
    notice_of,
    root_password,
    sign_in_iam,
    sign_in_root,
    use_clock,
)
from support import CaptchaAnswers, csrf_of, last_code
from vestibule.errors import AlreadyExists
from vestibule.runtime import Runtime
from vestibule.services import accounts
from vestibule.services.mail import DevMailbox

NEW_EMAIL = "new-owner@example.com"
_UNDO = re.compile(r"(http://testserver/email/undo\?token=[A-Za-z0-9_-]+)")


async def _contacts_csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/console/contacts")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def _ask(client: httpx.AsyncClient, email: str, password: str | None = ROOT_PASSWORD) -> httpx.Response:
    """Post the new address (with the password when given: the re-authentication prompt's second post)."""
    data = {"csrf_token": await _contacts_csrf(client), "email": email}
    if password is not None:
        data["password"] = password
    return await client.post("/console/email", data=data)


async def _verify(client: httpx.AsyncClient, flow_url: str, **fields: str) -> httpx.Response:
    page = await client.get(flow_url)
    assert page.status_code == 200, page.text
    return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), **fields})


async def _change(client: httpx.AsyncClient, mailbox: DevMailbox, new: str) -> str:
    """The whole change to `new`; returns the undo link mailed to the old address."""
    before = len(mailbox.messages)
    r = await _ask(client, new)
    assert r.status_code == 303, r.text
    flow_url = r.headers["location"]
    r = await _verify(client, flow_url, step="code", verification_code=last_code(mailbox, new))
    assert r.status_code == 303 and r.headers["location"] == "/console/contacts?notice=email_changed", r.text
    notices = [m for m in mailbox.messages[before:] if _UNDO.search(m.body)]
    assert len(notices) == 1
    match = _UNDO.search(notices[0].body)
    assert match
    return match.group(1)


async def _events(runtime: Runtime, account_id: str, name: str) -> list[tuple[str, dict[str, object]]]:
    async with runtime.deps.store.unit() as uow:
        rows = await uow.audit.for_account(account_id)
    return [(r.result, dict(r.detail or {})) for r in rows if r.event == name]


async def _root_email(runtime: Runtime, account_id: str) -> str:
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
    assert account is not None
    return account.root_email


async def test_change_with_the_mailed_code_then_sign_in_with_the_new_address(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    page = await client.get("/console/security")
    assert 'id="contacts-link"' in page.text
    page = await client.get("/console/contacts")
    assert ROOT_EMAIL in page.text and 'id="root-email-form"' in page.text

    # the password first (the re-authentication prompt keeps the address)
    r = await _ask(client, NEW_EMAIL, password=None)
    assert r.status_code == 403 and 'id="reauth-form"' in r.text and f'value="{NEW_EMAIL}"' in r.text
    r = await _ask(client, NEW_EMAIL, password="not the password")
    assert r.status_code == 400 and 'id="reauth-form"' in r.text
    assert not [m for m in mailbox.messages if m.to == NEW_EMAIL]
    r = await _ask(client, NEW_EMAIL)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/email/verify?flow=")
    flow_url = r.headers["location"]
    page = await client.get(flow_url)
    assert NEW_EMAIL in page.text and 'id="resend-wait"' in page.text
    code = last_code(mailbox, NEW_EMAIL)

    wrong = "000000" if code != "000000" else "111111"
    r = await _verify(client, flow_url, step="code", verification_code=wrong)
    assert r.status_code == 400 and error_of(r.text)
    assert await _root_email(runtime, account_id) == ROOT_EMAIL
    r = await _verify(client, flow_url, step="code", verification_code=code)
    assert r.status_code == 303 and r.headers["location"] == "/console/contacts?notice=email_changed"
    page = await client.get(r.headers["location"])
    assert "root email was changed" in notice_of(page.text)
    assert f'id="current-root-email">{NEW_EMAIL}<' in page.text
    assert await _root_email(runtime, account_id) == NEW_EMAIL
    # the flow is done: the code cannot be used again
    assert (await client.get(flow_url)).status_code == 410

    notice = [m for m in mailbox.messages if m.to == ROOT_EMAIL and _UNDO.search(m.body)]
    assert len(notice) == 1 and "n******@example.com" in notice[0].body and NEW_EMAIL not in notice[0].body
    results = [(e, res) for e in ("RootEmailChangeRequested", "RootEmailChanged")
               for res, _ in await _events(runtime, account_id, e)]
    assert ("RootEmailChangeRequested", "Success") in results and ("RootEmailChanged", "Failure") in results
    changed = [d for res, d in await _events(runtime, account_id, "RootEmailChanged") if res == "Success"]
    assert changed == [{"old_email": ROOT_EMAIL, "new_email": NEW_EMAIL}]

    async with browser(runtime, captcha, ip="198.51.100.9") as other:
        _, r = await root_password(other, ROOT_EMAIL)
        assert r.status_code == 200 and error_of(r.text)  # the old address signs in no one
        await sign_in_root(other, mailbox, email=NEW_EMAIL)


async def test_undo_link_restores_the_old_address_and_ends_root_sessions(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    link = await _change(client, mailbox, NEW_EMAIL)
    # kept for the undo: no new account may take the old address meanwhile
    async with runtime.deps.store.unit() as uow:
        with pytest.raises(AlreadyExists):
            await accounts.create_account(runtime.deps, uow, email=ROOT_EMAIL, password="another password 1")

    async with browser(runtime, captcha, ip="198.51.100.20") as owner:
        r = await owner.get(link)
        assert r.status_code == 303 and r.headers["location"].startswith("/email/undo?flow=")
        flow_url = r.headers["location"]
        page = await owner.get(flow_url)
        assert page.status_code == 200 and ROOT_EMAIL in page.text and NEW_EMAIL not in page.text
        assert await _root_email(runtime, account_id) == NEW_EMAIL  # opening the link changes nothing

        # the flow belongs to the browser that opened the link
        async with browser(runtime, captcha, ip="198.51.100.21") as stranger:
            start = await stranger.get("/")
            r = await stranger.post(flow_url, data={"csrf_token": csrf_of(start.text)})
            assert r.status_code == 400
        assert await _root_email(runtime, account_id) == NEW_EMAIL

        r = await owner.post(flow_url, data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
        assert r.status_code == 200 and 'id="undo-done"' in r.text
        assert await _root_email(runtime, account_id) == ROOT_EMAIL
        # used once
        r = await owner.get(link)
        assert r.status_code == 410

    assert (await client.get("/console")).status_code == 303  # the root user's session was ended
    restored = [m for m in mailbox.messages if m.to == ROOT_EMAIL and "restored" in m.subject]
    assert len(restored) == 1 and "/recovery" in restored[0].body
    [(result, detail)] = await _events(runtime, account_id, "RootEmailChangeUndone")
    assert result == "Success" and detail["restored"] == ROOT_EMAIL and detail["removed"] == NEW_EMAIL
    assert detail["sessions_ended"] == 1
    await sign_in_root(client, mailbox, email=ROOT_EMAIL)


async def _known_browsers(runtime: Runtime, account_id: str) -> int:
    from sqlalchemy import func, select

    from vestibule.store.models import KnownBrowser
    async with runtime.deps.store.unit() as uow:
        query = select(func.count()).select_from(KnownBrowser).where(KnownBrowser.principal_key == f"root:{account_id}")
        return int((await uow.browsers.db.execute(query)).scalar_one())


async def test_the_old_mailbox_alone_cannot_undo_and_the_removed_address_is_told(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    """Whoever holds the old mailbox needs the root password as well (else: undo, then reset the password via
    the restored address); the removed address gets a notice; the root user's known browsers are forgotten;
    opening the link again and again in one browser reuses one flow."""
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    link = await _change(client, mailbox, NEW_EMAIL)
    assert await _known_browsers(runtime, account_id) >= 1
    async with browser(runtime, captcha, ip="198.51.100.40") as holder:
        urls = {(await holder.get(link)).headers["location"] for _ in range(5)}
        assert len(urls) == 1, "one flow per link and browser"
        [flow_url] = urls
        page = await holder.get(flow_url)
        assert page.status_code == 200 and 'id="password"' in page.text
        for data in ({}, {"password": "not the root password"}):
            r = await holder.post(flow_url, data={"csrf_token": csrf_of(page.text), **data})
            assert r.status_code == 400 and 'id="undo-form"' in r.text, r.text
            assert await _root_email(runtime, account_id) == NEW_EMAIL
        failures = [d for result, d in await _events(runtime, account_id, "RootEmailChangeUndone")
                    if result == "Failure"]
        assert len(failures) == 2
        assert not [m for m in mailbox.messages if m.to == NEW_EMAIL and "no longer" in m.subject]
        r = await holder.post(flow_url, data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
        assert r.status_code == 200 and 'id="undo-done"' in r.text
    assert await _root_email(runtime, account_id) == ROOT_EMAIL
    [removed] = [m for m in mailbox.messages if m.to == NEW_EMAIL and "no longer" in m.subject]
    assert "undone" in removed.body and "sign in" in removed.body.lower() and "set-email" in removed.body
    assert await _known_browsers(runtime, account_id) == 0
    [(_, detail)] = [e for e in await _events(runtime, account_id, "RootEmailChangeUndone") if e[0] == "Success"]
    assert int(str(detail["browsers_forgotten"])) >= 1


async def test_undo_of_the_first_change_outlives_later_changes(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    """A -> B -> C: B's link (mailed to B) can undo only to B; A's link still gives A back and ends B's link."""
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    first = await _change(client, mailbox, "b@example.com")
    second = await _change(client, mailbox, "c@example.com")
    async with browser(runtime, captcha, ip="198.51.100.30") as b_owner:
        flow_url = (await b_owner.get(second)).headers["location"]
        page = await b_owner.get(flow_url)
        undone = await b_owner.post(flow_url, data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
        assert undone.status_code == 200
    assert await _root_email(runtime, account_id) == "b@example.com"
    async with browser(runtime, captcha, ip="198.51.100.31") as a_owner:
        flow_url = (await a_owner.get(first)).headers["location"]
        page = await a_owner.get(flow_url)
        undone = await a_owner.post(flow_url, data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
        assert undone.status_code == 200
    assert await _root_email(runtime, account_id) == ROOT_EMAIL


async def test_undo_link_expires_after_seven_days(client: httpx.AsyncClient, runtime: Runtime,
                                                  mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    clock = use_clock(runtime)
    await sign_in_root(client, mailbox)
    link = await _change(client, mailbox, NEW_EMAIL)
    clock.advance(7 * 86400 + 1)
    r = await client.get(link)
    assert r.status_code == 410 and "not valid" in r.text
    assert await _root_email(runtime, account_id) == NEW_EMAIL
    async with runtime.deps.store.unit() as uow:  # no longer kept: a new account may use it
        await accounts.create_account(runtime.deps, uow, email=ROOT_EMAIL, password="another password 1")


async def test_an_address_in_use_looks_the_same_and_gets_a_notice_instead_of_a_code(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    await make_account(runtime, email="taken@example.com", alias=None)
    await sign_in_root(client, mailbox)
    free = await _ask(client, "free@example.com")
    taken = await _ask(client, "taken@example.com")
    assert free.status_code == taken.status_code == 303
    free_page = (await client.get(free.headers["location"])).text
    taken_page = (await client.get(taken.headers["location"])).text
    def shape(page: str, local: str) -> str:
        return re.sub(r"flow=[A-Za-z0-9_-]+", "flow=F", page.replace(f"{local}@", "X@"))

    assert shape(free_page, "free") == shape(taken_page, "taken")
    to_taken = [m for m in mailbox.messages if m.to == "taken@example.com"]
    assert len(to_taken) == 1 and "already used" in to_taken[0].body
    assert not re.search(r"\b\d{6}\b", to_taken[0].body)
    for guess in ("000000", "123456"):
        r = await _verify(client, taken.headers["location"], step="code", verification_code=guess)
        assert r.status_code == 400
    assert await _root_email(runtime, account_id) == ROOT_EMAIL
    # a closed account's address too (it can never be used again)
    closed_id = await make_account(runtime, email="closed@example.com", alias=None)
    async with runtime.deps.store.unit() as uow:
        closed = await uow.accounts.get(closed_id)
        assert closed is not None
        closed.status = "closed"
    before = len(mailbox.messages)
    r = await _ask(client, "closed@example.com")
    assert r.status_code == 303
    [to_closed] = [m for m in mailbox.messages[before:] if m.to == "closed@example.com"]
    assert "already used" in to_closed.body and not re.search(r"\b\d{6}\b", to_closed.body)
    # the same address as now: a plain message (the user knows their own address)
    r = await _ask(client, ROOT_EMAIL.upper())
    assert r.status_code == 400 and "already the root email" in error_of(r.text)


async def test_resend_waits_and_is_limited_and_codes_expire(client: httpx.AsyncClient, runtime: Runtime,
                                                            mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    clock = use_clock(runtime)
    await sign_in_root(client, mailbox)
    r = await _ask(client, NEW_EMAIL)
    flow_url = r.headers["location"]
    first = last_code(mailbox, NEW_EMAIL)
    r = await _verify(client, flow_url, step="resend")
    assert r.status_code == 429 and "seconds" in error_of(r.text)
    codes = [first]
    for _ in range(3):
        clock.advance(31)
        r = await _verify(client, flow_url, step="resend")
        assert r.status_code == 200 and "new code was sent" in notice_of(r.text)
        codes.append(last_code(mailbox, NEW_EMAIL))
    clock.advance(31)
    r = await _verify(client, flow_url, step="resend")
    assert r.status_code == 429
    resent = await _events(runtime, account_id, "RootEmailChangeCodeResent")
    assert [d["resent"] for _, d in resent] == [1, 2, 3]
    if codes[0] != codes[-1]:  # only the newest code works
        r = await _verify(client, flow_url, step="code", verification_code=codes[0])
        assert r.status_code == 400
    clock.advance(10 * 60 + 1)
    r = await _verify(client, flow_url, step="code", verification_code=codes[-1])
    assert r.status_code == 400 and "expired" in error_of(r.text)


async def test_code_mails_of_an_account_are_budgeted(client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    await make_account(runtime)
    use_clock(runtime)
    await sign_in_root(client, mailbox)
    for n in range(5):
        assert (await _ask(client, f"spam{n}@example.com")).status_code == 303
    r = await _ask(client, "spam5@example.com")
    assert r.status_code == 429 and error_of(r.text)
    assert not [m for m in mailbox.messages if m.to == "spam5@example.com"]


async def test_the_change_belongs_to_its_session_and_browser(client: httpx.AsyncClient, runtime: Runtime,
                                                             mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    flow_url = (await _ask(client, NEW_EMAIL)).headers["location"]
    code = last_code(mailbox, NEW_EMAIL)
    async with browser(runtime, captcha, ip="198.51.100.40") as other:
        await sign_in_root(other, mailbox)
        r = await other.get(flow_url)
        assert r.status_code in (400, 404)
        page = await other.get("/console/contacts")
        r = await other.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "code",
                                             "verification_code": code})
        assert r.status_code in (400, 404)
    assert await _root_email(runtime, account_id) == ROOT_EMAIL
    # without the CSRF token nothing is posted
    r = await client.post(flow_url, data={"step": "code", "verification_code": code})
    assert r.status_code == 403
    assert await _root_email(runtime, account_id) == ROOT_EMAIL


async def test_iam_users_cannot_change_the_root_email(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_iam(client)
    page = await client.get("/console/contacts")
    assert page.status_code == 403 and "Only the root user" in page.text
    assert 'id="contacts-link"' not in (await client.get("/console/security")).text
    r = await client.post("/console/email", data={"csrf_token": csrf_of(page.text), "email": NEW_EMAIL,
                                                  "password": "user password 1"})
    assert r.status_code == 403
    assert await _root_email(runtime, account_id) == ROOT_EMAIL


def test_masking_keeps_the_domain_and_the_first_letter() -> None:
    from vestibule.services.root_email import masked

    assert masked("new-owner@example.com") == "n******@example.com"
    assert masked("a@b.example") == "a*@b.example"





async def test_the_janitor_purges_expired_undo_links(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: DevMailbox) -> None:
    from vestibule.services.janitor import JanitorPorts, run_once

    await make_account(runtime)
    clock = use_clock(runtime)
    await sign_in_root(client, mailbox)
    link = await _change(client, mailbox, NEW_EMAIL)
    token_hash = hashlib.sha256(link.split("token=")[1].encode()).hexdigest()
    ports = JanitorPorts(store=runtime.deps.store, clock=clock)
    clock.advance(7 * 86400 + 60)  # expired, but within the janitor's retention grace
    assert (await run_once(ports)).root_email_changes == 0
    clock.advance(2 * 86400)
    assert (await run_once(ports)).root_email_changes == 1
    async with runtime.deps.store.unit() as uow:
        assert await uow.root_email_changes.get(token_hash) is None


async def test_sign_up_with_an_address_kept_for_an_undo_link_gets_the_taken_notice(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    await _change(client, mailbox, NEW_EMAIL)
    async with browser(runtime, captcha, ip="198.51.100.60") as stranger:
        page = await stranger.get("/signup")
        before = len(mailbox.messages)
        r = await stranger.post("/signup", data={
            "csrf_token": csrf_of(page.text), "email": ROOT_EMAIL, "account_name": "Squatter",
            "password": "squatter password 1", "confirm_password": "squatter password 1", "captcha": captcha.latest})
        assert r.status_code == 303 and r.headers["location"].startswith("/signup/verify?flow=")
    [mail] = [m for m in mailbox.messages[before:] if m.to == ROOT_EMAIL]
    assert not re.search(r"\b\d{6}\b", mail.body), "a code for an address kept for the undo"
