"""Lost root MFA mail in the sign-in page's language (kept for the root user), and the recovered sign-in's
notice naming the address and the browser from a fixed vocabulary, never the user agent's own text."""

from __future__ import annotations

from http_steps import ROOT_EMAIL, make_account
from support import deliver_mail
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime
from vestibule.services import mfa_recovery
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox

CRAFTED = "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0 CALL +1-555-0100 http://evil.example/"


async def test_lost_mfa_mail_in_the_pages_language(runtime: Runtime, mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    zh = Client(ip="198.51.100.4", user_agent=CRAFTED, language="zh-TW")
    async with runtime.deps.store.unit() as uow:
        await mfa_recovery._mail_link(runtime.deps, uow, zh, ROOT_EMAIL, account_id, "flow1", "token1")
        await mfa_recovery._mail_notice(runtime.deps, uow, ROOT_EMAIL, account_id, zh, 7)
    await deliver_mail(runtime)
    link, notice = mailbox.messages[-2:]
    assert link.subject == "不使用 MFA 裝置登入 Vestibule"
    assert "http://testserver/signin/recover/link?flow=flow1&token=token1" in link.body and "一小時內" in link.body
    assert notice.subject == "您的 Vestibule 根使用者已在沒有 MFA 的情況下登入"
    assert "198.51.100.4（Firefox / Windows）" in notice.body and "尚有 7 組" in notice.body
    assert "evil" not in notice.body and "555" not in notice.body, "the user agent's text is never quoted"
    async with runtime.deps.store.unit() as uow:
        assert await uow.mail_languages.get(PrincipalRef.root(account_id).key) == "zh-TW"
    # no address and an unknown browser: the template says so, in English from an English page
    async with runtime.deps.store.unit() as uow:
        await mfa_recovery._mail_notice(runtime.deps, uow, ROOT_EMAIL, account_id,
                                        Client(user_agent="something else", language="en"), 0)
    await deliver_mail(runtime)
    assert "from an unknown address (an unknown browser)" in mailbox.messages[-1].body
