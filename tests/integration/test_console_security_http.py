"""Console home and Security credentials: account facts, password change, virtual MFA devices."""

from __future__ import annotations

import re

import httpx
import pyotp
import pytest

from http_steps import (
    ROOT_PASSWORD,
    USER_PASSWORD,
    Clock,
    browser,
    error_of,
    make_account,
    make_user,
    notice_of,
    set_policy,
    sign_in_iam,
    sign_in_root,
    sign_out,
    use_clock,
)
from support import CaptchaAnswers, csrf_of
from vestibule.core import identifiers
from vestibule.runtime import Runtime
from vestibule.services.mail import DevMailbox
from vestibule.web.i18n import Translator

t = Translator("en")


async def _open_enrolment(client: httpx.AsyncClient, password: str = ROOT_PASSWORD) -> tuple[str, str, str]:
    """Start adding a device (the password confirmed again); returns (enrolment URL, CSRF token, secret)."""
    security = await client.get("/console/security")
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text), "password": password})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = await client.get(url)
    assert page.status_code == 200
    assert 'src="data:image/png;base64,' in page.text, "a QR code is shown"
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    return url, csrf_of(page.text), secret.group(1)


async def _add_device(client: httpx.AsyncClient, clock: Clock, name: str) -> httpx.Response:
    url, csrf, secret = await _open_enrolment(client)
    totp = pyotp.TOTP(secret)
    first = totp.at(clock.now)
    clock.advance(30)
    return await client.post(url, data={"csrf_token": csrf, "device_name": name, "mfa_code": first,
                                        "mfa_code_2": totp.at(clock.now)})


async def test_console_shows_account_alias_and_arn(client: httpx.AsyncClient, runtime: Runtime,
                                                   mailbox: DevMailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identifiers, "new_account_id", lambda: "111122223333")
    assert await make_account(runtime) == "111122223333"
    await make_user(runtime, "111122223333", "alice")
    await sign_in_root(client, mailbox)
    home = await client.get("/console")
    assert 'id="account-id">1111-2222-3333<' in home.text
    assert 'id="account-alias">acme<' in home.text
    assert "<code>arn:aws:iam::111122223333:root</code>" in home.text
    assert 'id="session-ends"' in home.text and "15 minutes" in home.text
    await sign_out(client)
    await sign_in_iam(client)
    home = await client.get("/console")
    assert 'id="account-id">1111-2222-3333<' in home.text
    assert "<code>arn:aws:iam::111122223333:user/alice</code>" in home.text
    assert 'id="signin-url">http://testserver/acme/console<' in home.text
    assert "60 minutes" in home.text


