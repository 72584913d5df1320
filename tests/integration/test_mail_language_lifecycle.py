"""Account lifecycle notices in the root user's language: an operator's suspend and reinstate (no page) use
the kept language, with the contact or the operator named; a closure from a page uses that page's language
and keeps it."""

from __future__ import annotations

from http_steps import ROOT_EMAIL, make_account
from support import deliver_mail
from vestibule.core.principals import PrincipalRef
from vestibule.runtime import Runtime
from vestibule.services import account_lifecycle
from vestibule.services.context import Client
from vestibule.services.mail import DevMailbox


async def test_lifecycle_notices_follow_the_root_users_language(runtime: Runtime, mailbox: DevMailbox) -> None:
    account_id = await make_account(runtime)
    root = PrincipalRef.root(account_id).key
    async with runtime.deps.store.unit() as uow:
        await uow.mail_languages.put(root, "zh-TW", runtime.deps.clock())
    await account_lifecycle.suspend(runtime.deps, account_id, reason="unpaid", contact="Help@Example.com")
    await deliver_mail(runtime)
    suspended = mailbox.messages[-1]
    assert suspended.to == ROOT_EMAIL and suspended.subject == "您的 Vestibule 帳戶已遭停權"
    assert "聯絡方式：help@example.com" in suspended.body and "unpaid" not in suspended.body
    await account_lifecycle.reinstate(runtime.deps, account_id)
    await deliver_mail(runtime)
    assert mailbox.messages[-1].subject == "您的 Vestibule 帳戶已恢復"
    await account_lifecycle.suspend(runtime.deps, account_id, reason=None, contact=None)
    await deliver_mail(runtime)
    assert "請聯絡此 Vestibule 服務的營運人員。" in mailbox.messages[-1].body
    await account_lifecycle.reinstate(runtime.deps, account_id)
    # the root user closes the account from an English page: English, and English kept
    async with runtime.deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
        assert account is not None
        await account_lifecycle.close(runtime.deps, uow, account, Client(language="en"), method="password+mfa")
    await deliver_mail(runtime)
    closed = mailbox.messages[-1]
    assert closed.subject == "Your Vestibule account was closed" and "Within 90 days" in closed.body
    async with runtime.deps.store.unit() as uow:
        assert await uow.mail_languages.get(root) == "en"
