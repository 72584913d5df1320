"""My details of a personal profile over HTTP: name and nickname, and the email change (the password again, the
code to the new address, wrong and expired codes, the resend wait, an address another profile uses, the old
address told, CSRF)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from http_steps import error_of, notice_of, use_clock
from profile_steps import PROFILE_EMAIL, PROFILE_PASSWORD, make_profile, open_profile_session
from support import csrf_of, last_code
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent

NEW_EMAIL = "new-maker@example.com"


async def _events(runtime: Runtime, profile_id: str) -> list[tuple[str, str]]:
    async with runtime.deps.store.unit() as uow:
        rows = (await uow.db.execute(select(AuditEvent).where(AuditEvent.principal == f"profile/{profile_id}")
                                          .order_by(AuditEvent.id))).scalars().all()
    return [(e.event, e.result) for e in rows if e.event != "ProfileLogin"]


async def _stored_email(runtime: Runtime, profile_id: str) -> str:
    async with runtime.deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
    assert profile is not None
    return profile.email


async def _signed_in(runtime: Runtime, client: httpx.AsyncClient) -> str:
    profile_id = await make_profile(runtime)
    await open_profile_session(runtime, client, profile_id)
    return profile_id


async def _start_change(client: httpx.AsyncClient, email: str = NEW_EMAIL,
                        password: str = PROFILE_PASSWORD) -> httpx.Response:
    """Edit contact information: the new address, then the password when asked; the answer to the password."""
    page = await client.get("/profile/details/email")
    assert page.status_code == 200 and 'id="email-form"' in page.text
    prompt = await client.post("/profile/details/email", data={"csrf_token": csrf_of(page.text), "email": email})
    assert prompt.status_code == 403 and 'id="reauth-form"' in prompt.text
    assert f'name="email" value="{email}"' in prompt.text
    return await client.post("/profile/details/email", data={"csrf_token": csrf_of(prompt.text), "email": email,
                                                              "password": password})


async def test_name_and_nickname_are_edited_with_a_green_confirmation(client: httpx.AsyncClient,
                                                                       runtime: Runtime) -> None:
    profile_id = await _signed_in(runtime, client)
    home = await client.get("/profile/details")
    assert 'href="/profile/details/edit"' in home.text and 'href="/profile/details/email"' in home.text
    form = await client.get("/profile/details/edit")
    assert 'id="name"' in form.text and 'for="nickname"' in form.text
    saved = await client.post("/profile/details/edit", data={"csrf_token": csrf_of(form.text),
                                                             "name": "  Mei   Lin ", "nickname": "Mei"})
    assert saved.status_code == 303 and saved.headers["location"] == "/profile/details?notice=saved"
    page = await client.get(saved.headers["location"])
    assert notice_of(page.text) == "Your profile has been updated."
    assert '<dd id="detail-name">Mei Lin</dd>' in page.text and '<dd id="detail-nickname">Mei</dd>' in page.text
    assert 'id="profile-name">Mei Lin<' in page.text  # the top bar too

    cleared = await client.post("/profile/details/edit", data={"csrf_token": csrf_of(form.text), "name": "Mei Lin",
                                                               "nickname": ""})
    assert cleared.status_code == 303
    assert '<dd id="detail-nickname">(none)</dd>' in (await client.get("/profile/details")).text
    async with runtime.deps.store.unit() as uow:
        row = (await uow.db.execute(select(AuditEvent).where(AuditEvent.event == "ProfileDetailsChanged")
                                         .order_by(AuditEvent.id))).scalars().all()
    assert [e.detail["fields"] for e in row] == [["name", "nickname"], ["nickname"]]
    assert all(e.account_id is None and e.principal == f"profile/{profile_id}" for e in row)

    for bad in ({"name": "", "nickname": "x"}, {"name": "x" * 101, "nickname": ""},
                {"name": "ok", "nickname": "n" * 101}):
        refused = await client.post("/profile/details/edit", data={"csrf_token": csrf_of(form.text), **bad})
        assert refused.status_code == 400 and error_of(refused.text)
    zh = await client.post("/profile/details/edit?lang=zh-TW", data={"csrf_token": csrf_of(form.text), "name": "",
                                                                      "nickname": ""})
    assert zh.status_code == 400 and error_of(zh.text) == "請輸入您的名稱（1 到 100 個字元）。"
    zh_home = await client.get("/profile/details")  # the language stays chosen
    assert "聯絡資訊" in zh_home.text and "暱稱" in zh_home.text and "編輯" in zh_home.text


async def test_changes_without_the_csrf_token_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await _signed_in(runtime, client)
    assert (await client.post("/profile/details/edit", data={"name": "Evil", "nickname": ""})).status_code == 403
    assert (await client.post("/profile/details/email", data={"email": NEW_EMAIL,
                                                              "password": PROFILE_PASSWORD})).status_code == 403
    page = await client.get("/profile/details")
    assert "Evil" not in page.text


async def test_email_change_with_the_code_and_the_old_address_told(client: httpx.AsyncClient, runtime: Runtime,
                                                                    mailbox: DevMailbox) -> None:
    profile_id = await _signed_in(runtime, client)
    started = await _start_change(client, "  New-Maker@Example.com ")
    assert started.status_code == 303 and started.headers["location"].startswith("/profile/details/email/verify?flow=")
    verify = await client.get(started.headers["location"])
    assert NEW_EMAIL in verify.text and 'id="verification_code"' in verify.text
    code = last_code(mailbox, NEW_EMAIL)
    assert [m.to for m in mailbox.messages] == [NEW_EMAIL]
    done = await client.post(started.headers["location"], data={"csrf_token": csrf_of(verify.text),
                                                                "verification_code": code})
    assert done.status_code == 303 and done.headers["location"] == "/profile/details?notice=email_changed"
    page = await client.get(done.headers["location"])
    assert notice_of(page.text).startswith("Your email address has been changed")
    assert f'<dd id="detail-email">{NEW_EMAIL}</dd>' in page.text
    assert await _stored_email(runtime, profile_id) == NEW_EMAIL
    told = [m for m in mailbox.messages if m.to == PROFILE_EMAIL]
    assert len(told) == 1 and "n******@example.com" in told[0].body and NEW_EMAIL not in told[0].body
    # the code worked once
    again = await client.post(started.headers["location"], data={"csrf_token": csrf_of(verify.text),
                                                                 "verification_code": code})
    assert again.status_code in (400, 404, 410)
    assert await _events(runtime, profile_id) == [
        ("ProfileReauthentication", "Success"), ("ProfileEmailChangeRequested", "Success"),
        ("ProfileEmailChanged", "Success")]


async def test_wrong_code_then_expired_code(client: httpx.AsyncClient, runtime: Runtime,
                                            mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    profile_id = await _signed_in(runtime, client)
    started = await _start_change(client)
    url = started.headers["location"]
    verify = await client.get(url)
    code = last_code(mailbox, NEW_EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(url, data={"csrf_token": csrf_of(verify.text), "verification_code": wrong})
    assert refused.status_code == 400 and error_of(refused.text)
    clock.advance(601)  # the code lasts 10 minutes
    expired = await client.post(url, data={"csrf_token": csrf_of(verify.text), "verification_code": code})
    assert expired.status_code == 400 and "expired" in error_of(expired.text)
    assert await _stored_email(runtime, profile_id) == PROFILE_EMAIL
    assert ("ProfileEmailChanged", "Failure") in await _events(runtime, profile_id)


async def test_wrong_password_asks_again_and_changes_nothing(client: httpx.AsyncClient, runtime: Runtime,
                                                             mailbox: DevMailbox) -> None:
    profile_id = await _signed_in(runtime, client)
    refused = await _start_change(client, password="not the password 1")
    assert refused.status_code == 400 and 'id="reauth-form"' in refused.text
    assert error_of(refused.text) == "That password is not correct."
    assert mailbox.messages == []
    assert await _events(runtime, profile_id) == [("ProfileReauthentication", "Failure")]


async def test_resend_waits_then_replaces_the_code_a_few_times(client: httpx.AsyncClient, runtime: Runtime,
                                                               mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await _signed_in(runtime, client)
    url = (await _start_change(client)).headers["location"]
    verify = await client.get(url)
    assert re.search(r'id="resend-wait">You can ask for a new code in \d+ seconds', verify.text)
    first = last_code(mailbox, NEW_EMAIL)
    too_soon = await client.post(url, data={"csrf_token": csrf_of(verify.text), "step": "resend"})
    assert too_soon.status_code == 429 and "wait" in error_of(too_soon.text).lower()
    assert len(mailbox.messages) == 1
    for _ in range(3):
        clock.advance(31)
        resent = await client.post(url, data={"csrf_token": csrf_of(verify.text), "step": "resend"})
        assert resent.status_code == 200 and notice_of(resent.text).startswith("We mailed a new code")
    assert len(mailbox.messages) == 4
    clock.advance(31)
    capped = await client.post(url, data={"csrf_token": csrf_of(verify.text), "step": "resend"})
    assert capped.status_code == 429 and len(mailbox.messages) == 4
    newest = last_code(mailbox, NEW_EMAIL)
    if first != newest:
        stale = await client.post(url, data={"csrf_token": csrf_of(verify.text), "verification_code": first})
        assert stale.status_code == 400
    done = await client.post(url, data={"csrf_token": csrf_of(verify.text), "verification_code": newest})
    assert done.status_code == 303


async def test_an_address_another_profile_uses_goes_on_the_same_way_and_changes_nothing(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    other = await make_profile(runtime, email=NEW_EMAIL, name="Other Person")
    profile_id = await _signed_in(runtime, client)
    started = await _start_change(client)
    assert started.status_code == 303 and started.headers["location"].startswith("/profile/details/email/verify?flow=")
    verify = await client.get(started.headers["location"])
    assert verify.status_code == 200 and NEW_EMAIL in verify.text  # the same page as for a free address
    [notice] = mailbox.messages
    assert notice.to == NEW_EMAIL and "already belongs to a personal profile" in notice.body
    assert not re.search(r"\b\d{6}\b", notice.body)
    for guess in ("123456", "000000"):
        refused = await client.post(started.headers["location"], data={"csrf_token": csrf_of(verify.text),
                                                                       "verification_code": guess})
        assert refused.status_code == 400
    assert await _stored_email(runtime, profile_id) == PROFILE_EMAIL
    assert await _stored_email(runtime, other) == NEW_EMAIL
    assert [m.to for m in mailbox.messages] == [NEW_EMAIL]  # the old address is told only of a change made
    page = await client.get("/profile/details/email")  # the password was confirmed minutes ago: not asked
    same = await client.post("/profile/details/email", data={"csrf_token": csrf_of(page.text),
                                                              "email": PROFILE_EMAIL.upper()})
    assert same.status_code == 400 and "already the email address" in error_of(same.text)


async def test_the_change_belongs_to_its_session(client: httpx.AsyncClient, runtime: Runtime,
                                                 mailbox: DevMailbox) -> None:
    """Another session of the same profile (or a copied flow ID) cannot finish the change."""
    profile_id = await _signed_in(runtime, client)
    url = (await _start_change(client)).headers["location"]
    code = last_code(mailbox, NEW_EMAIL)
    await open_profile_session(runtime, client, profile_id)  # the same browser, a new session
    page = await client.get(url)
    assert page.status_code == 404
    assert await _stored_email(runtime, profile_id) == PROFILE_EMAIL
    assert code
