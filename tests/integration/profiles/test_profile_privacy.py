"""Privacy & data over HTTP: the data export (requested, prepared by the mail sender's round, mailed, downloaded
by its own signed-in profile only, for 7 days; every file of the ZIP read) and the profile's deletion (every
disclaimer, the password and the authenticator code; every row gone, the audit events pseudonymised, the email
unknown to sign-in and free for sign-up)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import httpx

from http_steps import error_of, notice_of, use_clock
from profile_steps import (
    PROFILE_COOKIE,
    PROFILE_EMAIL,
    PROFILE_PASSWORD,
    make_profile,
    open_profile_session,
    sign_up_profile,
)
from support import CaptchaAnswers, DeliveringTransport, csrf_of, deliver_mail
from vestibule.core import totp
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.services.mail import DevMailbox, Mail
from vestibule.services.profiles import deletion
from vestibule.store.models import MfaDevice

_LINK = re.compile(r"(http://testserver/profile/privacy/export\?id=[0-9a-f]+&token=[A-Za-z0-9_-]+)")
FILES = {"README.txt", *(f"{t}.{x}" for t in ("profile", "mfa_devices", "trusted_browsers", "sessions",
                                             "audit_events") for x in ("json", "csv"))}


def _latest(mailbox: DevMailbox, to: str) -> Mail | None:
    sent = [m for m in mailbox.messages if m.to == to]
    return sent[-1] if sent else None


async def _other_browser(runtime: Runtime, captcha: CaptchaAnswers) -> httpx.AsyncClient:
    from vestibule.app import create_app

    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    return httpx.AsyncClient(transport=DeliveringTransport(app, runtime, client=("198.51.100.9", 40000)),
                             base_url="http://testserver", follow_redirects=False)


async def _add_totp(runtime: Runtime, profile_id: str) -> str:
    """An authenticator app on the profile (as Security adds one); its secret."""
    deps = runtime.deps
    key = PrincipalRef.profile(profile_id).key
    secret = totp.new_secret()
    serial = f"{key}:mfa/1"
    async with deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=None, principal_key=key, name="phone", serial=serial,
                                    secret_sealed=mfa.seal_secret(deps, serial, secret), enabled_at=deps.clock(),
                                    created_at=deps.clock(), label="My phone"))
    return secret


async def _request(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/profile/privacy")
    assert page.status_code == 200
    return await client.post("/profile/privacy/export/request", data={"csrf_token": csrf_of(page.text)})


async def test_export_is_prepared_mailed_and_downloaded_by_its_profile_only(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    clock = use_clock(runtime)
    profile_id = await make_profile(runtime)
    await _add_totp(runtime, profile_id)
    await open_profile_session(runtime, client, profile_id, user_agent="Firefox test")
    requested = await _request(client)
    assert requested.status_code == 303 and requested.headers["location"] == "/profile/privacy?notice=export_requested"
    # the transport ran the mail sender's round after the answer: prepared there, and mailed
    mail = _latest(mailbox, PROFILE_EMAIL)
    assert mail is not None and "data is ready" in mail.subject
    link = _LINK.search(mail.body)
    assert link is not None
    page = await client.get("/profile/privacy?notice=export_requested")
    assert "We received your request" in notice_of(page.text)
    assert 'data-status="ready"' in page.text and 'id="request-data"' in page.text
    async with runtime.deps.store.unit() as uow:
        (row,) = await uow.profile_exports.of_profile(profile_id)
    token = link.group(1).rpartition("token=")[2]
    assert row.status == "ready" and row.token_hash and token not in row.token_hash  # stored hashed

    url = link.group(1).removeprefix("http://testserver")
    opened = await client.get(url)
    assert opened.status_code == 200 and 'id="download"' in opened.text
    assert opened.headers["referrer-policy"] == "no-referrer"
    form = {"csrf_token": csrf_of(opened.text), "id": row.id, "token": token}
    got = await client.post("/profile/privacy/export/download", data=form)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"].startswith('attachment; filename="personal-profile-data-')
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    assert set(archive.namelist()) == FILES
    for name in FILES - {"README.txt"}:
        text = archive.read(name).decode("utf-8")
        for secret in ("argon2", PROFILE_PASSWORD, "secret", "token_hash", row.token_hash):
            assert secret not in text, (name, secret)
        if name.endswith(".csv"):  # the same rows and columns as its JSON twin
            rows = list(csv.DictReader(io.StringIO(text)))
            twin = json.loads(archive.read(name.replace(".csv", ".json")))
            assert len(rows) == len(twin) and all(list(r) == list(j) for r, j in zip(rows, twin, strict=True)), name
    (profile,) = json.loads(archive.read("profile.json"))
    assert profile["id"] == profile_id and profile["email"] == PROFILE_EMAIL and "password_hash" not in profile
    (device,) = json.loads(archive.read("mfa_devices.json"))
    assert device["type"] == "authenticator_app" and device["name"] == "My phone" and device["added"]
    sessions = json.loads(archive.read("sessions.json"))
    assert [s["browser"] for s in sessions] == ["Firefox test"] and sessions[0]["client_address"] == "203.0.113.7"
    events = {e["event"] for e in json.loads(archive.read("audit_events.json"))}
    assert {"ProfileLogin", "ProfileDataExportRequested"} <= events  # (its preparation is recorded after it)
    assert list(csv.DictReader(io.StringIO(archive.read("mfa_devices.csv").decode()))) == [
        {"type": "authenticator_app", "name": "My phone", "added": device["added"], "last_used": ""}]

    # signed out: refused (the page says to sign in first), then another profile: refused
    other = await _other_browser(runtime, captcha)
    async with other:
        assert (await other.get(url)).status_code == 401
        stranger = await make_profile(runtime, email="other@example.com")
        await open_profile_session(runtime, other, stranger)
        assert (await other.get(url)).status_code == 410
        page = await other.get("/profile/privacy")
        stolen = await other.post("/profile/privacy/export/download", data={**form, "csrf_token": csrf_of(page.text)})
        assert stolen.status_code == 410 and "application/zip" not in stolen.headers["content-type"]
    # a wrong token: refused; after 7 days: refused
    bad = await client.post("/profile/privacy/export/download", data={**form, "token": token[:-2] + "xx"})
    assert bad.status_code == 410
    clock.advance(7 * 86400 + 1)
    await open_profile_session(runtime, client, profile_id)  # (the first session has ended by then)
    assert (await client.get(url)).status_code == 410
    expired = await client.get("/profile/privacy")
    form["csrf_token"] = csrf_of(expired.text)
    assert (await client.post("/profile/privacy/export/download", data=form)).status_code == 410
    assert 'data-status="expired"' in expired.text


async def test_one_pending_request_at_a_time(runtime: Runtime, captcha: CaptchaAnswers) -> None:
    from vestibule.app import create_app

    profile_id = await make_profile(runtime)
    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    # a browser whose requests are not followed by the mail sender's round: the request stays pending
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
                                 base_url="http://testserver", follow_redirects=False) as client:
        await open_profile_session(runtime, client, profile_id)
        assert (await _request(client)).status_code == 303
        page = await client.get("/profile/privacy")
        assert 'data-status="pending"' in page.text and 'id="request-data"' not in page.text
        refused = await client.post("/profile/privacy/export/request", data={"csrf_token": csrf_of(page.text)})
        assert refused.status_code == 429 and "still being prepared" in error_of(refused.text)
        await deliver_mail(runtime)  # the round prepares it; then one more today, and no more
        assert 'data-status="ready"' in (await client.get("/profile/privacy")).text
        assert (await _request(client)).status_code == 303
        await deliver_mail(runtime)
        assert (await _request(client)).status_code == 303
        await deliver_mail(runtime)
        limited = await _request(client)
        assert limited.status_code == 429 and "several times today" in error_of(limited.text)
    async with runtime.deps.store.unit() as uow:
        results = [e.result for e in await uow.audit.of_principal(f"profile/{profile_id}")
                   if e.event == "ProfileDataExportRequested"]
    assert results == ["Success", "Pending", "Success", "Success", "Limited"]


async def _delete_page(client: httpx.AsyncClient) -> str:
    page = await client.get("/profile/privacy/delete")
    assert page.status_code == 200
    for name in deletion.DISCLAIMERS:
        assert f'id="disclaimer-{name}"' in page.text and f'for="disclaimer-{name}"' in page.text
    return csrf_of(page.text)


async def test_deleting_needs_every_disclaimer_the_password_and_the_code(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    profile_id = await make_profile(runtime)
    secret = await _add_totp(runtime, profile_id)
    await open_profile_session(runtime, client, profile_id)
    csrf = await _delete_page(client)
    every = list(deletion.DISCLAIMERS)
    code = totp.code_at(secret, totp.step_of(runtime.deps.clock()))
    base = {"csrf_token": csrf, "password": PROFILE_PASSWORD, "mfa_code": code}
    unticked = await client.post("/profile/privacy/delete", data={**base, "disclaimer": every[:2]})
    assert unticked.status_code == 400 and "Tick every statement" in error_of(unticked.text)
    assert 'value="services" required checked' in unticked.text  # what was ticked stays ticked
    wrong = await client.post("/profile/privacy/delete", data={**base, "password": "nope", "disclaimer": every})
    assert wrong.status_code == 400 and "password is not right" in error_of(wrong.text)
    no_code = await client.post("/profile/privacy/delete", data={**base, "mfa_code": "000000", "disclaimer": every})
    assert no_code.status_code == 400 and "authenticator app is not right" in error_of(no_code.text)
    async with runtime.deps.store.unit() as uow:
        assert await uow.profiles.by_id(profile_id) is not None
        failures = [e for e in await uow.audit.of_principal(f"profile/{profile_id}") if e.event == "ProfileDeleted"]
    assert [(e.result, e.method) for e in failures] == [("Failure", "password"), ("Failure", "mfa")]
    assert _latest(mailbox, PROFILE_EMAIL) is None


async def test_deletion_erases_the_profile_and_frees_its_email(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    deps = runtime.deps
    profile_id = await make_profile(runtime)
    key = PrincipalRef.profile(profile_id).key
    secret = await _add_totp(runtime, profile_id)
    token = await open_profile_session(runtime, client, profile_id)
    async with deps.store.unit() as uow:  # a password history entry, a trusted browser, a ready export
        await uow.password_history.add(key, deps.hasher.hash("an older password 1"), deps.clock())
    await _request(client)
    other = await _other_browser(runtime, captcha)
    async with other:
        second = await open_profile_session(runtime, other, profile_id)
        csrf = await _delete_page(client)
        code = totp.code_at(secret, totp.step_of(deps.clock()))
        done = await client.post("/profile/privacy/delete", data={
            "csrf_token": csrf, "password": PROFILE_PASSWORD, "mfa_code": code,
            "disclaimer": list(deletion.DISCLAIMERS)})
        assert done.status_code == 200 and 'id="profile-deleted"' in done.text
        assert any(h.startswith(f"{PROFILE_COOKIE}=;") for h in done.headers.get_list("set-cookie"))
        # the other browser's session ended at once too
        assert (await other.get("/profile/details")).status_code == 303
    client.cookies.set(PROFILE_COOKIE, token)
    assert (await client.get("/profile/details")).status_code == 303
    assert second
    notice = _latest(mailbox, PROFILE_EMAIL)
    assert notice is not None and "was deleted" in notice.subject

    alias = deletion.pseudonym(deps.box.signing_key, profile_id)
    async with deps.store.unit() as uow:
        assert await uow.profiles.by_id(profile_id) is None
        assert await uow.profiles.by_email(PROFILE_EMAIL) is None
        assert list(await uow.password_history.recent(key, 10)) == []
        assert list(await uow.virtual_mfa.all_for(key)) == []
        assert list(await uow.webauthn.for_principal(key)) == []
        assert list(await uow.sessions.all_for(key)) == []
        assert await uow.profile_exports.of_profile(profile_id) == []
        assert await uow.profile_trusted_browsers.of_profile(profile_id, 0.0) == []
        assert await uow.mail_languages.get(key) is None
        assert list(await uow.audit.of_principal(f"profile/{profile_id}")) == []
        kept = list(await uow.audit.of_principal(alias))
    assert alias.startswith("profile/deleted-") and profile_id not in alias
    assert {"ProfileLogin", "ProfileDataExportRequested", "ProfileDeleted"} <= {e.event for e in kept}
    assert all(profile_id not in json.dumps(e.detail) and PROFILE_EMAIL not in json.dumps(e.detail) for e in kept)

    # signing in with the address now goes exactly as for an address nobody has
    async def password_answer(email: str) -> httpx.Response:
        start = await client.get("/profile")
        flow = await client.post("/profile", data={"csrf_token": csrf_of(start.text), "email": email})
        page = await client.get(flow.headers["location"])
        return await client.post(flow.headers["location"], data={
            "csrf_token": csrf_of(page.text), "step": "password", "password": PROFILE_PASSWORD})

    deleted, unknown = await password_answer(PROFILE_EMAIL), await password_answer("nobody@example.com")
    assert deleted.status_code == unknown.status_code == 400
    assert error_of(deleted.text) == error_of(unknown.text) != ""
    # and the address makes a new, empty profile through the sign-up pages
    await sign_up_profile(client, mailbox)
    async with deps.store.unit() as uow:
        fresh = await uow.profiles.by_email(PROFILE_EMAIL)
    assert fresh is not None and fresh.id != profile_id


async def test_a_failing_job_never_stops_the_mail(runtime: Runtime, mailbox: DevMailbox) -> None:
    from dataclasses import replace

    from vestibule.core.outbox import MailKind
    from vestibule.runtime import sender_ports
    from vestibule.services import outbox
    from vestibule.services.mail_sender import MailSender

    async def broken() -> int:
        raise RuntimeError("an export that cannot be built")

    ports = sender_ports(runtime.deps)
    assert len(ports.jobs) == 1  # the export's preparation
    async with runtime.deps.store.unit() as uow:
        await outbox.enqueue(uow, runtime.deps.outbox, Mail(to="x@example.com", subject="Hi", body="Hello"),
                             kind=MailKind.ACCOUNT_NOTICE)
    assert (await MailSender(replace(ports, jobs=(broken, *ports.jobs))).drain()).sent == 1
    assert _latest(mailbox, "x@example.com") is not None


async def test_pages_and_mails_in_traditional_chinese(client: httpx.AsyncClient, runtime: Runtime,
                                                      mailbox: DevMailbox) -> None:
    await open_profile_session(runtime, client, await make_profile(runtime))
    page = await client.get("/profile/privacy?lang=zh-TW")
    assert "隱私權與資料" in page.text and "要求您的資料" in page.text
    await client.post("/profile/privacy/export/request", data={"csrf_token": csrf_of(page.text)})
    mail = _latest(mailbox, PROFILE_EMAIL)
    assert mail is not None and mail.subject == "您的 Vestibule 個人設定檔資料已備妥"  # the asking page's language
    delete = await client.get("/profile/privacy/delete")
    assert "刪除您的個人設定檔" in delete.text and "勾選每項聲明" in delete.text
