"""Mail in the recipient's language, through a real SMTP server (aiosmtpd): the language of the page that
caused the mail, remembered per principal (root user, directory user) for mail no page of theirs caused;
a page anyone could have used (forgot password, a sign-up for a taken address) never overrides it."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import inspect

from http_steps import ROOT_EMAIL, make_account, make_user, sign_in_iam
from smtp_sink import Received, SmtpSink
from support import CHEAP_HASH, CaptchaAnswers, DeliveringTransport, csrf_of, deliver_mail
from vestibule.app import create_app
from vestibule.core.flows.portal_signin import directory_user_ref
from vestibule.core.passwords import PasswordHasher
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime, build
from vestibule.services import mail_templates
from vestibule.services.identity_center import directory, portal_users
from vestibule.services.identity_center.directory_profile import Email, UserProfile
from vestibule.services.identity_center.settings import InstanceSettings
from vestibule.services.mail import SmtpMailer
from vestibule.settings import Settings
from vestibule.store import database
from vestibule.store.models import SsoInstance
from vestibule.store.probes import head_revision

SENDER = "no-reply@vestibule.test"
PASSWORD = "signup password 1"
PORTAL_PASSWORD = "portal password 1"
EMAIL = "alice@example.com"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
async def smtp_runtime(settings: Settings, smtp: SmtpSink) -> AsyncIterator[Runtime]:
    rt = await build(settings, run_migrations=False, mailer=SmtpMailer("127.0.0.1", smtp.port, SENDER),
                     hasher=PasswordHasher(CHEAP_HASH))
    yield rt
    await rt.close()


def _browser(rt: Runtime, captcha: CaptchaAnswers, language: str) -> httpx.AsyncClient:
    app = create_app(rt, captcha_text_source=captcha, close_runtime=False)
    return httpx.AsyncClient(transport=DeliveringTransport(app, rt), base_url="http://testserver",
                             headers={"accept-language": language})


async def _arrived(smtp: SmtpSink, count: int) -> Received:
    """The `count`-th message the SMTP server received."""
    return (await asyncio.to_thread(smtp.wait_for_count, count))[count - 1]


async def _remembered(rt: Runtime, principal: str) -> str | None:
    async with rt.deps.store.unit() as uow:
        return await uow.mail_languages.get(principal)


async def _sign_up(client: httpx.AsyncClient, captcha: CaptchaAnswers, email: str) -> httpx.Response:
    page = await client.get("/signup")
    return await client.post("/signup", data={
        "csrf_token": csrf_of(page.text), "email": email, "account_name": "Team", "password": PASSWORD,
        "confirm_password": PASSWORD, "captcha": captcha.latest})


async def _forgot(client: httpx.AsyncClient, captcha: CaptchaAnswers, email: str) -> httpx.Response:
    page = await client.get("/recovery")
    return await client.post("/recovery", data={"csrf_token": csrf_of(page.text), "email": email,
                                                "captcha": captcha.latest})


async def _portal_user(rt: Runtime) -> tuple[str, str]:
    """An access portal asking for a mailed code, and its user alice (what test_portal_signin_http sets up)."""
    account_id = await make_account(rt, alias=None)
    store_id = f"d-{secrets.token_hex(5)}"
    async with rt.deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=f"arn:aws:sso:::instance/ssoins-{secrets.token_hex(8)}", identity_store_id=store_id,
            owner_account_id=account_id, name="portal", kind="ACCOUNT", status="ACTIVE", client_token=None,
            created_at=rt.deps.clock(), settings=InstanceSettings(no_mfa_device="EMAIL_CODE").to_json(), tags="[]"))
        user = await directory.create_user(uow, store_id, "alice", UserProfile(
            display_name="Alice", emails=(Email(value=EMAIL, primary=True),)), actor="test", now=rt.deps.clock(),
            password_hash=rt.deps.hasher.hash(PORTAL_PASSWORD))
    return store_id, user.id


async def test_sign_up_from_a_chinese_page_mails_chinese_and_the_choice_is_kept(
        smtp_runtime: Runtime, smtp: SmtpSink, captcha: CaptchaAnswers) -> None:
    rt = smtp_runtime
    async with _browser(rt, captcha, "zh-TW,zh;q=0.9") as zh:
        r = await _sign_up(zh, captcha, "owner@example.com")
        assert r.status_code == 303
        mail = await _arrived(smtp, 1)
        assert mail.to == ("owner@example.com",)
        assert mail.subject == "驗證您在 Vestibule 的電子郵件地址"
        code = re.search(r"驗證碼是：(\d{6})", mail.body)
        assert code and "10 分鐘" in mail.body and "verification code" not in mail.body
        flow_url = r.headers["location"]
        page = await zh.get(flow_url)
        r = await zh.post(flow_url, data={"csrf_token": csrf_of(page.text), "verification_code": code.group(1)})
        assert r.status_code == 303 and r.headers["location"].startswith("/console")
    async with rt.deps.store.unit() as uow:
        account = await uow.accounts.by_email("owner@example.com")
    assert account is not None
    root = PrincipalRef.root(account.id).key
    assert await _remembered(rt, root) == "zh-TW"

    # Anyone may ask for a reset link from any page: the root user's remembered language wins.
    async with _browser(rt, captcha, "en-US") as en:
        assert (await _forgot(en, captcha, "owner@example.com")).status_code == 200
        link_mail = await _arrived(smtp, 2)
        assert link_mail.subject == "重設您的 Vestibule 根使用者密碼" and "一小時內" in link_mail.body
        assert f"{account.id[:4]}-{account.id[4:8]}-{account.id[8:]}" in link_mail.body
        link = re.search(r"http://testserver(/recovery/reset\?token=\S+)", link_mail.body)
        assert link
        # Opening the link proves control of the root email: this (English) page's language is used and kept.
        r = await en.get(link.group(1))
        assert r.status_code == 303
        page = await en.get(r.headers["location"])
        r = await en.post(r.headers["location"], data={"csrf_token": csrf_of(page.text),
                                                       "new_password": "brand new pass 2",
                                                       "confirm_password": "brand new pass 2"})
        assert r.status_code == 200
        notice = await _arrived(smtp, 3)
        assert notice.subject == "Your Vestibule root user password was changed"
        assert not HAN.search(notice.body)
    assert await _remembered(rt, root) == "en"


async def test_root_sign_in_code_follows_the_page_and_a_taken_sign_up_the_owner(
        smtp_runtime: Runtime, smtp: SmtpSink, captcha: CaptchaAnswers) -> None:
    rt = smtp_runtime
    account_id = await make_account(rt)
    root = PrincipalRef.root(account_id).key
    assert await _remembered(rt, root) is None
    async with _browser(rt, captcha, "en") as browser:
        # the language switch (?lang=zh-TW) sets the page's language; the password proves the owner
        page = await browser.get("/?root=1&lang=zh-TW")
        start = await browser.post("/", data={"csrf_token": csrf_of(page.text), "user_type": "root",
                                              "email": ROOT_EMAIL})
        flow_url = start.headers["location"]
        page = await browser.get(flow_url)
        r = await browser.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                               "password": "root password 1"})
        assert r.status_code == 303 and r.headers["location"] == flow_url
        mail = await _arrived(smtp, 1)
        assert mail.subject == "您的 Vestibule 登入驗證碼" and re.search(r"登入驗證碼是：\d{6}", mail.body)
        assert f"帳戶 {account_id[:4]}-{account_id[4:8]}-{account_id[8:]}" in mail.body
    assert await _remembered(rt, root) == "zh-TW"
    # a stranger signing up with the owner's address from an English page: the owner's language
    async with _browser(rt, captcha, "en") as stranger:
        assert (await _sign_up(stranger, captcha, ROOT_EMAIL)).status_code == 303
        taken = await _arrived(smtp, 2)
        assert taken.to == (ROOT_EMAIL,) and taken.subject == "您的 Vestibule 註冊" and "忘記密碼" in taken.body
    assert await _remembered(rt, root) == "zh-TW", "an anonymous page changes nothing"
    # an address nobody remembers anything for gets the page's language, and nothing is kept
    async with _browser(rt, captcha, "zh-Hant-TW") as newcomer:
        assert (await _forgot(newcomer, captcha, "nobody@example.com")).status_code == 200
        assert (await _sign_up(newcomer, captcha, "fresh@example.com")).status_code == 303
        fresh = await _arrived(smtp, 3)
        assert fresh.to == ("fresh@example.com",) and HAN.search(fresh.subject)
    assert len(smtp.messages) == 3, "nothing mailed for the address without an account"


async def test_an_operators_reset_link_uses_the_directory_users_remembered_language(
        smtp_runtime: Runtime, smtp: SmtpSink, captcha: CaptchaAnswers) -> None:
    rt = smtp_runtime
    store_id, user_id = await _portal_user(rt)
    # before any page of theirs: English
    await portal_users.reset_by_mail(rt.deps, store_id, "alice")
    await deliver_mail(rt)
    first = await _arrived(smtp, 1)
    assert first.subject == "Set your access portal password" and "Your user name: alice" in first.body
    async with _browser(rt, captcha, "zh-TW") as zh:
        page = await zh.get(f"/portal/{store_id}/start")
        r = await zh.post(f"/portal/{store_id}/start", data={"csrf_token": csrf_of(page.text), "username": "alice"})
        flow_url = r.headers["location"]
        page = await zh.get(flow_url)
        r = await zh.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password",
                                          "password": PORTAL_PASSWORD})
        assert r.status_code == 303
        code_mail = await _arrived(smtp, 2)
        assert code_mail.to == (EMAIL,) and code_mail.subject == "您的存取入口網站驗證碼"
    assert await _remembered(rt, directory_user_ref(user_id).key) == "zh-TW"
    # the operator's command (`vestibule sso user reset-password`) has no page: the remembered language
    await portal_users.reset_by_mail(rt.deps, store_id, "alice")
    await deliver_mail(rt)
    link = await _arrived(smtp, 3)
    assert link.subject == "設定您的存取入口網站密碼" and "您的使用者名稱：alice" in link.body
    assert re.search(r"http://testserver/portal/\S+/password\?token=\S+", link.body)


async def test_every_sign_in_from_a_page_keeps_its_language(runtime: Runtime, captcha: CaptchaAnswers) -> None:
    """An IAM user (who gets no mail yet) and a root user with a known browser: the sign-in itself keeps the
    page's language, in the sign-in's own transaction; the next sign-in from another language replaces it."""
    await make_account(runtime)
    user = PrincipalRef.iam_user(await make_user(runtime, "acme", "alice")).key
    async with _browser(runtime, captcha, "zh-TW") as zh:
        await sign_in_iam(zh)
    assert await _remembered(runtime, user) == "zh-TW"
    async with _browser(runtime, captcha, "en-GB,en;q=0.8") as en:
        await sign_in_iam(en)
    assert await _remembered(runtime, user) == "en"
    async with _browser(runtime, captcha, "fr-FR") as other:  # no language of ours: the page is English
        await sign_in_iam(other)
    assert await _remembered(runtime, user) == "en"


async def test_the_language_choice(runtime: Runtime) -> None:
    key = PrincipalRef.root("111122223333").key
    async with runtime.deps.store.unit() as uow:
        assert await mail_templates.language_for(uow, key) == "en"
        assert await mail_templates.language_for(uow, key, "zh-TW") == "zh-TW"
        assert await mail_templates.language_for(uow, key, "fr") == "en"
        await mail_templates.remember_language(uow, key, "fr", 1.0)  # not a language mail comes in
        assert await uow.mail_languages.get(key) is None
        await mail_templates.remember_language(uow, key, "zh-TW", 1.0)
        await mail_templates.remember_language(uow, key, "zh-TW", 2.0)  # one row, written again
        assert await mail_templates.language_for(uow, key, "en") == "zh-TW"
        assert await mail_templates.language_for(uow, key, "en", remember=True) == "en"
        assert await mail_templates.language_for(uow, key, "", remember=True) == "zh-TW"
        mail = await mail_templates.compose(runtime.deps, uow, "portal_code", to="a@example.com", language="en",
                                            principal=key, remember=True, code="123456", user_name="alice",
                                            portal_url="http://testserver/portal/p/start", client_address="",
                                            browser="", attempted_at="2026-12-03 15:00 UTC")
        assert mail.subject == "Your access portal verification code" and "123456" in mail.body
        assert await uow.mail_languages.get(key) == "en"
        with pytest.raises(mail_templates.MailTemplateError, match="takes"):
            await mail_templates.compose(runtime.deps, uow, "portal_code", to="a@example.com")
        with pytest.raises(mail_templates.MailTemplateError, match="no mail"):
            await mail_templates.compose(runtime.deps, uow, "nothing", to="a@example.com")
        await uow.mail_languages.forget(key)
        assert await uow.mail_languages.get(key) is None


async def test_migration_0027_up_and_down(clean_database: str) -> None:
    """On the pass's database (SQLite, or PostgreSQL): down to 0026 drops the table, up again restores it."""
    from alembic import command

    engine = database.make_engine(clean_database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(database._alembic_config(c), "0026"))
        async with engine.connect() as conn:
            assert "mail_languages" not in await conn.run_sync(lambda c: inspect(c).get_table_names())
        await database.migrate(engine)
        assert await database.current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"]: col for col in inspect(c).get_columns(
                "mail_languages")})
        assert set(columns) == {"principal_key", "language", "updated_at"}
        assert not any(col["nullable"] for col in columns.values())
    finally:
        await engine.dispose()