async def test_change_password_needs_current_and_ends_other_sessions(runtime: Runtime, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.1") as here, \
            browser(runtime, CaptchaAnswers(), ip="198.51.100.2") as elsewhere:
        await sign_in_root(here, mailbox)
        await sign_in_root(elsewhere, mailbox)
        security = await here.get("/console/security")
        csrf = csrf_of(security.text)

        r = await here.post("/console/password", data={"csrf_token": csrf, "password": "not my password",
                                                       "new_password": "new root pw 22",
                                                       "confirm_password": "new root pw 22"})
        assert r.status_code != 303 and error_of(r.text) == t("signin.invalid_credentials")
        r = await here.post("/console/password", data={"csrf_token": csrf, "password": ROOT_PASSWORD,
                                                       "new_password": "short", "confirm_password": "short"})
        assert r.status_code == 400 and t("password.too_short") in error_of(r.text)
        r = await here.post("/console/password", data={"csrf_token": csrf, "password": ROOT_PASSWORD,
                                                       "new_password": "new root pw 22",
                                                       "confirm_password": "new root pw 23"})
        assert r.status_code == 400 and error_of(r.text) == t("password.mismatch")
        assert (await elsewhere.get("/console")).status_code == 200, "failed changes end nothing"

        r = await here.post("/console/password", data={"csrf_token": csrf, "password": ROOT_PASSWORD,
                                                       "new_password": "new root pw 22",
                                                       "confirm_password": "new root pw 22"})
        assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=password.changed"
        page = await here.get(r.headers["location"])
        assert notice_of(page.text) == t("notice.password.changed")
        assert (await here.get("/console")).status_code == 200, "the current session stays"
        r = await elsewhere.get("/console")
        assert r.status_code == 303 and r.headers["location"] == "/", "other sessions end"
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.3") as fresh:
        await sign_in_root(fresh, mailbox, password="new root pw 22")


async def test_iam_change_password_follows_the_account_policy(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await set_policy(runtime, "acme", minimum_length=14, require_symbols=True)
    await sign_in_iam(client)
    csrf = csrf_of((await client.get("/console/security")).text)
    r = await client.post("/console/password", data={
        "csrf_token": csrf, "password": USER_PASSWORD, "new_password": "only twelve!",
        "confirm_password": "only twelve!"})
    assert r.status_code == 400 and error_of(r.text) == t("password.too_short")
    r = await client.post("/console/password", data={"csrf_token": csrf, "password": USER_PASSWORD,
                                                     "new_password": "long enough but no symbol",
                                                     "confirm_password": "long enough but no symbol"})
    assert r.status_code == 400 and error_of(r.text) == t("password.needs_symbol")
    r = await client.post("/console/password", data={"csrf_token": csrf, "password": USER_PASSWORD,
                                                     "new_password": "long enough & symbol!",
                                                     "confirm_password": "long enough & symbol!"})
    assert r.status_code == 303


async def test_iam_user_cannot_change_password_when_policy_forbids(client: httpx.AsyncClient,
                                                                   runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await set_policy(runtime, "acme", allow_users_to_change=False)
    await sign_in_iam(client)
    csrf = csrf_of((await client.get("/console/security")).text)
    r = await client.post("/console/password", data={"csrf_token": csrf, "password": USER_PASSWORD,
                                                     "new_password": "another password 5",
                                                     "confirm_password": "another password 5"})
    assert r.status_code != 303 and error_of(r.text) == t("password.change_not_allowed")


async def test_add_mfa_device_with_two_consecutive_codes(client: httpx.AsyncClient, runtime: Runtime,
                                                         mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    security = await client.get("/console/security")
    assert 'id="no-mfa"' in security.text

    url, csrf, secret = await _open_enrolment(client)
    totp = pyotp.TOTP(secret)
    now_code = totp.at(clock.now)
    # the same code twice, or codes that are not consecutive, are refused
    r = await client.post(url, data={"csrf_token": csrf, "device_name": "phone", "mfa_code": now_code,
                                     "mfa_code_2": now_code})
    assert r.status_code == 400 and error_of(r.text) == t("signin.invalid_code")
    r = await client.post(url, data={"csrf_token": csrf, "device_name": "phone", "mfa_code": now_code,
                                     "mfa_code_2": totp.at(clock.now + 60)})
    assert r.status_code == 400
    r = await client.post(url, data={"csrf_token": csrf, "device_name": "bad name!", "mfa_code": now_code,
                                     "mfa_code_2": totp.at(clock.now + 30)})
    assert r.status_code == 400 and error_of(r.text) == t("input.invalid.device_name")
    clock.advance(30)
    r = await client.post(url, data={"csrf_token": csrf, "device_name": "phone", "mfa_code": now_code,
                                     "mfa_code_2": totp.at(clock.now)})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.added"
    security = await client.get(r.headers["location"])
    assert notice_of(security.text) == t("notice.mfa.added")
    assert f"arn:aws:iam::{account_id}:mfa/phone" in security.text
    # the enrolment flow is finished
    r = await client.post(url, data={"csrf_token": csrf, "device_name": "phone2", "mfa_code": now_code,
                                     "mfa_code_2": totp.at(clock.now)})
    assert r.status_code in {400, 410}
    # a second device cannot reuse the name
    r = await _add_device(client, clock, "phone")
    assert r.status_code == 400 and error_of(r.text) == t("input.exists.device_name")


async def test_enrolment_belongs_to_its_browser_and_user(client: httpx.AsyncClient, runtime: Runtime,
                                                         mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_root(client, mailbox)
    url, _, secret = await _open_enrolment(client)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.9") as other:
        await sign_in_iam(other)
        r = await other.get(url)
        assert r.status_code != 200 and secret not in r.text


async def test_at_most_eight_devices_and_removal_needs_the_password(client: httpx.AsyncClient, runtime: Runtime,
                                                                    mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    for n in range(8):
        r = await _add_device(client, clock, f"device-{n}")
        assert r.status_code == 303, n
    security = await client.get("/console/security")
    assert "(8/8)" in security.text and 'id="add-mfa"' not in security.text
    assert 'id="mfa-limit"' in security.text, "the limit says what to do instead of a missing button"
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text)})
    assert r.status_code == 400 and error_of(r.text) == t("mfa_devices.limit_reached", max=8)

    serial = f"arn:aws:iam::{account_id}:mfa/device-3"
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf_of(security.text), "serial": serial,
                                                       "password": "not the password"})
    assert r.status_code == 400 and error_of(r.text) == t("reauth.wrong_password")
    assert serial in (await client.get("/console/security")).text
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf_of(security.text), "serial": serial,
                                                       "password": ROOT_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.removed"
    security = await client.get("/console/security")
    assert serial not in security.text and "(7/8)" in security.text and 'id="add-mfa"' in security.text
    r = await _add_device(client, clock, "device-8")
    assert r.status_code == 303


async def test_cannot_remove_another_users_device(client: httpx.AsyncClient, runtime: Runtime,
                                                  mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    await sign_in_root(client, mailbox)
    assert (await _add_device(client, clock, "rootphone")).status_code == 303
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.10") as other:
        await sign_in_iam(other)
        csrf = csrf_of((await other.get("/console/security")).text)
        r = await other.post("/console/mfa/remove", data={"csrf_token": csrf,
                                                          "serial": f"arn:aws:iam::{account_id}:mfa/rootphone",
                                                          "password": USER_PASSWORD})
        assert r.status_code == 400
    assert "mfa/rootphone" in (await client.get("/console/security")).text
