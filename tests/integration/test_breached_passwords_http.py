"""Passwords known from data breaches, refused over HTTP: the root user always (sign-up, reset, change, the CLI's
account create), IAM users when the account's option is on (the default), with the message in en and zh-TW;
the operator's range files add the exact passwords they hold."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import httpx
import pytest

from http_steps import (
    ROOT_EMAIL,
    ROOT_PASSWORD,
    USER_PASSWORD,
    error_of,
    make_account,
    make_user,
    sign_in_iam,
    sign_in_root,
)
from support import CHEAP_HASH, CaptchaAnswers, csrf_of
from vestibule.core import passwords as rules
from vestibule.core.passwords import PasswordHasher
from vestibule.errors import PasswordRejected
from vestibule.runtime import Runtime, build
from vestibule.services import accounts, iam_users
from vestibule.services.mail import DevMailbox
from vestibule.services.passwords import check_new_password, policy_of
from vestibule.settings import Settings
from vestibule.web.i18n import Translator

t = Translator("en")
BREACHED = "This password is known from data breaches; choose another."
BREACHED_ZH = Translator("zh-TW")("password.breached")
_LINK = re.compile(r"https?://\S+/recovery/reset\?token=([A-Za-z0-9_-]+)")


def test_the_message_reads_as_the_issue_asks() -> None:
    assert t("password.breached") == BREACHED
    assert BREACHED_ZH != BREACHED and "外洩" in BREACHED_ZH


async def _sign_up_page(client: httpx.AsyncClient, captcha: CaptchaAnswers, password: str,
                        headers: dict[str, str] | None = None) -> httpx.Response:
    page = await client.get("/signup", headers=headers)
    return await client.post("/signup", headers=headers, data={
        "csrf_token": csrf_of(page.text), "email": "new@example.com", "account_name": "Team",
        "password": password, "confirm_password": password, "captcha": captcha.latest})


async def test_root_sign_up_refuses_a_breached_password(client: httpx.AsyncClient, captcha: CaptchaAnswers) -> None:
    for password in ("Passw0rd!", "password", "P@ssw0rd", "Password1!", "qwerty123"):
        r = await _sign_up_page(client, captcha, password)
        assert r.status_code == 400 and error_of(r.text) == BREACHED, password
    r = await _sign_up_page(client, captcha, "Passw0rd!", headers={"Accept-Language": "zh-TW"})
    assert r.status_code == 400 and error_of(r.text) == BREACHED_ZH
    r = await _sign_up_page(client, captcha, "a sign-up pass phrase 7")
    assert r.status_code == 303 and r.headers["location"].startswith("/signup/verify?flow=")


async def test_root_reset_refuses_a_breached_password(client: httpx.AsyncClient, runtime: Runtime,
                                                      captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    await make_account(runtime)
    page = await client.get("/recovery")
    await client.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": ROOT_EMAIL,
                                         "captcha": captcha.latest})
    token = _LINK.findall(next(m.body for m in reversed(mailbox.messages) if m.to == ROOT_EMAIL))[-1]
    opened = await client.get(f"/recovery/reset?token={token}")
    flow_url = opened.headers["location"]

    async def reset(password: str) -> httpx.Response:
        page = await client.get(flow_url)
        return await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "new_password": password,
                                                 "confirm_password": password})

    r = await reset("Passw0rd!")
    assert r.status_code == 400 and error_of(r.text) == BREACHED
    r = await reset("a recovered pass phrase 3")
    assert r.status_code == 200 and t("recovery.done") in r.text.replace("&#39;", "'")


async def test_root_password_change_refuses_a_breached_password(client: httpx.AsyncClient, runtime: Runtime,
                                                                mailbox: DevMailbox) -> None:
    await make_account(runtime)
    await sign_in_root(client, mailbox)
    csrf = csrf_of((await client.get("/console/security")).text)
    for password in ("Passw0rd!", "Summer2024!"):
        r = await client.post("/console/password", data={"csrf_token": csrf, "password": ROOT_PASSWORD,
                                                         "new_password": password, "confirm_password": password})
        assert r.status_code == 400 and error_of(r.text) == BREACHED, password
    r = await client.post("/console/password", data={"csrf_token": csrf, "password": ROOT_PASSWORD,
                                                     "new_password": "a changed pass phrase 5",
                                                     "confirm_password": "a changed pass phrase 5"})
    assert r.status_code == 303


async def test_iam_users_follow_the_accounts_option(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(runtime)
    await make_user(runtime, "acme", "alice")
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, "acme")
        assert policy_of(account).refuse_breached, "on for a new account"
        with pytest.raises(PasswordRejected) as refused:
            await iam_users.create_user(runtime.deps, uow, account, "bob", password="Passw0rd!")
        assert refused.value.problems == ["password.breached"]
    await sign_in_iam(client)
    csrf = csrf_of((await client.get("/console/security")).text)

    async def change(current: str, new: str) -> httpx.Response:
        return await client.post("/console/password", data={"csrf_token": csrf, "password": current,
                                                            "new_password": new, "confirm_password": new})

    r = await change(USER_PASSWORD, "Passw0rd!")
    assert r.status_code == 400 and error_of(r.text) == BREACHED
    async with runtime.deps.store.unit() as uow:
        account = await accounts.require(uow, "acme")
        await accounts.set_password_policy(runtime.deps, uow, account, None, refuse_breached=False)
    assert (await change(USER_PASSWORD, "Passw0rd!")).status_code == 303, "the account turned the check off"


async def test_profile_policy_caps_at_64_characters_with_its_message(runtime: Runtime) -> None:
    async with runtime.deps.store.unit() as uow:
        with pytest.raises(PasswordRejected) as refused:
            await check_new_password(runtime.deps, uow, rules.PROFILE_POLICY, "profile:p1", "Aa1!" + "x" * 61,
                                     None, None)
        assert refused.value.problems == ["password.too_long"] and refused.value.maximum_length == 64
        with pytest.raises(PasswordRejected) as refused:
            await check_new_password(runtime.deps, uow, rules.PROFILE_POLICY, "profile:p1", "Passw0rd!", None, None)
        assert refused.value.problems == ["password.breached"]
        assert await check_new_password(runtime.deps, uow, rules.PROFILE_POLICY, "profile:p1", "Aa1!" + "x" * 60,
                                        None, None)
    from vestibule.web.messages import message_for

    too_long = PasswordRejected(["password.too_long"], 64)
    assert message_for(too_long, t) == "The password must be at most 64 characters."
    assert "64" in message_for(too_long, Translator("zh-TW"))
    assert message_for(PasswordRejected(["password.too_long"]), t) == "The password must be at most 128 characters."


def _range_files(directory: Path, *passwords: str) -> None:
    for password in passwords:
        digest = hashlib.sha1(password.encode()).hexdigest().upper()
        (directory / f"{digest[:5]}.txt").write_text(f"{digest[5:]}:42\r\n", encoding="ascii")


async def test_the_operators_range_files_refuse_their_exact_passwords(settings: Settings, mailbox: DevMailbox,
                                                                       tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    ranges = tmp_path / "ranges"
    ranges.mkdir()
    _range_files(ranges, "a pass phrase from a breach", "another breached phrase")
    rt = await build(settings.with_overrides(breached_passwords_file=ranges), mailer=mailbox,
                     hasher=PasswordHasher(CHEAP_HASH))
    try:
        account = await make_account(rt)
        async with rt.deps.store.unit() as uow:
            for password in ("a pass phrase from a breach", "Passw0rd!"):
                with pytest.raises(PasswordRejected):
                    await check_new_password(rt.deps, uow, rules.ROOT_POLICY, "", password, None, None)
            # exact: the corpus is not asked about other forms
            assert await check_new_password(rt.deps, uow, rules.ROOT_POLICY, "", "A pass phrase from a breach",
                                            None, None)
            # a range file broken where the look-up reads it: logged, and the bundled list still answers
            digest = hashlib.sha1(b"a broken range file").hexdigest().upper()
            (ranges / f"{digest[:5]}.txt").write_text("broken\n", encoding="ascii")
            with caplog.at_level(logging.ERROR, "vestibule.passwords"):
                assert await check_new_password(rt.deps, uow, rules.ROOT_POLICY, "", "a broken range file",
                                                None, None)
            assert "breached_passwords_file" in caplog.text and f"{digest[:5]}.txt" in caplog.text
            with pytest.raises(PasswordRejected):
                await check_new_password(rt.deps, uow, rules.ROOT_POLICY, "", "Password1!", None, None)
        assert account
    finally:
        await rt.close()
