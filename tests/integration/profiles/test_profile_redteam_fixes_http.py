"""The red team's findings on the personal-profile pages, over HTTP: a profile protected only by a passkey or
security key is not deleted with the password alone (the page's own challenge, single use, the same on a reload;
either factor accepted); deletion leaves no row naming the profile or its address; the reset link's page makes one
flow however often it is opened; signing in from the export link lands back on it; a password change forgets the
trusted browsers."""

from __future__ import annotations

import asyncio
import html
import re
from urllib.parse import quote

import httpx
from sqlalchemy import select

from http_steps import browser, error_of, notice_of, use_clock
from profile_steps import (
    PROFILE_COOKIE,
    PROFILE_EMAIL,
    PROFILE_PASSWORD,
    add_profile_totp,
    make_profile,
    open_profile_session,
    profile_password,
    profile_sign_out,
    step,
    totp_now,
)
from support import CaptchaAnswers, csrf_of, deliver_mail
from vestibule.core.principals import PrincipalRef
from vestibule.core.throttle import Scope, ThrottleKey
from vestibule.core.webauthn import CredentialKind
from vestibule.runtime import Runtime
from vestibule.services import mfa, webauthn
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox
from vestibule.services.profiles import deletion, recovery, security
from vestibule.services.profiles.accounts import view
from vestibule.services.profiles.signin import signin_keys
from vestibule.services.reauthentication import Reauthenticated
from vestibule.services.webauthn import Owner
from vestibule.store.models import Base, FlowRecord, OutboxMail
from vestibule.web.i18n import Translator
from webauthn_authenticator import SoftAuthenticator
from webauthn_steps import options_of

t = Translator("en")
SERVICE_CLIENT = Client(ip="203.0.113.9", user_agent="test", browser_hash="browser-1")
EVERY = list(deletion.DISCLAIMERS)
NEW_PASSWORD = "Brighter-Harbor-77"


async def _add_key(runtime: Runtime, profile_id: str, kind: CredentialKind = CredentialKind.SECURITY_KEY,
                   email: str = PROFILE_EMAIL) -> SoftAuthenticator:
    """A passkey or security key of the profile (as Security adds one)."""
    key = SoftAuthenticator()
    owner = Owner(PrincipalRef.profile(profile_id).key, email, "Mei", f"profile/{profile_id}")
    ceremony = await webauthn.begin_registration(runtime.deps, SERVICE_CLIENT, owner, kind)
    await webauthn.finish_registration(runtime.deps, SERVICE_CLIENT, owner, ceremony.flow_id,
                                       key.register(ceremony.options, resident=kind == CredentialKind.PASSKEY),
                                       "Blue key", method="profile")
    return key


async def _exists(runtime: Runtime, profile_id: str) -> bool:
    async with runtime.deps.store.unit() as uow:
        return await uow.profiles.by_id(profile_id) is not None


async def _delete(client: httpx.AsyncClient, page: httpx.Response, **fields: str) -> httpx.Response:
    return await client.post("/profile/privacy/delete", data={
        "csrf_token": csrf_of(page.text), "password": PROFILE_PASSWORD, "disclaimer": EVERY, **fields})


