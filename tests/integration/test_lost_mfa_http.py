"""Lost root MFA through the pages: recovery codes (issued with the first device, shown once, regenerated after
re-authentication, gone with the last device), "Trouble signing in?" (the mailed link AND a recovery code, in
one browser), the notice, the new-device prompt, throttling, and the IAM user's guidance."""

from __future__ import annotations

import html
import re

import httpx
import pyotp

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    USER_PASSWORD,
    Clock,
    browser,
    error_of,
    iam_password,
    make_account,
    make_user,
    root_password,
    sign_in_root,
    sign_out,
    use_clock,
)
from support import CaptchaAnswers, csrf_of
from vestibule.core import recovery_codes as codes
from vestibule.core.principals import PrincipalRef
from vestibule.core.tokens import hash_token
from vestibule.runtime import Runtime
from vestibule.services import accounts, iam_users
from vestibule.services.mail import DevMailbox
from vestibule.store.models import RecoveryCode
from vestibule.web.i18n import Translator

t = Translator("en")
_CODE = re.compile(r'<code class="recovery-code">([A-Z2-7-]+)</code>')
_LINK = re.compile(r"(http://testserver/signin/recover/link\?flow=[\w-]+&token=[\w-]+)")


async def _add_device(client: httpx.AsyncClient, clock: Clock, name: str = "phone") -> str:
    """A virtual MFA device added in the console (password confirmed again); its secret. Moves the clock 30 s."""
    security = await client.get("/console/security")
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text), "password": ROOT_PASSWORD})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = await client.get(url)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    first = totp.at(clock.now)
    clock.advance(30)
    r = await client.post(url, data={"csrf_token": csrf_of(page.text), "device_name": name, "mfa_code": first,
                                     "mfa_code_2": totp.at(clock.now)})
    assert r.status_code == 303 and r.headers["location"] == "/console/security?notice=mfa.added", r.text
    return secret.group(1)


async def _root_with_codes(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox,
                           clock: Clock) -> tuple[str, list[str]]:
    """An account whose root user has one MFA device; the account ID and the recovery codes shown once."""
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    await _add_device(client, clock)
    page = await client.get("/console/security?notice=mfa.added")
    shown = _CODE.findall(page.text)
    assert len(shown) == 10
    await sign_out(client)
    clock.advance(60)
    return account_id, shown


async def _at_mfa_step(client: httpx.AsyncClient) -> str:
    flow_url, r = await root_password(client)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    page = await client.get(flow_url)
    assert 'name="mfa_code"' in page.text
    return flow_url


async def _ask_link(client: httpx.AsyncClient, mailbox: DevMailbox) -> tuple[str, str]:
    """From the MFA step: "Trouble signing in?", then the link mailed; (the sent page's URL, the link)."""
    flow_url = await _at_mfa_step(client)
    page = await client.get(flow_url)
    match = re.search(r'href="(/signin/recover\?flow=[\w-]+)"', page.text)
    assert match, "the root user's MFA page offers the way without the device"
    trouble = await client.get(html.unescape(match.group(1)))
    assert trouble.status_code == 200 and 'id="send-recovery-link"' in trouble.text
    flow_id = re.search(r'name="flow" value="([\w-]+)"', trouble.text)
    assert flow_id
    sent = len(mailbox.messages)
    r = await client.post("/signin/recover", data={"csrf_token": csrf_of(trouble.text), "flow": flow_id.group(1)})
    assert r.status_code == 303 and r.headers["location"].startswith("/signin/recover/sent?flow="), r.text
    assert len(mailbox.messages) == sent + 1 and mailbox.messages[-1].to == ROOT_EMAIL
    return r.headers["location"], _link_in(mailbox)


def _link_in(mailbox: DevMailbox) -> str:
    match = _LINK.search(mailbox.messages[-1].body)
    assert match, mailbox.messages[-1].body
    return match.group(1).removeprefix("http://testserver")


async def _submit(client: httpx.AsyncClient, link: str, code: str) -> httpx.Response:
    page = await client.get(link)
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([\w-]+)"', page.text)
    assert token
    return await client.post(link.split("&token=")[0], data={
        "csrf_token": csrf_of(page.text), "token": token.group(1), "recovery_code": code})


