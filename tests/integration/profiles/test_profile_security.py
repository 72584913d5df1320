"""The Security page of a personal profile over HTTP: the password change (the current password first, mismatch,
reuse of the last 3, other sessions end, this one renewed), MFA devices (add, rename, remove with the warning
before the last), trusted devices, signed-in devices (browser, address, this one marked, end one) and "Delete
all active sessions" (wrong words refused, both sessions end), CSRF."""

from __future__ import annotations

import itertools
import uuid

import httpx
from sqlalchemy import select

from http_steps import browser, error_of, notice_of
from profile_steps import PROFILE_COOKIE, PROFILE_EMAIL, PROFILE_PASSWORD, make_profile, open_profile_session
from support import CaptchaAnswers, csrf_of
from vestibule.core import totp
from vestibule.core.throttle import CAPTCHA_AFTER
from vestibule.core.tokens import hash_token
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent, MfaDevice, ProfileTrustedBrowser

CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 "
          "Safari/537.36")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
NEW_PASSWORD = "Fresh-Start 42"
REUSED = "You used this password recently. Choose a different one."


async def _events(runtime: Runtime, profile_id: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        return list(await uow.audit.of_principal(f"profile/{profile_id}"))


async def _signed_in(runtime: Runtime, client: httpx.AsyncClient, user_agent: str = CHROME) -> tuple[str, str]:
    profile_id = await make_profile(runtime)
    return profile_id, await open_profile_session(runtime, client, profile_id, user_agent=user_agent)


async def _confirm_password(client: httpx.AsyncClient, password: str = PROFILE_PASSWORD) -> httpx.Response:
    """Change password, step 1: the current password."""
    prompt = await client.get("/profile/security/password")
    assert prompt.status_code == 200 and 'id="reauth-form"' in prompt.text
    return await client.post("/profile/security/password", data={"csrf_token": csrf_of(prompt.text),
                                                                   "password": password})


async def _new_password(client: httpx.AsyncClient, new: str, confirm: str | None = None) -> httpx.Response:
    page = await client.get("/profile/security/password")
    assert 'id="new-password-form"' in page.text, page.text
    return await client.post("/profile/security/password", data={
        "csrf_token": csrf_of(page.text), "new_password": new, "confirm_password": new if confirm is None else confirm})


async def _change(client: httpx.AsyncClient, current: str, new: str) -> httpx.Response:
    """Both steps (the first only when the password was not confirmed in this session in the last minutes)."""
    if 'id="reauth-form"' in (await client.get("/profile/security/password")).text:
        confirmed = await _confirm_password(client, current)
        assert confirmed.status_code == 303 and confirmed.headers["location"] == "/profile/security/password"
    return await _new_password(client, new)


async def test_security_page_lists_signed_in_devices_with_this_one_marked(
        client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers) -> None:
    profile_id, _ = await _signed_in(runtime, client)
    async with browser(runtime, captcha, ip="198.51.100.23") as other:
        await open_profile_session(runtime, other, profile_id, user_agent=FIREFOX)
        page = await client.get("/profile/security")
    assert page.status_code == 200
    for section in ('id="password-section"', 'id="mfa"', 'id="trusted"', 'id="sessions"', 'id="delete-all"'):
        assert section in page.text
    assert "Chrome 120 on Linux" in page.text and "Firefox 121 on Windows" in page.text
    assert page.text.count('class="session"') == 2 and page.text.count('data-current="1"') == 1
    assert "This browser" in page.text and "203.0.113.7" in page.text
    assert 'aria-current="page"' in page.text and 'id="nav-security"' in page.text
    zh = await client.get("/profile/security?lang=zh-TW")
    assert "Linux 上的 Chrome 120" in zh.text and "已登入的裝置" in zh.text


async def test_change_password_current_first_then_new_and_confirm(client: httpx.AsyncClient, runtime: Runtime,
                                                                  captcha: CaptchaAnswers,
                                                                  mailbox: DevMailbox) -> None:
    profile_id, token = await _signed_in(runtime, client)
    wrong = await _confirm_password(client, "Not-The-Password 1")
    assert wrong.status_code == 400 and error_of(wrong.text) == "That password is not correct."
    assert 'id="reauth-form"' in (await client.get("/profile/security/password")).text  # still step 1
    assert (await _confirm_password(client)).status_code == 303
    mismatch = await _new_password(client, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert mismatch.status_code == 400 and error_of(mismatch.text)
    weak = await _new_password(client, "password")
    assert weak.status_code == 400 and error_of(weak.text)
    async with browser(runtime, captcha, ip="198.51.100.23") as other:
        other_token = await open_profile_session(runtime, other, profile_id, user_agent=FIREFOX)
        assert (await other.get("/profile/details")).status_code == 200
        changed = await _new_password(client, NEW_PASSWORD)
        assert changed.status_code == 303 and changed.headers["location"] == "/profile/security?notice=password_changed"
        # the other browser is signed out at its next request; this one stays, with a new session
        assert (await other.get("/profile/details")).status_code == 303
        other.cookies.set(PROFILE_COOKIE, other_token)
        assert (await other.get("/profile/security")).status_code == 303
        renewed = changed.cookies.get(PROFILE_COOKIE)
        assert renewed and renewed != token
        other.cookies.set(PROFILE_COOKIE, token)  # this browser's cookie before the change: its session has ended
        assert (await other.get("/profile/details")).status_code == 303
    page = await client.get(changed.headers["location"])
    assert page.status_code == 200 and notice_of(page.text).startswith("Your password has been changed")
    assert page.text.count('class="session"') == 1
    assert [m.to for m in mailbox.messages] == [PROFILE_EMAIL]
    async with runtime.deps.store.unit() as uow:
        profile = await uow.profiles.by_id(profile_id)
    assert profile is not None and runtime.deps.hasher.verify(profile.password_hash, NEW_PASSWORD)
    changes = [e for e in await _events(runtime, profile_id) if e.event == "ProfilePasswordChanged"]
    assert len(changes) == 1 and changes[0].detail["other_sessions_ended"] == 1 and changes[0].account_id is None


async def test_none_of_the_last_three_passwords(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await _signed_in(runtime, client)
    history = [PROFILE_PASSWORD, "Second-Pass 22", "Third-Pass 33", "Fourth-Pass 44"]
    for current, new in itertools.pairwise(history):
        assert (await _change(client, current, new)).status_code == 303
    for reused in history[1:]:  # the current one and the two before it
        refused = await _change(client, history[-1], reused)
        assert refused.status_code == 400 and error_of(refused.text) == REUSED, error_of(refused.text)
    assert (await _change(client, history[-1], history[0])).status_code == 303  # four changes ago: allowed again


async def test_end_one_session(client: httpx.AsyncClient, runtime: Runtime, captcha: CaptchaAnswers) -> None:
    profile_id, _ = await _signed_in(runtime, client)
    async with browser(runtime, captcha, ip="198.51.100.23") as other:
        await open_profile_session(runtime, other, profile_id, user_agent=FIREFOX)
        async with runtime.deps.store.unit() as uow:
            rows = await uow.sessions.live_for(f"profile:{profile_id}", runtime.deps.clock())
        theirs = next(r.public_id for r, _ in rows if r.user_agent == FIREFOX)
        page = await client.get("/profile/security")
        assert f'value="{theirs}"' in page.text
        no_csrf = await client.post("/profile/security/sessions/end", data={"session": theirs})
        assert no_csrf.status_code == 403
        assert (await other.get("/profile/details")).status_code == 200
        ended = await client.post("/profile/security/sessions/end", data={"csrf_token": csrf_of(page.text),
                                                                          "session": theirs})
        assert ended.status_code == 303 and ended.headers["location"] == "/profile/security?notice=session_ended"
        assert (await other.get("/profile/details")).status_code == 303
        assert (await client.get("/profile/details")).status_code == 200
        again = await client.post("/profile/security/sessions/end", data={"csrf_token": csrf_of(page.text),
                                                                          "session": theirs})
        assert again.status_code == 404 and error_of(again.text) == "That session has already ended."
        unknown = await client.post("/profile/security/sessions/end", data={"csrf_token": csrf_of(page.text),
                                                                            "session": uuid.uuid4().hex})
        assert unknown.status_code == 404
    assert "ProfileSessionEnded" in [e.event for e in await _events(runtime, profile_id)]


async def test_delete_all_needs_the_words_then_ends_every_session(client: httpx.AsyncClient, runtime: Runtime,
                                                                  captcha: CaptchaAnswers) -> None:
    profile_id, _ = await _signed_in(runtime, client)
    async with browser(runtime, captcha, ip="198.51.100.23") as other:
        await open_profile_session(runtime, other, profile_id, user_agent=FIREFOX)
        form = await client.get("/profile/security/sessions/delete-all")
        assert form.status_code == 200 and '<strong id="delete-all-words" lang="en">delete all</strong>' in form.text
        assert (await client.post("/profile/security/sessions/delete-all",
                                  data={"confirm_words": "delete all"})).status_code == 403
        for wrong in ("", "delete", "delete everything", "yes"):
            refused = await client.post("/profile/security/sessions/delete-all",
                                        data={"csrf_token": csrf_of(form.text), "confirm_words": wrong})
            assert refused.status_code == 400 and error_of(refused.text).startswith("Type the words shown")
        assert (await other.get("/profile/details")).status_code == 200
        assert (await client.get("/profile/details")).status_code == 200
        done = await client.post("/profile/security/sessions/delete-all",
                                 data={"csrf_token": csrf_of(form.text), "confirm_words": "  Delete   ALL "})
        assert done.status_code == 303 and done.headers["location"] == "/profile?signed_out=1"
        assert any(h.startswith(f"{PROFILE_COOKIE}=;") for h in done.headers.get_list("set-cookie"))
        assert (await other.get("/profile/details")).status_code == 303
    assert (await client.get("/profile/security")).status_code == 303
    [event] = [e for e in await _events(runtime, profile_id) if e.event == "ProfileAllSessionsDeleted"]
    assert event.detail["sessions_ended"] == 2


async def test_delete_all_with_the_chinese_words(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await _signed_in(runtime, client)
    form = await client.get("/profile/security/sessions/delete-all?lang=zh-TW")
    assert '<strong id="delete-all-words" lang="zh-TW">刪除全部</strong>' in form.text
    done = await client.post("/profile/security/sessions/delete-all",
                             data={"csrf_token": csrf_of(form.text), "confirm_words": "刪除全部"})
    assert done.status_code == 303
    assert (await client.get("/profile/details")).status_code == 303


async def _add_totp(client: httpx.AsyncClient, runtime: Runtime, name: str) -> str:
    page = await client.get("/profile/security")
    started = await client.post("/profile/security/mfa/new", data={"csrf_token": csrf_of(page.text)})
    if started.status_code == 403:  # the password again
        assert 'id="reauth-form"' in started.text
        started = await client.post("/profile/security/mfa/new", data={"csrf_token": csrf_of(page.text),
                                                                       "password": PROFILE_PASSWORD})
    assert started.status_code == 303 and started.headers["location"].startswith("/profile/security/mfa/new?flow=")
    enrol = await client.get(started.headers["location"])
    assert 'id="mfa-qr"' in enrol.text
    secret = enrol.text.split('data-secret="')[1].split('"')[0]
    step = totp.step_of(runtime.deps.clock())
    added = await client.post(started.headers["location"], data={
        "csrf_token": csrf_of(enrol.text), "device_name": name, "mfa_code": totp.code_at(secret, step - 1),
        "mfa_code_2": totp.code_at(secret, step)})
    assert added.status_code == 303 and added.headers["location"] == "/profile/security?notice=mfa_added", added.text
    return secret


async def test_mfa_devices_add_rename_and_remove_with_the_last_warning(client: httpx.AsyncClient,
                                                                        runtime: Runtime) -> None:
    profile_id, _ = await _signed_in(runtime, client)
    assert 'id="no-mfa"' in (await client.get("/profile/security")).text
    await _add_totp(client, runtime, "phone")
    async with runtime.deps.store.unit() as uow:
        [device] = await uow.mfa.enabled_for(f"profile:{profile_id}")
    assert device.serial == f"profile:{profile_id}:mfa/1" and device.account_id is None
    page = await client.get("/profile/security?notice=mfa_added")
    assert notice_of(page.text) == "The MFA device was registered."
    assert 'class="mfa-name">phone<' in page.text and "Authenticator app" in page.text

    rename = await client.get(f"/profile/security/mfa/device?serial={device.serial}")
    assert rename.status_code == 200 and 'id="device_label"' in rename.text
    renamed = await client.post("/profile/security/mfa/rename", data={
        "csrf_token": csrf_of(rename.text), "serial": device.serial, "device_label": "Mei's phone"})
    assert renamed.status_code == 303
    assert "Mei&#39;s phone" in (await client.get("/profile/security")).text
    bad = await client.post("/profile/security/mfa/rename", data={
        "csrf_token": csrf_of(rename.text), "serial": device.serial, "device_label": "   "})
    assert bad.status_code == 400
    other = await client.get("/profile/security/mfa/device?serial=profile:pzzzzzzzzzzzzzzzzzzzz:mfa/1")
    assert other.status_code == 404

    removing = await client.post("/profile/security/mfa/remove", data={"csrf_token": csrf_of(rename.text),
                                                                       "serial": device.serial})
    assert removing.status_code == 200 and 'id="last-device-warning"' in removing.text
    async with runtime.deps.store.unit() as uow:
        assert len(await uow.mfa.enabled_for(f"profile:{profile_id}")) == 1
    removed = await client.post("/profile/security/mfa/remove", data={
        "csrf_token": csrf_of(removing.text), "serial": device.serial, "confirm_last": "1"})
    assert removed.status_code == 303 and removed.headers["location"] == "/profile/security?notice=mfa_removed"
    async with runtime.deps.store.unit() as uow:
        assert await uow.mfa.enabled_for(f"profile:{profile_id}") == []
    events = [e.event for e in await _events(runtime, profile_id)]
    for event in ("ProfileEnableMFADevice", "ProfileRenameMFADevice", "ProfileDeactivateMFADevice"):
        assert event in events


async def test_mfa_removal_asks_for_the_password_again(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clock_start = runtime.deps.clock()
    profile_id, _ = await _signed_in(runtime, client)
    await _add_totp(client, runtime, "phone")
    await _add_totp(client, runtime, "tablet")  # second device: the number goes on
    async with runtime.deps.store.unit() as uow:
        serials = sorted(d.serial for d in await uow.mfa.enabled_for(f"profile:{profile_id}"))
    assert serials == [f"profile:{profile_id}:mfa/1", f"profile:{profile_id}:mfa/2"]
    await open_profile_session(runtime, client, profile_id, user_agent=CHROME)  # a new session: not confirmed
    page = await client.get("/profile/security")
    prompt = await client.post("/profile/security/mfa/remove", data={"csrf_token": csrf_of(page.text),
                                                                     "serial": serials[0]})
    assert prompt.status_code == 403 and f'name="serial" value="{serials[0]}"' in prompt.text
    wrong = await client.post("/profile/security/mfa/remove", data={"csrf_token": csrf_of(page.text),
                                                                    "serial": serials[0], "password": "Wrong-1 xx"})
    assert wrong.status_code == 400
    done = await client.post("/profile/security/mfa/remove", data={"csrf_token": csrf_of(page.text),
                                                                   "serial": serials[0], "password": PROFILE_PASSWORD})
    assert done.status_code == 303  # not the last device: no warning
    assert runtime.deps.clock() >= clock_start


async def test_trusted_devices_are_listed_and_revoked(client: httpx.AsyncClient, runtime: Runtime) -> None:
    profile_id, _ = await _signed_in(runtime, client)
    now = runtime.deps.clock()
    async with runtime.deps.store.unit() as uow:
        await uow.profile_trusted_browsers.add(ProfileTrustedBrowser(
            id="t" * 32, profile_id=profile_id, token_hash=hash_token("trust-token"), user_agent_hash="0" * 64,
            network="203.0.113.0/24", label="Chrome / Linux", created_at=now, last_used_at=now,
            expires_at=now + 86400))
    page = await client.get("/profile/security")
    assert "203.0.113.0/24" in page.text and "Chrome / Linux" in page.text
    assert (await client.post("/profile/security/trusted/revoke", data={"trusted": "t" * 32})).status_code == 403
    revoked = await client.post("/profile/security/trusted/revoke", data={"csrf_token": csrf_of(page.text),
                                                                          "trusted": "t" * 32})
    assert revoked.status_code == 303
    after = await client.get(revoked.headers["location"])
    assert 'id="no-trusted"' in after.text and notice_of(after.text).startswith("The trusted device was revoked")
    again = await client.post("/profile/security/trusted/revoke", data={"csrf_token": csrf_of(page.text),
                                                                        "trusted": "t" * 32})
    assert again.status_code == 404
    async with runtime.deps.store.unit() as uow:
        assert await uow.profile_trusted_browsers.of_profile(profile_id, now) == []
        left = (await uow.db.execute(select(MfaDevice))).scalars().all()
    assert left == []


async def test_a_registered_authenticator_is_asked_at_the_next_sign_in(client: httpx.AsyncClient, runtime: Runtime,
                                                                       captcha: CaptchaAnswers) -> None:
    """The device made here is the one the profile sign-in's MFA step checks (no account, the profile's key)."""
    await _signed_in(runtime, client)
    secret = await _add_totp(client, runtime, "phone")
    async with browser(runtime, captcha, ip="198.51.100.23") as other:
        start = await other.get("/profile")
        flow = await other.post("/profile", data={"csrf_token": csrf_of(start.text), "email": PROFILE_EMAIL})
        password = await other.get(flow.headers["location"])
        mfa_step = await other.post(flow.headers["location"], data={
            "csrf_token": csrf_of(password.text), "step": "password", "password": PROFILE_PASSWORD})
        page = await other.get(mfa_step.headers["location"]) if mfa_step.status_code == 303 else mfa_step
        assert 'id="mfa_code"' in page.text
        done = await other.post(flow.headers["location"], data={
            "csrf_token": csrf_of(page.text), "step": "mfa",
            "mfa_code": totp.code_at(secret, totp.step_of(runtime.deps.clock()) + 1)})
        assert done.status_code == 303 and done.headers["location"].startswith("/profile/details")
        assert (await other.get("/profile/security")).status_code == 200


async def test_wrong_passwords_at_the_prompt_bring_the_sign_in_captcha(client: httpx.AsyncClient, runtime: Runtime,
                                                                       captcha: CaptchaAnswers) -> None:
    """Guesses at the prompt count on the profile's sign-in counters: the same CAPTCHA after the same failures."""
    await _signed_in(runtime, client)
    for _ in range(CAPTCHA_AFTER):
        assert (await _confirm_password(client, "Wrong-Password-1")).status_code == 400
    prompt = await client.get("/profile/security/password")
    assert 'name="captcha"' in prompt.text
    missing = await client.post("/profile/security/password", data={"csrf_token": csrf_of(prompt.text),
                                                                      "password": PROFILE_PASSWORD})
    assert missing.status_code == 400 and 'name="captcha"' in missing.text
    solved = await client.post("/profile/security/password", data={
        "csrf_token": csrf_of(missing.text), "password": PROFILE_PASSWORD, "captcha": captcha.latest})
    assert solved.status_code == 303 and solved.headers["location"] == "/profile/security/password"
    assert 'id="new-password-form"' in (await client.get("/profile/security/password")).text
