"""A personal profile's forgotten password (`core/flows/profile_reset.py`): "Forgot password?" mails a single-use
link (one hour) to the address when a profile has it, and the page says the same thing either way ("if a profile
exists for that address, we mailed a link"), doing the same work (a flow row and an outbox row each time).
Requests are throttled per typed address and per client. Opening the link in a browser binds a short page to
it; the new password follows the profile rules (PROFILE_POLICY, none of the last 3); then every session of the
profile ends, its trusted browsers are forgotten, and a notice is mailed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from ...core import identifiers as ids
from ...core import passwords as rules
from ...core.flows.base import FlowError, FlowType
from ...core.flows.profile_reset import (
    LINK_LIFETIME,
    PAGE_LIFETIME,
    SPEC,
    ProfileReset,
    ProfileResetFlow,
    ProfileResetState,
)
from ...core.outbox import MailKind
from ...core.principals import PrincipalRef
from ...core.throttle import Scope, ThrottleKey
from ...core.tokens import hash_token, new_token
from ...errors import CodeExpired, InvalidInput, TooManyAttempts
from ...store.models import Profile
from ...store.repositories import Conflict, UnitOfWork
from .. import audit, flows, mail_templates, outbox, sessions
from ..context import Client, Deps
from ..passwords import check_new_password
from .accounts import principal_name, stored_email

_SUBJECT = "Reset your Vestibule personal profile password"


def request_keys(email: str, client: Client) -> list[ThrottleKey]:
    """The typed address (known or not, alike: a few mails freely, then growing waits) and the client."""
    return [ThrottleKey(Scope.CODES, f"profile-reset:{email}"), ThrottleKey(Scope.REQUESTS, client.ip)]


async def request_link(deps: Deps, client: Client, email: str) -> None:
    """Mail a reset link when a profile has `email`; the same outcome otherwise (no enumeration)."""
    try:
        normalized = stored_email(ids.normalize_email(email))
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None
    refused = await deps.throttle.reserve(request_keys(normalized, client), deps.clock(), captcha_solved=False)
    if refused is not None:
        raise TooManyAttempts(max(1, refused.retry_after))
    now = deps.clock()
    token = new_token()
    async with deps.store.unit() as uow:
        profile = await uow.profiles.by_email(normalized)
        owner = profile.id if profile is not None else ""
        payload = ProfileReset(owner, profile.password_changed_at, profile.email) if profile else ProfileReset("", 0.0)
        link = await flows.create(uow, SPEC, "", now, payload, FlowType.API, flow_id=hash_token(token))
        principal = PrincipalRef.profile(owner).key if owner else ""
        if profile is not None:
            mail = await mail_templates.compose(
                deps, uow, "profile_recovery_link", to=profile.email, language=client.language, principal=principal,
                link=f"{deps.settings.public_origin}/profile/recover/reset?token={token}",
                minutes=LINK_LIFETIME // 60)
            await outbox.enqueue(uow, deps.outbox, mail, kind=MailKind.RECOVERY_LINK, lifetime=LINK_LIFETIME)
        else:  # an inert link (done at birth) and a dropped outbox row: the same statements as a mailed one
            link.complete()
            await flows.save(uow, link)
            await mail_templates.language_for(uow, principal, client.language)
            await outbox.record_dropped(uow, deps.outbox, kind=MailKind.RECOVERY_NONE, subject=_SUBJECT)
        await audit.record(uow, at=now, event="ProfilePasswordRecoveryRequested",
                           result="Success" if profile else "Unknown", client=client,
                           principal=principal_name(owner) if owner else "", method="email_link")


def _page_id(link_id: str, browser_hash: str) -> str:
    """The page of one link in one browser (64 hex characters, as a flow ID may be)."""
    return hashlib.sha256(f"profile-reset-page:{link_id}:{browser_hash}".encode()).hexdigest()


async def _live_link(uow: UnitOfWork, link_id: str, now: float) -> tuple[ProfileResetFlow, Profile] | None:
    """The mailed link `link_id` while it works: unused, in its hour, the profile's password and address unchanged."""
    try:
        link = await flows.load(uow, SPEC, link_id)
        link.check("", now, ProfileResetState.LINK)
    except FlowError:
        return None
    profile = await uow.profiles.by_id(link.payload.profile_id) if link.payload.profile_id else None
    if (profile is None or profile.password_changed_at != link.payload.password_changed_at
            or profile.email != link.payload.email):
        return None
    return link, profile