async def _events(runtime: Runtime, account_id: str, name: str) -> list[dict[str, object]]:
    async with runtime.deps.store.unit() as uow:
        return [{"result": e.result, "method": e.method, **(e.detail or {})}
                for e in await uow.audit.for_account(account_id) if e.event == name]


async def test_first_device_issues_ten_codes_shown_once_and_stored_hashed(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    security = await client.get("/console/security")
    assert 'id="codes-none"' in security.text and 'id="regenerate-codes"' not in security.text
    await _add_device(client, clock)
    page = await client.get("/console/security?notice=mfa.added")
    shown = _CODE.findall(page.text)
    assert len(shown) == 10 and len(set(shown)) == 10
    assert all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", c) for c in shown)
    assert 'id="download-codes"' in page.text and "t('recovery_mfa" not in page.text
    assert t("recovery_mfa.codes_left", count=10) in page.text
    again = await client.get("/console/security")
    assert _CODE.findall(again.text) == [], "shown once"
    async with runtime.deps.store.unit() as uow:
        rows = (await uow.db.execute(RecoveryCode.__table__.select())).all()
    stored = {r.code_hash for r in rows}
    assert stored == {hash_token(c.replace("-", "")) for c in shown}
    assert not any(c in str(rows) or c.replace("-", "") in str(rows) for c in shown), "only hashes are stored"
    assert (await _events(runtime, account_id, "RecoveryCodesIssued"))[0]["count"] == 10

    await _add_device(client, clock, "backup")  # a second device: no new codes
    assert _CODE.findall((await client.get("/console/security")).text) == []
    async with runtime.deps.store.unit() as uow:
        assert await uow.recovery_codes.unused(PrincipalRef.root(account_id).key) == 10


async def test_codes_shown_once_only_in_the_browser_of_the_session(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    await _add_device(client, clock)
    cookie = client.cookies.get("vestibule_session")
    assert cookie
    async with browser(runtime, CaptchaAnswers()) as other:  # the session cookie copied to another browser
        other.cookies.set("vestibule_session", cookie)
        page = await other.get("/console/security")
        assert page.status_code == 200 and _CODE.findall(page.text) == []
    assert len(_CODE.findall((await client.get("/console/security")).text)) == 10


async def test_recovery_with_the_mailed_link_and_a_code(client: httpx.AsyncClient, runtime: Runtime,
                                                        mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, shown = await _root_with_codes(client, runtime, mailbox, clock)
    sent_url, link = await _ask_link(client, mailbox)
    sent = await client.get(sent_url)
    assert sent.status_code == 200 and 'id="recovery-mfa-sent"' in sent.text
    assert (await client.get("/console")).status_code == 303, "the link alone signs nobody in"
    assert mailbox.messages[-1].subject == "Sign in to Vestibule without your MFA device"
    assert f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}" in mailbox.messages[-1].body

    page = await client.get(link)
    assert page.status_code == 200 and 'name="recovery_code"' in page.text
    assert "o***@example.com" in page.text
    assert page.headers["referrer-policy"] == "no-referrer", "the token is in this page's URL"

    r = await _submit(client, link, "AAAA-AAAA-AAAA-AAAA")
    assert r.status_code == 400 and error_of(r.text) == t("recovery_mfa.invalid_code")
    assert (await client.get("/console")).status_code == 303
    r = await _submit(client, link, "")
    assert r.status_code == 400 and (await client.get("/console")).status_code == 303

    typed = shown[0].lower().replace("-", " ")  # case and separators do not matter
    notices = len(mailbox.messages)
    r = await _submit(client, link, typed)
    assert r.status_code == 303 and r.headers["location"] == "/console/mfa/recovered", r.text
    prompt = await client.get("/console/mfa/recovered")
    assert prompt.status_code == 200 and 'id="recovered-banner"' in prompt.text
    assert 'id="register-new-device"' in prompt.text and t("recovery_mfa.codes_left", count=9) in prompt.text
    assert ":mfa/phone" in prompt.text, "the lost device is named, to be removed"
    home = await client.get("/console")
    assert home.status_code == 200 and "Signed in with MFA</dt><dd>No" in home.text

    assert len(mailbox.messages) == notices + 1
    notice = mailbox.messages[-1]
    assert notice.to == ROOT_EMAIL and "without MFA" in notice.subject and "203.0.113.7" in notice.body
    assert "9 unused recovery codes" in notice.body
    assert shown[0] not in notice.body
    recovered = await _events(runtime, account_id, "MfaRecoverySignIn")
    assert recovered == [{"result": "Success", "method": "password+link+recovery_code", "codes_left": 9}]
    logins = [e for e in await _events(runtime, account_id, "ConsoleLogin") if e["result"] == "Success"]
    assert logins[-1]["method"] == "password+link+recovery_code"
    failures = [e for e in await _events(runtime, account_id, "ConsoleLogin") if e["method"] == "recovery_code"]
    assert len(failures) == 2 and all(e["result"] == "Failure" for e in failures)

    # The link is spent with the sign-in, and the code cannot be used again in a new recovery.
    await sign_out(client)
    r = await client.get(link)  # (the browser's ID changed at sign-in: it reads as another browser's link too)
    assert r.status_code in (400, 410) and 'name="recovery_code"' not in r.text
    clock.advance(60)
    _, link2 = await _ask_link(client, mailbox)
    r = await _submit(client, link2, shown[0])
    assert r.status_code == 400 and error_of(r.text) == t("recovery_mfa.invalid_code"), "a used code is refused"
    r = await _submit(client, link2, shown[1])
    assert r.status_code == 303 and r.headers["location"] == "/console/mfa/recovered"


async def test_a_code_without_the_link_is_not_enough(client: httpx.AsyncClient, runtime: Runtime,
                                                     mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await _root_with_codes(client, runtime, mailbox, clock)
    sent_url, link = await _ask_link(client, mailbox)
    flow_id = sent_url.split("flow=")[1]
    page = await client.get(sent_url)
    for token in ("", "not-the-token", link.split("token=")[1][:-1] + "x"):
        r = await client.post(f"/signin/recover/link?flow={flow_id}", data={
            "csrf_token": csrf_of(page.text), "token": token, "recovery_code": "ABCD-EFGH-IJKL-MNOP"})
        assert r.status_code == 410 and t("recovery_mfa.link_invalid") in html.unescape(r.text), token
    assert (await client.get("/console")).status_code == 303
    r = await client.get(f"/signin/recover/link?flow={flow_id}&token=wrong")
    assert r.status_code == 410


async def test_expired_link(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    _, shown = await _root_with_codes(client, runtime, mailbox, clock)
    _, link = await _ask_link(client, mailbox)
    clock.advance(3600 + 1)
    r = await client.get(link)
    assert r.status_code == 410
    page = await client.get("/")
    r = await client.post(link.split("&token=")[0], data={
        "csrf_token": csrf_of(page.text), "token": link.split("token=")[1], "recovery_code": shown[0]})
    assert r.status_code == 410 and (await client.get("/console")).status_code == 303


async def test_link_opened_in_another_browser(client: httpx.AsyncClient, runtime: Runtime,
                                              mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    _, shown = await _root_with_codes(client, runtime, mailbox, clock)
    _, link = await _ask_link(client, mailbox)
    async with browser(runtime, CaptchaAnswers()) as other:
        r = await other.get(link)
        assert r.status_code == 400 and t("recovery_mfa.wrong_browser") in html.unescape(r.text)
        assert 'name="recovery_code"' not in r.text
        start = await other.get("/")
        r = await other.post(link.split("&token=")[0], data={
            "csrf_token": csrf_of(start.text), "token": link.split("token=")[1], "recovery_code": shown[0]})
        assert r.status_code == 400 and (await other.get("/console")).status_code == 303
    r = await _submit(client, link, shown[0])  # still usable in the browser that started it
    assert r.status_code == 303


async def test_resend_replaces_the_link(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    _, shown = await _root_with_codes(client, runtime, mailbox, clock)
    sent_url, first = await _ask_link(client, mailbox)
    page = await client.get(sent_url)
    r = await client.post(sent_url.replace("/sent?", "/resend?"), data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and t("recovery_mfa.resent") in html.unescape(r.text)
    second = _link_in(mailbox)
    assert second != first
    assert (await client.get(first)).status_code == 410
    for _ in range(2):
        r = await client.post(sent_url.replace("/sent?", "/resend?"), data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 200
    r = await client.post(sent_url.replace("/sent?", "/resend?"), data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 429, "three resends per flow"
    r = await _submit(client, _link_in(mailbox), shown[0])
    assert r.status_code == 303


async def test_wrong_codes_ask_for_a_captcha_end_the_flow_and_then_wait(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox, captcha: CaptchaAnswers) -> None:
    """As strict as sign-in: the root user's counter asks for a CAPTCHA after three wrong codes, the flow ends
    after five, and the root user's one-time codes counter (which a right password does not clear) makes the
    next guess wait."""
    clock = use_clock(runtime)
    _, shown = await _root_with_codes(client, runtime, mailbox, clock)
    _, link = await _ask_link(client, mailbox)
    for i in range(3):
        r = await _submit(client, link, f"AAAA-AAAA-AAAA-AAA{'ABC'[i]}")
        assert r.status_code == 400 and error_of(r.text) == t("recovery_mfa.invalid_code"), i
    page = await client.get(link)
    assert 'name="captcha"' in page.text, "a CAPTCHA is asked now, as on the password page"
    r = await _submit(client, link, shown[0])
    assert r.status_code == 400 and error_of(r.text) == t("captcha.required")
    assert (await client.get("/console")).status_code == 303
    for i in range(2):
        page = await client.get(link)
        token = re.search(r'name="token" value="([\w-]+)"', page.text)
        assert token and 'name="captcha"' in page.text
        r = await client.post(link.split("&token=")[0], data={
            "csrf_token": csrf_of(page.text), "token": token.group(1), "captcha": captcha.latest,
            "recovery_code": f"BBBB-AAAA-AAAA-AAA{'AB'[i]}"})
        if i == 0:
            assert r.status_code == 400 and error_of(r.text) == t("recovery_mfa.invalid_code"), r.text
        else:
            assert r.status_code == 410, "the fifth wrong code ends the flow"
    assert (await client.get(link)).status_code == 410
    assert (await client.get("/console")).status_code == 303

    # A new sign-in: the password page now asks for a CAPTCHA (the root user's counter), and the codes counter
    # makes the next guess wait, even a right one.
    from http_steps import start_root

    flow_url = await start_root(client)
    page = await client.get(flow_url)
    assert 'name="captcha"' in page.text
    r = await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": ROOT_PASSWORD, "captcha": captcha.latest})
    assert r.status_code == 303 and r.headers["location"] == flow_url, r.text
    page = await client.get(flow_url)
    trouble = await client.get(flow_url.replace("/signin?", "/signin/recover?"))
    r = await client.post("/signin/recover", data={"csrf_token": csrf_of(trouble.text),
                                                   "flow": flow_url.split("flow=")[1]})
    assert r.status_code == 303
    link = _link_in(mailbox)
    r = await _submit(client, link, shown[0])
    assert r.status_code == 429 and error_of(r.text).startswith("Too many attempts"), r.text
    clock.advance(5)
    r = await _submit(client, link, shown[0])
    assert r.status_code == 303 and r.headers["location"] == "/console/mfa/recovered"


async def test_link_mails_are_limited(client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await _root_with_codes(client, runtime, mailbox, clock)
    flow_url = await _at_mfa_step(client)
    trouble = await client.get(flow_url.replace("/signin?", "/signin/recover?"))
    statuses = []
    for _ in range(7):
        r = await client.post("/signin/recover", data={"csrf_token": csrf_of(trouble.text),
                                                       "flow": flow_url.split("flow=")[1]})
        statuses.append(r.status_code)
    assert statuses[:5] == [303] * 5 and 429 in statuses[5:], statuses
    assert sum(1 for m in mailbox.messages if "without your MFA device" in m.subject) == 5


async def test_trouble_needs_a_verified_password(client: httpx.AsyncClient, runtime: Runtime,
                                                 mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    await _root_with_codes(client, runtime, mailbox, clock)
    from http_steps import start_root

    flow_url = await start_root(client)  # the password not yet typed
    flow_id = flow_url.split("flow=")[1]
    r = await client.get(f"/signin/recover?flow={flow_id}")
    assert r.status_code == 400
    page = await client.get(flow_url)
    sent = len(mailbox.messages)
    for flow in (flow_id, "no-such-flow"):
        r = await client.post("/signin/recover", data={"csrf_token": csrf_of(page.text), "flow": flow})
        assert r.status_code in (400, 404)
    assert len(mailbox.messages) == sent, "nothing is mailed before the password is verified"
    r = await client.post("/signin/recover", data={"csrf_token": "0" * 64, "flow": flow_id})
    assert r.status_code == 403


async def test_regenerate_after_reauthentication_replaces_the_codes(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, shown = await _root_with_codes(client, runtime, mailbox, clock)
    _, link = await _ask_link(client, mailbox)
    assert (await _submit(client, link, shown[2])).status_code == 303
    security = await client.get("/console/security")
    assert t("recovery_mfa.codes_left", count=9) in security.text
    r = await client.post("/console/recovery-codes", data={"csrf_token": csrf_of(security.text)})
    assert r.status_code == 403 and 'name="password"' in r.text, "the password is asked again"
    r = await client.post("/console/recovery-codes", data={"csrf_token": csrf_of(security.text),
                                                           "password": "wrong password"})
    assert r.status_code == 400
    r = await client.post("/console/recovery-codes", data={"csrf_token": csrf_of(security.text),
                                                           "password": ROOT_PASSWORD})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/security")
    page = await client.get("/console/security")
    fresh = _CODE.findall(page.text)
    assert len(fresh) == 10 and not set(fresh) & set(shown)
    assert t("recovery_mfa.codes_left", count=10) in page.text
    assert str((await _events(runtime, account_id, "RecoveryCodesIssued"))[-1]["reason"]).startswith("regenerated")

    await sign_out(client)
    clock.advance(60)
    _, link = await _ask_link(client, mailbox)
    r = await _submit(client, link, shown[3])
    assert r.status_code == 400, "an old code stopped working"
    assert (await _submit(client, link, fresh[0])).status_code == 303


async def test_removing_the_last_device_removes_the_codes(client: httpx.AsyncClient, runtime: Runtime,
                                                         mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await sign_in_root(client, mailbox)
    await _add_device(client, clock)
    await _add_device(client, clock, "backup")
    security = await client.get("/console/security")
    serials = re.findall(r'name="serial" value="([^"]+)"', security.text)
    assert len(set(serials)) == 2
    root_key = PrincipalRef.root(account_id).key
    for n, serial in enumerate(dict.fromkeys(serials)):
        page = await client.get("/console/security")
        r = await client.post("/console/mfa/remove", data={"csrf_token": csrf_of(page.text), "serial": serial,
                                                           "confirm_last": "1", "password": ROOT_PASSWORD})
        assert r.status_code == 303, r.text
        async with runtime.deps.store.unit() as uow:
            assert await uow.recovery_codes.unused(root_key) == (10 if n == 0 else 0)
    page = await client.get("/console/security")
    assert 'id="codes-none"' in page.text
    removed = await _events(runtime, account_id, "RecoveryCodesRemoved")
    assert removed and removed[0]["count"] == 10

    # A new first device gives a new set.
    await _add_device(client, clock, "new")
    assert len(_CODE.findall((await client.get("/console/security")).text)) == 10


async def test_operator_removing_root_mfa_removes_the_codes(client: httpx.AsyncClient, runtime: Runtime,
                                                           mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id, _ = await _root_with_codes(client, runtime, mailbox, clock)
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, account_id)
        assert await iam_users.deactivate_mfa(runtime.deps, uow, account, None, None) == 1
    async with runtime.deps.store.unit() as uow:
        assert await uow.recovery_codes.unused(PrincipalRef.root(account_id).key) == 0
    assert await _events(runtime, account_id, "RecoveryCodesRemoved")


async def test_iam_user_mfa_page_says_the_administrator_deactivates_it(
        client: httpx.AsyncClient, runtime: Runtime, mailbox: DevMailbox) -> None:
    clock = use_clock(runtime)
    account_id = await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    assert r.headers["location"] == "/console"
    security = await client.get("/console/security")
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text), "password": USER_PASSWORD})
    url = r.headers["location"]
    page = await client.get(url)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    first = totp.at(clock.now)
    clock.advance(30)
    r = await client.post(url, data={"csrf_token": csrf_of(page.text), "device_name": "alice-phone",
                                     "mfa_code": first, "mfa_code_2": totp.at(clock.now)})
    assert r.status_code == 303
    security = await client.get("/console/security")
    assert _CODE.findall(security.text) == [] and 'id="recovery-codes-section"' not in security.text
    await sign_out(client)
    clock.advance(60)

    r = await iam_password(client, "acme", "alice", USER_PASSWORD)
    flow_url = r.headers["location"]
    page = await client.get(flow_url)
    assert 'name="mfa_code"' in page.text
    assert "/signin/recover" not in page.text, "no self-service recovery for IAM users"
    assert "vestibule iam-user deactivate-mfa --account " + account_id in page.text
    assert "aws iam deactivate-mfa-device --user-name USER" in page.text
    assert t("recovery_mfa.iam_trouble") in html.unescape(page.text)
    r = await client.get(flow_url.replace("/signin?", "/signin/recover?"))
    assert r.status_code == 303 and r.headers["location"] == flow_url
    r = await client.post("/signin/recover", data={"csrf_token": csrf_of(page.text),
                                                   "flow": flow_url.split("flow=")[1]})
    assert r.status_code == 400


def test_codes_are_80_bits_and_typing_is_forgiving() -> None:
    made = codes.new_codes()
    assert len(made) == 10 and len(set(made)) == 10
    code = made[0]
    assert codes.normalize(code) == code.replace("-", "")
    assert codes.normalize(code.lower().replace("-", "  ")) == code.replace("-", "")
    assert codes.normalize("OIBA-AAAA-AAAA-AAAA") == codes.normalize("01 8A AAAA AAAA AAAA")
    for bad in ("", "ABCD", "ABCD-EFGH-IJKL-MNO!", "ABCD-EFGH-IJKL-MNOPQ"):
        assert codes.normalize(bad) is None
    assert len(code.replace("-", "")) * 5 == 80


async def test_one_code_in_two_browsers_at_once_signs_in_one(client: httpx.AsyncClient, runtime: Runtime,
                                                            mailbox: DevMailbox) -> None:
    """Two recoveries racing with the same code: the conditional UPDATE lets one spend it."""
    import asyncio

    clock = use_clock(runtime)
    _, shown = await _root_with_codes(client, runtime, mailbox, clock)
    async with browser(runtime, CaptchaAnswers(), ip="198.51.100.20") as other:
        _, link_a = await _ask_link(client, mailbox)
        _, link_b = await _ask_link(other, mailbox)
        pages = [await c.get(link) for c, link in ((client, link_a), (other, link_b))]
        posts = []
        for c, link, page in zip((client, other), (link_a, link_b), pages, strict=True):
            token = re.search(r'name="token" value="([\w-]+)"', page.text)
            assert token
            posts.append(c.post(link.split("&token=")[0], data={
                "csrf_token": csrf_of(page.text), "token": token.group(1), "recovery_code": shown[4]}))
        results = await asyncio.gather(*posts)
        assert sorted(r.status_code for r in results) == [303, 400], [r.status_code for r in results]
    async with runtime.deps.store.unit() as uow:
        rows = (await uow.db.execute(RecoveryCode.__table__.select())).all()
    assert sum(1 for r in rows if r.used_at is not None) == 1
