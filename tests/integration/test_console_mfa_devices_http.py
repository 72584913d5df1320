"""MFA devices on the console's Security credentials page: name, added and last used (set by each accepted code),
rename, resync with two consecutive codes (the ResyncMFADevice use case: same counters, same audit), the warning
before the last device is removed, and the guidance at the device limit."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import quote

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
    post_step,
    root_password,
    sign_in_iam,
    sign_in_root,
    sign_out,
    use_clock,
)
from support import CaptchaAnswers, csrf_of
from vestibule.core import totp
from vestibule.core.identifiers import mfa_arn
from vestibule.runtime import Runtime
from vestibule.services import mfa
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox
from vestibule.store.models import AuditEvent, MfaDevice
from vestibule.web.i18n import Translator

t = Translator("en")
zh = Translator("zh-TW")
ADDED_AT = 1_700_000_000.0


async def _give_device(runtime: Runtime, account_id: str, principal_key: str, name: str) -> tuple[str, str]:
    """A device the principal holds (added by an administrator, not used yet): (serial, secret)."""
    serial, secret = mfa_arn(account_id, name), totp.new_secret()
    async with runtime.deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=principal_key, name=name, serial=serial,
                                    secret_sealed=mfa.seal_secret(runtime.deps, serial, secret),
                                    enabled_at=ADDED_AT, last_used_step=None, created_at=ADDED_AT))
    return serial, secret


async def _device(runtime: Runtime, serial: str) -> MfaDevice:
    async with runtime.deps.store.unit() as uow:
        device = await uow.mfa.by_serial(serial)
    assert device is not None
    return device


async def _events(runtime: Runtime, account_id: str, name: str) -> list[AuditEvent]:
    async with runtime.deps.store.unit() as uow:
        return [e for e in await uow.audit.for_account(account_id) if e.event == name]


def _row(page: str, serial: str) -> str:
    match = re.search(rf'<tr class="mfa-device" data-serial="{re.escape(serial)}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row for {serial}"
    return match.group(1)


def _cell(row: str, cls: str) -> str:
    match = re.search(rf'<td class="{cls}">(.*?)</td>', row, re.DOTALL)
    assert match
    return html.unescape(match.group(1)).strip()


async def _sign_in_root_with_code(client: httpx.AsyncClient, code: str) -> httpx.Response:
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    return await post_step(client, flow_url, "mfa", mfa_code=code)


async def _root_with_device(client: httpx.AsyncClient, runtime: Runtime, clock: Clock,
                            name: str = "phone") -> tuple[str, str, pyotp.TOTP]:
    """A root user holding one device, signed in with it: (account ID, serial, the device's TOTP)."""
    account_id = await make_account(runtime)
    serial, secret = await _give_device(runtime, account_id, f"root:{account_id}", name)
    device = pyotp.TOTP(secret)
    r = await _sign_in_root_with_code(client, device.at(clock.now))
    assert r.status_code == 303 and r.headers["location"] == "/console"
    return account_id, serial, device


async def test_each_device_shows_when_it_was_added_and_last_used(client: httpx.AsyncClient, runtime: Runtime,
                                                                 mailbox: DevMailbox) -> None:
    clock = use_clock(runtime, 1_800_000_000.0)
    account_id = await make_account(runtime)
    serial, secret = await _give_device(runtime, account_id, f"root:{account_id}", "phone")
    spare, _ = await _give_device(runtime, account_id, f"root:{account_id}", "spare")

    flow_url, _ = await root_password(client)
    good = pyotp.TOTP(secret).at(clock.now)
    r = await post_step(client, flow_url, "mfa", mfa_code=f"{(int(good) + 1) % 1000000:06d}")
    assert r.status_code != 303
    assert (await _device(runtime, serial)).last_used_at is None, "a refused code is no use"
    clock.advance(90)
    r = await post_step(client, flow_url, "mfa", mfa_code=pyotp.TOTP(secret).at(clock.now))
    assert r.status_code == 303 and r.headers["location"] == "/console"

    page = (await client.get("/console/security")).text
    row = _row(page, serial)
    assert _cell(row, "mfa-added") == _utc(ADDED_AT)
    assert _cell(row, "mfa-last-used") == _utc(clock.now) == "2027-01-15 08:01 UTC"
    assert _cell(_row(page, spare), "mfa-last-used") == t("mfa_devices.never_used")
    assert f'href="/console/mfa/device?serial={quote(serial, safe="/")}"' in row
    assert (await _device(runtime, serial)).last_used_at == clock.now

    # an STS call with the device's code is a use too (the same one TOTP check)
    clock.advance(60)
    attempt = mfa.CodeAttempt(f"root:{account_id}", _client(), account_id, f"arn:aws:iam::{account_id}:root",
                              "GetSessionToken", "api")
    assert await mfa.verify_device_code(runtime.deps, await _device(runtime, serial),
                                        pyotp.TOTP(secret).at(clock.now), attempt)
    assert (await _device(runtime, serial)).last_used_at == clock.now

    # the device's page says the same, in both languages
    device_page = await client.get(f"/console/mfa/device?serial={quote(serial, safe='')}")
    assert device_page.status_code == 200
    assert f'id="device-added">{_utc(ADDED_AT)}<' in device_page.text
    assert f'id="device-last-used">{_utc(clock.now)}<' in device_page.text
    zh_page = await client.get(f"/console/mfa/device?serial={quote(spare, safe='')}",
                               headers={"Accept-Language": "zh-TW"})
    assert zh("mfa_devices.last_used") in zh_page.text and zh("mfa_devices.never_used") in zh_page.text


def _client() -> Client:
    return Client(ip="203.0.113.7", user_agent="test")


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def test_rename_asks_for_the_password_and_keeps_the_serial(client: httpx.AsyncClient, runtime: Runtime,
                                                                 mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, serial, _ = await _root_with_device(client, runtime, clock)
    csrf = csrf_of((await client.get("/console/security")).text)

    # no recent password: the prompt, carrying the new name through
    r = await client.post("/console/mfa/rename", data={"csrf_token": csrf, "serial": serial,
                                                       "device_label": "Work phone"})
    assert r.status_code == 403 and 'id="reauth-form"' in r.text
    assert 'name="device_label" value="Work phone"' in r.text
    r = await client.post("/console/mfa/rename", data={"csrf_token": csrf, "serial": serial,
                                                       "device_label": "Work phone", "password": "wrong one"})
    assert r.status_code == 400 and error_of(r.text) == t("reauth.wrong_password")
    assert (await _device(runtime, serial)).label is None

    # names the rule refuses, each with the page again
    for bad in ("", "   ", "x" * 65, "tab\there", "bidi\u202eevil"):
        r = await client.post("/console/mfa/rename", data={"csrf_token": csrf, "serial": serial,
                                                           "device_label": bad, "password": ROOT_PASSWORD})
        assert r.status_code == 400, repr(bad)
        assert error_of(r.text) == t("input.invalid.device_label"), repr(bad)
    assert (await _device(runtime, serial)).label is None

    # any script, spaces inside, markup shown as text
    r = await client.post("/console/mfa/rename", data={"csrf_token": csrf, "serial": serial,
                                                       "device_label": "  我的 <b>手機</b>  "})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.renamed"
    page = (await client.get(r.headers["location"])).text
    assert notice_of(page) == t("notice.mfa.renamed")
    assert "我的 &lt;b&gt;手機&lt;/b&gt;" in _row(page, serial) and "<b>手機" not in page
    device = await _device(runtime, serial)
    assert device.label == "我的 <b>手機</b>" and device.serial == serial and device.name == "phone"
    [event] = await _events(runtime, account_id, "RenameMFADevice")
    assert event.result == "Success" and event.method == "console"
    assert event.detail["serial"] == serial and event.detail["previous_name"] == "phone"

    # the API still names it by its serial
    async with runtime.deps.store.unit() as uow:
        assert [d.serial for d in await uow.mfa.enabled_for(f"root:{account_id}")] == [serial]


async def test_only_the_owner_sees_or_changes_a_device(client: httpx.AsyncClient, runtime: Runtime,
                                                       mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, serial, device = await _root_with_device(client, runtime, clock)
    await make_user(runtime, "acme", "alice")
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.30") as other:
        await sign_in_iam(other)
        csrf = csrf_of((await other.get("/console/security")).text)
        r = await other.get(f"/console/mfa/device?serial={quote(serial, safe='')}")
        assert r.status_code == 404 and serial not in r.text
        assert (await other.get("/console/mfa/device?serial=")).status_code == 404
        r = await other.post("/console/mfa/rename", data={"csrf_token": csrf, "serial": serial,
                                                          "device_label": "mine now", "password": USER_PASSWORD})
        assert r.status_code == 404
        clock.advance(30)
        r = await other.post("/console/mfa/resync", data={
            "csrf_token": csrf, "serial": serial, "mfa_code": device.at(clock.now - 30),
            "mfa_code_2": device.at(clock.now)})
        assert r.status_code == 404
    # the owner's own forms without a CSRF token, or posted from another site: refused before anything
    own_csrf = csrf_of((await client.get("/console/security")).text)
    forms = {"/console/mfa/rename": {"serial": serial, "device_label": "x", "password": ROOT_PASSWORD},
             "/console/mfa/resync": {"serial": serial, "mfa_code": "123456", "mfa_code_2": "654321",
                                     "password": ROOT_PASSWORD},
             "/console/mfa/remove": {"serial": serial, "confirm_last": "1", "password": ROOT_PASSWORD}}
    for path, fields in forms.items():
        assert (await client.post(path, data=fields)).status_code == 403, path
        r = await client.post(path, data={"csrf_token": own_csrf, **fields}, headers={"origin": "https://evil.example"})
        assert r.status_code == 403, path
    assert await _events(runtime, account_id, "ResyncMFADevice") == []
    assert (await _device(runtime, serial)).label is None
    # signed out: the sign-in page
    await sign_out(client)
    r = await client.get(f"/console/mfa/device?serial={quote(serial, safe='')}")
    assert r.status_code == 303


async def test_resync_takes_two_consecutive_codes_through_the_api_use_case(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, serial, device = await _root_with_device(client, runtime, clock)
    url = f"/console/mfa/device?serial={quote(serial, safe='')}"
    page = await client.get(url)
    assert 'id="resync-password"' in page.text, "not confirmed yet: the form asks for the password itself"
    csrf = csrf_of(page.text)

    clock.advance(30)
    wrong = {"csrf_token": csrf, "serial": serial, "mfa_code": device.at(clock.now),
             "mfa_code_2": device.at(clock.now), "password": ROOT_PASSWORD}
    r = await client.post("/console/mfa/resync", data=wrong)
    assert r.status_code == 400 and error_of(r.text) == t("mfa_devices.resync_failed")
    assert 'id="resync-password"' not in r.text, "the password was confirmed: not asked again"
    failures = await _events(runtime, account_id, "ResyncMFADevice")
    assert [(e.result, e.method) for e in failures] == [("Failure", "console")]

    clock.advance(30)
    r = await client.post("/console/mfa/resync", data={"csrf_token": csrf, "serial": serial,
                                                       "mfa_code": device.at(clock.now - 30),
                                                       "mfa_code_2": device.at(clock.now)})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.resynced"
    assert notice_of((await client.get(r.headers["location"])).text) == t("notice.mfa.resynced")
    resynced = await _device(runtime, serial)
    assert resynced.last_used_step == int(clock.now // 30) and resynced.last_used_at == clock.now
    events = await _events(runtime, account_id, "ResyncMFADevice")
    assert [(e.result, e.method) for e in events] == [("Failure", "console"), ("Success", "console")]
    assert events[-1].detail["serial"] == serial

    # the code of the resync's step cannot sign in afterwards (used once per step)
    await sign_out(client)
    flow_url, _ = await root_password(client)
    r = await post_step(client, flow_url, "mfa", mfa_code=device.at(clock.now))
    assert r.status_code != 303


async def test_resync_records_a_drifting_clock_so_its_codes_sign_in(client: httpx.AsyncClient, runtime: Runtime,
                                                                     mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, serial, device = await _root_with_device(client, runtime, clock)
    fast = 180  # the device's clock runs three minutes ahead
    clock.advance(30)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.40") as other:
        flow_url, _ = await root_password(other)
        r = await post_step(other, flow_url, "mfa", mfa_code=device.at(clock.now + fast))
        assert r.status_code != 303, "three minutes off: outside the sign-in window"

        # resync from the console session still open
        csrf = csrf_of((await client.get("/console/security")).text)
        r = await client.post("/console/mfa/resync", data={
            "csrf_token": csrf, "serial": serial, "mfa_code": device.at(clock.now + fast - 30),
            "mfa_code_2": device.at(clock.now + fast), "password": ROOT_PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.resynced"
        assert (await _device(runtime, serial)).drift_steps == fast // 30
        [event] = [e for e in await _events(runtime, account_id, "ResyncMFADevice") if e.result == "Success"]
        assert event.method == "console"

        # the device's own codes now sign in; its resync code again and the true time's code do not
        clock.advance(30)
        r = await post_step(other, flow_url, "mfa", mfa_code=device.at(clock.now - 30 + fast))
        assert r.status_code != 303, "the resync's second code is used"
        r = await post_step(other, flow_url, "mfa", mfa_code=device.at(clock.now))
        assert r.status_code != 303, "the true time is outside the device's window now"
        r = await post_step(other, flow_url, "mfa", mfa_code=device.at(clock.now + fast))
        assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_resync_is_throttled_with_the_devices_other_codes(client: httpx.AsyncClient, runtime: Runtime,
                                                                mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    _, serial, device = await _root_with_device(client, runtime, clock)
    csrf = csrf_of((await client.get("/console/security")).text)
    clock.advance(30)
    statuses = []
    for _ in range(6):
        r = await client.post("/console/mfa/resync", data={"csrf_token": csrf, "serial": serial, "mfa_code": "123456",
                                                           "mfa_code_2": "654321", "password": ROOT_PASSWORD})
        statuses.append(r.status_code)
    assert statuses[:5] == [400] * 5 and statuses[5] == 429, statuses
    # the right pair is refused too while the counters say wait
    r = await client.post("/console/mfa/resync", data={"csrf_token": csrf, "serial": serial,
                                                       "mfa_code": device.at(clock.now - 30),
                                                       "mfa_code_2": device.at(clock.now)})
    assert r.status_code == 429
    assert (await _device(runtime, serial)).last_used_step == int((clock.now - 30) // 30), "unchanged"


@pytest.mark.parametrize("kind", ["root", "iam"])
async def test_removing_the_last_device_warns_first(kind: str, client: httpx.AsyncClient, runtime: Runtime,
                                                    mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    if kind == "root":
        key, password = f"root:{account_id}", ROOT_PASSWORD
        await sign_in_root(client, mailbox)
    else:
        key, password = f"user:{await make_user(runtime, 'acme', 'alice')}", USER_PASSWORD
        await sign_in_iam(client)
    first, _ = await _give_device(runtime, account_id, key, "first")
    second, _ = await _give_device(runtime, account_id, key, "second")
    page = await client.get("/console/security")
    assert 'id="mfa-replace-hint"' in page.text
    csrf = csrf_of(page.text)

    # one of two: removed at once
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf, "serial": first, "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.removed"
    # the last one: the warning, and nothing removed
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf, "serial": second})
    assert r.status_code == 200 and 'id="last-device-warning"' in r.text
    warning = html.unescape(r.text)
    assert t("mfa_devices.last_text", name="second") in warning
    assert t("mfa_devices.last_root" if kind == "root" else "mfa_devices.last_iam") in warning
    assert t("mfa_devices.last_iam" if kind == "root" else "mfa_devices.last_root") not in warning
    assert 'name="confirm_last" value="1"' in r.text and 'id="keep-device" ' in r.text
    async with runtime.deps.store.unit() as uow:
        assert [d.serial for d in await uow.mfa.enabled_for(key)] == [second]

    # confirmed after the password went stale: the prompt carries the confirmation through
    clock.advance(301)
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf_of(r.text), "serial": second,
                                                       "confirm_last": "1"})
    assert r.status_code == 403 and 'name="confirm_last" value="1"' in r.text
    r = await client.post("/console/mfa/remove", data={"csrf_token": csrf, "serial": second, "confirm_last": "1",
                                                       "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.removed"
    page = await client.get("/console/security")
    assert 'id="no-mfa"' in page.text
    removed = await _events(runtime, account_id, "DeactivateMFADevice")
    assert [e.detail["serial"] for e in removed] == [first, second]


async def test_the_device_limit_says_what_to_do(client: httpx.AsyncClient, runtime: Runtime,
                                                mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    for n in range(mfa.MAX_DEVICES_PER_PRINCIPAL):
        await _give_device(runtime, account_id, f"root:{account_id}", f"device-{n}")
    page = await client.get("/console/security")
    assert "(8/8)" in page.text and 'id="add-mfa"' not in page.text and 'id="mfa-replace-hint"' not in page.text
    limit = re.search(r'<p class="hint" id="mfa-limit">(.*?)</p>', page.text, re.DOTALL)
    assert limit and html.unescape(limit.group(1)) == t("mfa_devices.limit_reached", max=8)
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
    assert r.status_code == 400 and error_of(r.text) == t("mfa_devices.limit_reached", max=8)
    zh_page = await client.get("/console/security", headers={"Accept-Language": "zh-TW"})
    assert zh("mfa_devices.limit_reached", max=8) in html.unescape(zh_page.text)
