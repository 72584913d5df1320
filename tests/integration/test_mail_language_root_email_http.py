"""The root email change's mail in the root user's language: the code to the new address and the notice to
the old one follow the console page (zh-TW); the undo link's notice follows the page that opened it; an
operator's `vestibule account set-email` has no page and uses the language kept for the root user."""

from __future__ import annotations

import re

import httpx

from http_steps import ROOT_EMAIL, ROOT_PASSWORD, make_account, post_step, start_root
from support import CaptchaAnswers, DeliveringTransport, csrf_of, deliver_mail, last_code
from vestibule.app import create_app
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime
from vestibule.services import root_email
from vestibule.services.mail import DevMailbox

NEW_EMAIL = "new-owner@example.com"
_UNDO = re.compile(r"(http://testserver/email/undo\?token=[A-Za-z0-9_-]+)")


def _browser(rt: Runtime, captcha: CaptchaAnswers, language: str) -> httpx.AsyncClient:
    app = create_app(rt, captcha_text_source=captcha, close_runtime=False)
    return httpx.AsyncClient(transport=DeliveringTransport(app, rt), base_url="http://testserver",
                             headers={"accept-language": language})


async def _sign_in(client: httpx.AsyncClient, mailbox: DevMailbox) -> None:
    flow_url = await start_root(client)
    r = await post_step(client, flow_url, "password", password=ROOT_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == flow_url
    r = await post_step(client, flow_url, "email_code", verification_code=last_code(mailbox, ROOT_EMAIL))
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_root_email_change_mail_follows_the_root_users_language(
        runtime: Runtime, captcha: CaptchaAnswers, mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    async with _browser(runtime, captcha, "zh-TW") as zh:
        await _sign_in(zh, mailbox)
        page = await zh.get("/console/contacts")
        r = await zh.post("/console/email", data={"csrf_token": csrf_of(page.text), "email": NEW_EMAIL,
                                                  "password": ROOT_PASSWORD})
        assert r.status_code == 303, r.text
        code_mail = mailbox.messages[-1]
        assert code_mail.to == NEW_EMAIL and code_mail.subject == "驗證您 Vestibule 帳戶的新根電子郵件"
        flow_url = r.headers["location"]
        page = await zh.get(flow_url)
        r = await zh.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "code",
                                          "verification_code": last_code(mailbox, NEW_EMAIL)})
        assert r.status_code == 303, r.text
        notice = mailbox.messages[-1]
        assert notice.to == ROOT_EMAIL and notice.subject == "您 Vestibule 帳戶的根電子郵件已變更"
        assert "7 天內" in notice.body and NEW_EMAIL not in notice.body, "the new address only partly shown"
        undo = _UNDO.search(notice.body)
        assert undo
    # the old address's owner opens the undo link from an English page: the restored notice in English
    async with _browser(runtime, captcha, "en") as en:
        r = await en.get(undo.group(1).removeprefix("http://testserver"))
        assert r.status_code == 303
        page = await en.get(r.headers["location"])
        r = await en.post(r.headers["location"], data={"csrf_token": csrf_of(page.text), "password": ROOT_PASSWORD})
        assert r.status_code in (200, 303), r.text
        restored = [m for m in mailbox.messages if m.to == ROOT_EMAIL][-1]
        assert restored.subject == "The root email of your Vestibule account was restored"
    async with runtime.deps.store.unit() as uow:
        assert await uow.mail_languages.get(PrincipalRef.root(account_id).key) == "en"
        await uow.mail_languages.put(PrincipalRef.root(account_id).key, "zh-TW", runtime.deps.clock())
    # an operator's change: no page, the kept language
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None
        await root_email.set_by_operator(runtime.deps, uow, account, "third@example.com")
    await deliver_mail(runtime)
    operator = mailbox.messages[-1]
    assert operator.to == ROOT_EMAIL and operator.subject == "您 Vestibule 帳戶的根電子郵件已變更"
    assert "營運人員" in operator.body and "third@example.com" not in operator.body