async def open_link(deps: Deps, client: Client, token: str) -> ProfileResetFlow | None:
    """Exchange the mailed link for a page bound to this browser (nothing is used up: a mail scanner opening the
    link changes nothing); this browser's page of the link while it is open (one page however often the link is
    opened), else a new one. None when the link does not work."""
    if not token or len(token) > 100:
        return None
    try:
        return await _open_once(deps, client, token)
    except Conflict:  # the same link opened twice at once in this browser: the other request's page
        return await _open_once(deps, client, token)


async def _open_once(deps: Deps, client: Client, token: str) -> ProfileResetFlow | None:
    now = deps.clock()
    async with deps.store.unit() as uow:
        found = await _live_link(uow, hash_token(token), now)
        if found is None:
            return None
        link, _profile = found
        page_id = _page_id(link.id, client.browser_hash)
        if await uow.flows.get(page_id) is not None:
            try:
                page = await flows.load(uow, SPEC, page_id)
                page.check(client.browser_hash, now, ProfileResetState.NEW_PASSWORD)
                return page
            except FlowError:  # this browser's earlier page ran out: a new one in its place
                await uow.flows.delete_ids([page_id])
        page = await flows.create(uow, SPEC, client.browser_hash, now, replace(link.payload, link_id=link.id),
                                  flow_id=page_id)
        page.state = ProfileResetState.NEW_PASSWORD
        page.expires_at = min(now + PAGE_LIFETIME, link.expires_at)
        await flows.save(uow, page)
        return page


@dataclass(frozen=True)
class ResetPage:
    flow: ProfileResetFlow
    email: str


async def load_page(deps: Deps, client: Client, flow_id: str) -> ResetPage:
    """This browser's page of a link that still works; FlowError or CodeExpired otherwise."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        page = await flows.load(uow, SPEC, flow_id)
        page.check(client.browser_hash, now, ProfileResetState.NEW_PASSWORD)
        found = await _live_link(uow, page.payload.link_id, now)
    if found is None:
        raise CodeExpired()
    return ResetPage(page, found[1].email)


async def reset_password(deps: Deps, client: Client, flow_id: str, new_password: str, confirm: str) -> int:
    """Set the new password (the link is used up), end every session of the profile; the count ended."""
    opened = await load_page(deps, client, flow_id)
    now = deps.clock()
    async with deps.store.unit() as uow:
        found = await _live_link(uow, opened.flow.payload.link_id, now)
        if found is None:
            raise CodeExpired()
        link, profile = found
        ref = PrincipalRef.profile(profile.id)
        new_hash = await check_new_password(deps, uow, rules.PROFILE_POLICY, ref.key, new_password, confirm,
                                            profile.password_hash, must_differ=True)
        link.complete()
        await flows.save(uow, link)  # compare-and-set: of two pages of one link, one wins
        opened.flow.complete()
        await flows.save(uow, opened.flow)
        await uow.password_history.add(ref.key, profile.password_hash, now)
        profile.password_hash = new_hash
        profile.password_changed_at = now
        await uow.profiles.save(profile)
        ended = await sessions.end_all(uow, deps.session_ports, ref.key, now)
        forgotten = await uow.profile_trusted_browsers.revoke_all(profile.id)
        await audit.record(uow, at=now, event="ProfilePasswordRecovered", result="Success", client=client,
                           principal=principal_name(profile.id), method="email_link", sessions_ended=ended,
                           trusted_browsers_forgotten=forgotten)
        # the link proved the mailbox: this page's language is the profile's
        notice = await mail_templates.compose(deps, uow, "profile_password_reset", to=profile.email,
                                              language=client.language, principal=ref.key, remember=True,
                                              profile_name=profile.name, sessions_ended=ended)
        await outbox.enqueue(uow, deps.outbox, notice, kind=MailKind.PASSWORD_CHANGED)
    return ended
