"""Forgotten root password: a single-use emailed link (1 hour), newest link only. Opening the link exchanges
it for a flow bound to the browser, so the token is in one request's URL only."""

from __future__ import annotations

import secrets

from ..core import identifiers as ids
from ..core import passwords as rules
from ..core.flows.recovery import LINK_LIFETIME, SPEC, RecoveryFlow, RecoveryLink, RecoveryReset, RecoveryState
from ..core.outbox import MailKind
from ..core.principals import PrincipalRef
from ..core.tokens import hash_token, new_token
from ..errors import CaptchaInvalid, CodeExpired, InvalidInput
from ..store.models import RecoveryToken
from ..store.repositories import UnitOfWork
from . import audit, flows, mail_templates, outbox, sessions
from .captcha import CaptchaService
from .context import Client, Deps
from .passwords import check_new_password, store_root_password

LINKS_PER_HOUR = 5  # reset mails per account per hour


async def request_reset(deps: Deps, client: Client, captcha: CaptchaService, email: str, captcha_answer: str) -> None:
    """Same outcome whether or not the address belongs to an account (no enumeration)."""
    try:
        normalized = ids.normalize_email(email)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None
    if not await captcha.check(client.browser_hash, captcha_answer):
        raise CaptchaInvalid()
    now = deps.clock()
    async with deps.store.unit() as uow:
        account = await uow.accounts.by_email(normalized)
        # a closed account's root user may reset the password too: signing in then offers to reopen it
        active = account if account is not None and account.status in ("active", "closed") else None
        # The same statements for every address, so timing tells nothing: an address without an active
        # account supersedes nothing, gets an inert (already used) token under an owner that is no account
        # ID (random, so these rows never pile up under one index key) and a dropped outbox row.
        owner = active.id if active is not None else "~" + secrets.token_hex(6)[:11]
        # At most LINKS_PER_HOUR mails per account (each request already costs a solved CAPTCHA): beyond
        # that the request is treated as one for an unknown address, and the last link mailed keeps working.
        limited = await uow.recovery.created_since(owner, now - 3600) >= LINKS_PER_HOUR
        if limited:
            active, owner = None, "~" + secrets.token_hex(6)[:11]
        await uow.recovery.supersede(owner, now)
        token = new_token()
        await uow.recovery.add(RecoveryToken(token_hash=hash_token(token), account_id=owner, created_at=now,
                                             expires_at=now + LINK_LIFETIME, used_at=None if active else now))
        if active is not None:
            link = f"{deps.settings.public_origin}/recovery/reset?token={token}"
            # anyone may ask: the root user's remembered language first, the page's when none is remembered
            mail = await mail_templates.compose(
                deps, uow, "recovery_link", to=active.root_email, language=client.language,
                principal=PrincipalRef.root(active.id).key, account_id=ids.format_account_id(active.id), link=link)
            await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.RECOVERY_LINK, lifetime=LINK_LIFETIME)
        else:  # the same language look-up as a mailed link makes (timing), for the random owner
            await mail_templates.language_for(uow, PrincipalRef.root(owner).key, client.language)
            await outbox.record_dropped(uow, deps.outbox, kind=MailKind.RECOVERY_NONE, subject=_LINK_SUBJECT)
        result = "Limited" if limited else "Success" if account else "Unknown"
        await audit.record(uow, at=now, event="PasswordRecoveryRequested", result=result,
                           client=client, account_id=account.id if account else None,
                           principal=ids.root_arn(account.id) if account else "", method="email_link")


_LINK_SUBJECT = "Reset your Vestibule root user password"


async def _link(uow: UnitOfWork, token_hash: str) -> RecoveryLink | None:
    row = await uow.recovery.get(token_hash) if token_hash else None
    return None if row is None else RecoveryLink(row.account_id, row.created_at, row.expires_at, row.used_at)


async def open_link(deps: Deps, client: Client, token: str) -> RecoveryFlow | None:
    """Exchange a mailed link for a reset flow bound to this browser; None when the link is not usable.
    The link is not consumed here (a mail scanner opening it changes nothing): setting the password does."""
    now = deps.clock()
    token_hash = hash_token(token) if token else ""
    async with deps.store.unit() as uow:
        link = await _link(uow, token_hash)
        if link is None or not link.usable(now):
            return None
        return await flows.create(uow, SPEC, client.browser_hash, now, RecoveryReset(token_hash))


async def load_reset(deps: Deps, client: Client, flow_id: str) -> RecoveryFlow:
    """This browser's reset flow, whose link is still usable; FlowError or CodeExpired otherwise."""
    async with deps.store.unit() as uow:
        flow = await flows.load(uow, SPEC, flow_id)
        flow.check(client.browser_hash, deps.clock(), RecoveryState.NEW_PASSWORD)
        link = await _link(uow, flow.payload.token_hash)
    if link is None or not link.usable(deps.clock()):
        raise CodeExpired()
    return flow


async def reset_password(deps: Deps, client: Client, flow_id: str, new_password: str, confirm: str) -> str:
    """Set the new root password, end every session of the root user, notify; returns the account ID."""
    flow = await load_reset(deps, client, flow_id)
    now = deps.clock()
    token_hash = flow.payload.token_hash
    async with deps.store.unit() as uow:
        link = await _link(uow, token_hash)
        if link is None or not link.usable(now):
            raise CodeExpired()
        account = await uow.accounts.get(link.account_id)
        if account is None or account.status not in ("active", "closed"):
            raise CodeExpired()
        root = PrincipalRef.root(account.id)
        new_hash = await check_new_password(deps, uow, rules.ROOT_POLICY, root.key, new_password, confirm, None)
        if not await uow.recovery.consume(token_hash, now):
            raise CodeExpired()
        flow.complete()
        await flows.save(uow, flow)
        await store_root_password(deps, uow, account, new_hash)
        ended = await sessions.end_all(uow, deps.session_ports, root.key, now)
        await audit.record(uow, at=now, event="PasswordRecovered", result="Success", client=client,
                           account_id=account.id, principal=ids.root_arn(account.id), method="email_link",
                           sessions_ended=ended)
        # the link proved control of the root email: this page's language is the root user's choice
        notice = await mail_templates.compose(deps, uow, "password_reset_notice", to=account.root_email,
                                              language=client.language, principal=root.key, remember=True,
                                              account_id=ids.format_account_id(account.id))
        await outbox.enqueue(uow, deps.outbox, notice, kind=MailKind.PASSWORD_CHANGED)
        account_id = account.id
    return account_id