async def test_a_profile_with_only_a_security_key_is_not_deleted_with_the_password_alone(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id = await make_profile(runtime)
    key = await _add_key(runtime, profile_id)
    await open_profile_session(runtime, client, profile_id)
    page = await client.get("/profile/privacy/delete")
    assert page.status_code == 200 and 'data-webauthn="get"' in page.text and 'name="mfa_code"' not in page.text
    assert '<script src="/static/webauthn.js" defer></script>' in page.text
    options = options_of(page.text)
    reloads = await asyncio.gather(*(client.get("/profile/privacy/delete") for _ in range(2)))
    assert {options_of(r.text) for r in reloads} == {options}  # a reload, a second tab: the same challenge

    alone = await _delete(client, page)
    assert alone.status_code == 400 and error_of(alone.text) == t("profile_webauthn.key_refused")
    assert await _exists(runtime, profile_id)
    stranger = await _delete(client, page, webauthn_response=SoftAuthenticator().assertion(options))
    assert stranger.status_code == 400 and error_of(stranger.text) == t("profile_webauthn.key_refused")
    assert await _exists(runtime, profile_id)
    # the refused answer spent the challenge: the key's answer to it is refused too, the page has a new one
    late = await _delete(client, page, webauthn_response=key.assertion(options))
    assert late.status_code == 400 and await _exists(runtime, profile_id)
    fresh = await client.get("/profile/privacy/delete")
    assert options_of(fresh.text) != options
    done = await _delete(client, fresh, webauthn_response=key.assertion(options_of(fresh.text), counter=2))
    assert done.status_code == 200 and 'id="profile-deleted"' in done.text, done.text
    assert not await _exists(runtime, profile_id)
    async with runtime.deps.store.unit() as uow:
        events = [e for e in await uow.audit.of_principal(deletion.pseudonym(runtime.deps.box.signing_key,
                                                                               profile_id))
                  if e.event == "ProfileDeleted"]
    assert [e.result for e in events][-1] == "Success"
    assert "Failure" in [e.result for e in events]  # the refused answers are audited


async def test_either_factor_deletes_a_profile_with_a_code_and_a_key(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id = await make_profile(runtime)
    secret = await add_profile_totp(runtime, profile_id)
    await _add_key(runtime, profile_id)
    await open_profile_session(runtime, client, profile_id)
    page = await client.get("/profile/privacy/delete")  # the key's form, and a way to the code's
    assert 'data-webauthn="get"' in page.text and 'name="mfa_code"' not in page.text
    assert 'href="/profile/privacy/delete?with=code"' in page.text
    assert (await _delete(client, page)).status_code == 400 and await _exists(runtime, profile_id)
    page = await client.get("/profile/privacy/delete?with=code")
    assert 'data-webauthn' not in page.text and '<label for="mfa_code">' in page.text
    assert 'id="delete-with-key"' in page.text and page.text.count("<form") == 2  # (the sign-out's form)
    wrong = await _delete(client, page, mfa_code="000000", **{"with": "code"})
    assert wrong.status_code == 400 and '<label for="mfa_code">' in wrong.text  # the code's form again
    done = await _delete(client, page, mfa_code=totp_now(runtime, secret), **{"with": "code"})
    assert done.status_code == 200 and not await _exists(runtime, profile_id)


async def _rows_naming(runtime: Runtime, *needles: str) -> list[tuple[str, str]]:
    """Every row of every table whose text names one of `needles` (what the red team scanned): (table, row)."""
    found = []
    async with runtime.deps.store.unit() as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.db.execute(select(table))).all():
                text = repr(tuple(row)).lower()
                if any(n.lower() in text for n in needles):
                    found.append((table.name, text))
    return found


async def test_deletion_leaves_no_row_naming_the_profile_or_its_address(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    deps = runtime.deps
    profile_id = await make_profile(runtime)
    ref = PrincipalRef.profile(profile_id)
    secret = await add_profile_totp(runtime, profile_id)
    token = await open_profile_session(runtime, client, profile_id)
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
        devices = list(await uow.virtual_mfa.all_for(ref.key))
    assert profile is not None
    me = view(profile)
    proof = Reauthenticated("", deps.clock())
    # left open: an authenticator app's enrolment and a security key's registration; a sent and a pending mail;
    # counters of a wrong password, a reset request and a wrong code
    await security.begin_totp(deps, SERVICE_CLIENT, me, proof)
    owner = Owner(ref.key, PROFILE_EMAIL, "Mei", f"profile/{profile_id}")
    await webauthn.begin_registration(deps, SERVICE_CLIENT, owner, CredentialKind.SECURITY_KEY)
    await recovery.request_link(deps, SERVICE_CLIENT, PROFILE_EMAIL)
    await deliver_mail(runtime)
    counted = [*signin_keys(PROFILE_EMAIL, SERVICE_CLIENT)[:1], *mfa.code_keys(ref.key, devices)]
    assert await deps.throttle.reserve(counted, deps.clock(), captcha_solved=False) is None
    reset_key = ThrottleKey(Scope.CODES, f"profile-reset:{PROFILE_EMAIL}")
    before = {k.name: s.failures for k, s in zip([*counted, reset_key],
                                                 await deps.throttle.states([*counted, reset_key], deps.clock()),
                                                 strict=True)}
    assert all(before.values()), before
    assert {t for t, _ in await _rows_naming(runtime, profile_id, PROFILE_EMAIL)} >= {"flows", "mail_outbox"}
    page = await client.get("/profile/privacy/delete")  # (the test's transport delivers what is due)
    sent_before = len(mailbox.messages)
    await recovery.request_link(deps, SERVICE_CLIENT, PROFILE_EMAIL)  # still pending at the deletion
    done = await _delete(client, page, mfa_code=totp_now(runtime, secret))
    assert done.status_code == 200 and 'id="profile-deleted"' in done.text, done.text
    assert token

    left = await _rows_naming(runtime, profile_id, PROFILE_EMAIL)
    async with deps.store.unit() as uow:
        to_address = list((await uow.db.execute(select(OutboxMail).where(
            OutboxMail.recipient == PROFILE_EMAIL))).scalars().all())
    assert [m.kind for m in to_address] == ["profile_deleted"]  # (the test's transport delivers it at once)
    assert [t for t, _ in left] == ["mail_outbox"], left  # the deletion notice, nothing else
    states = await deps.throttle.states([*counted, reset_key], deps.clock())
    assert [s.failures for s in states] == [0] * len(states)
    await deliver_mail(runtime)
    assert [m.subject for m in mailbox.messages[sent_before:]] == [
        "Your Vestibule personal profile was deleted"]  # the cancelled reset link never went out


_RESET_LINK = re.compile(r"http://testserver(/profile/recover/reset\?token=[A-Za-z0-9_-]+)")


async def _page_flows(runtime: Runtime) -> list[FlowRecord]:
    async with runtime.deps.store.unit() as uow:
        return list((await uow.db.execute(select(FlowRecord).where(
            FlowRecord.kind == "profile_reset", FlowRecord.state == "new_password"))).scalars().all())


async def test_opening_a_reset_link_again_reuses_the_browsers_page(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_profile(runtime)
    page = await client.get("/profile/recover")
    await client.post("/profile/recover", data={"csrf_token": csrf_of(page.text), "email": PROFILE_EMAIL})
    found = _RESET_LINK.search([m for m in mailbox.messages if m.to == PROFILE_EMAIL][-1].body)
    assert found is not None
    opened = [await client.get(found.group(1)), *await asyncio.gather(*(client.get(found.group(1)) for _ in range(2)))]
    assert {r.status_code for r in opened} == {303}
    assert len({r.headers["location"] for r in opened}) == 1
    assert len(await _page_flows(runtime)) == 1
    clock.advance(16 * 60)  # the page ran out (15 minutes), the link has not: a new page in its place
    assert (await client.get(opened[0].headers["location"])).status_code == 410
    again = await client.get(found.group(1))
    assert again.status_code == 303
    assert len(await _page_flows(runtime)) == 1
    reset = await client.get(again.headers["location"])
    assert reset.status_code == 200 and PROFILE_EMAIL in reset.text


async def test_signing_in_from_the_export_link_lands_back_on_it(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    profile_id = await make_profile(runtime)
    await open_profile_session(runtime, client, profile_id)
    page = await client.get("/profile/privacy")
    await client.post("/profile/privacy/export/request", data={"csrf_token": csrf_of(page.text)})
    await deliver_mail(runtime)
    found = re.search(r"http://testserver(/profile/privacy/export\?id=[0-9a-f]+&token=[A-Za-z0-9_-]+)",
                      [m for m in mailbox.messages if m.to == PROFILE_EMAIL][-1].body)
    assert found is not None
    link = found.group(1)
    await profile_sign_out(client)
    client.cookies.delete(PROFILE_COOKIE)
    first = await client.get(link)
    assert first.status_code == 401 and 'id="signin-link"' in first.text
    _, answer = await profile_password(client)
    assert answer.status_code == 303 and answer.headers["location"] == link, answer.headers.get("location")
    assert 'id="download"' in (await client.get(link)).text
    # the next sign-in goes home again (the return was used up); an off-site return is never followed
    await profile_sign_out(client)
    client.cookies.delete(PROFILE_COOKIE)
    _, again = await profile_password(client)
    assert again.headers["location"] == "/profile/details?notice=signed_in"
    await profile_sign_out(client)
    client.cookies.delete(PROFILE_COOKIE)
    for bad in ("//evil.example/profile/privacy/export", "https://evil.example/", "/profile/details",
                "/profile/privacy/exportx"):
        client.cookies.set("vestibule_profile_return", quote(bad, safe=""))
        _, r = await profile_password(client)
        assert r.headers["location"] == "/profile/details?notice=signed_in", bad
        await profile_sign_out(client)
        client.cookies.delete(PROFILE_COOKIE)


async def test_a_password_change_forgets_the_trusted_browsers(
        client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    profile_id = await make_profile(runtime)
    secret = await add_profile_totp(runtime, profile_id)
    async with browser(runtime, captcha, ip="198.51.100.23") as trusted:  # trusted at a sign-in that passed MFA
        flow_url, _ = await profile_password(trusted, trusted_device="on")
        r = await step(trusted, flow_url, "mfa", mfa_code=totp_now(runtime, secret))
        assert r.status_code == 303 and trusted.cookies.get("vestibule_profile_trust")
        await profile_sign_out(trusted)
        trusted.cookies.delete(PROFILE_COOKIE)
        _, skipped = await profile_password(trusted)
        assert skipped.headers["location"] == "/profile/details?notice=signed_in"  # the trust works
        await profile_sign_out(trusted)
        trusted.cookies.delete(PROFILE_COOKIE)

        # another browser changes the password on Security
        flow_url, _ = await profile_password(client)
        await step(client, flow_url, "mfa", mfa_code=totp_now(runtime, secret, 1))
        form = await client.get("/profile/security/password")
        await client.post("/profile/security/password", data={"csrf_token": csrf_of(form.text),
                                                               "password": PROFILE_PASSWORD})
        form = await client.get("/profile/security/password")
        assert t("profile_settings.password_sessions_hint") in html.unescape(form.text)
        assert "trusted devices" in t("profile_settings.password_sessions_hint")
        changed = await client.post("/profile/security/password", data={
            "csrf_token": csrf_of(form.text), "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert changed.headers["location"] == "/profile/security?notice=password_changed"
        page = await client.get(changed.headers["location"])
        assert notice_of(page.text) == t("profile_settings.notice_password_changed")
        assert "trusted devices were forgotten" in notice_of(page.text)
        async with runtime.deps.store.unit() as uow:
            assert await uow.profile_trusted_browsers.of_profile(profile_id, 0.0) == []
            (event,) = [e for e in await uow.audit.of_principal(f"profile/{profile_id}")
                        if e.event == "ProfilePasswordChanged"]
        assert event.detail and event.detail.get("trusted_browsers_forgotten") == 1
        await deliver_mail(runtime)
        mail = [m for m in mailbox.messages if m.to == PROFILE_EMAIL][-1]
        assert "trusted devices were forgotten" in mail.body

        flow_url, asked = await profile_password(trusted, password=NEW_PASSWORD)
        assert asked.status_code == 303 and asked.headers["location"] == flow_url  # MFA again
