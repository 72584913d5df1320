"""Passwords of directory users for the access portal: a one-time password the administrator hands over, or a
mailed single-use link (an invitation is the first one); using the link sets the password. Every reset ends all
the user's portal sessions."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from ...core import passwords as rules
from ...core.flows.base import FlowError, FlowType, encode_data, new_flow
from ...core.flows.portal_signin import (
    INVITATION_LIFETIME,
    RESET_SPEC,
    PortalReset,
    PortalResetFlow,
    PortalResetState,
    directory_user_ref,
)
from ...core.outbox import MailKind
from ...core.tokens import hash_token, new_token
from ...errors import CaptchaInvalid, InvalidInput, NotFound
from ...store.models import FlowRecord
from ...store.repositories import UnitOfWork
from .. import audit, flows, mail_templates, outbox, sessions
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..passwords import check_new_password, hash_password
from . import directory, identity_sources, instances
from .directory import DirectoryUser
from .instances import Instance

CLI = Client(user_agent="vestibule sso user reset-password")
_ALPHABET = string.ascii_letters + string.digits
ONE_TIME_PASSWORD_LENGTH = 20


def portal_policy() -> rules.PasswordPolicy:
    """Directory users' passwords: at least 8 characters, never one known from breaches (the root user's rule),
    wherever the user sets one (the forced change after a one-time password, a mailed reset or invitation link)."""
    return rules.ROOT_POLICY


def portal_url(deps: Deps, instance: Instance) -> str:
    name = instance.settings.portal_subdomain or instance.identity_store_id
    return f"{deps.settings.public_origin}/portal/{name}/start"


async def _target(uow: UnitOfWork, identity_store_id: str, user_name: str) -> tuple[Instance, DirectoryUser]:
    instance = await instances.by_identity_store_id(uow, identity_store_id)
    user = await directory.user_by_name(uow, identity_store_id, user_name) if instance is not None else None
    if instance is None or user is None:
        raise NotFound(f"No user {user_name!r} in identity store {identity_store_id}.")
    kind = (await identity_sources.source_of(uow, instance.arn)).kind
    if kind != identity_sources.DIRECTORY:  # the password a user signs in with is not Vestibule's to set
        where = "LDAP directory" if kind == identity_sources.LDAP else "SAML identity provider"
        raise InvalidInput("identity-source", f"The users of identity store {identity_store_id} sign in with "
                           f"their {where}'s password: reset {user_name!r}'s password there (a Vestibule password "
                           "would not be used).")
    return instance, user


async def end_portal_sessions(deps: Deps, uow: UnitOfWork, user: DirectoryUser, now: float) -> None:
    await sessions.end_all(uow, deps.session_ports, directory_user_ref(user.id).key, now)


async def reset_with_one_time_password(deps: Deps, identity_store_id: str, user_name: str) -> str:
    """A new random password the user must change at the next sign-in; returned once, stored only hashed."""
    password = "".join(secrets.choice(_ALPHABET) for _ in range(ONE_TIME_PASSWORD_LENGTH))
    hashed = await hash_password(deps, password)
    now = deps.clock()
    async with deps.store.unit() as uow:
        instance, user = await _target(uow, identity_store_id, user_name)
        await directory.set_password(uow, identity_store_id, user.id, hashed, must_change=True, now=now)
        await end_portal_sessions(deps, uow, user, now)
        await audit.record(uow, at=now, event="PortalPasswordReset", result="Success", client=CLI,
                           account_id=instance.owner_account_id, principal=user.arn, method="one_time_password")
    return password


async def issue_link(deps: Deps, uow: UnitOfWork, instance: Instance, user: DirectoryUser, *,
                     invitation: bool = False, language: str = "") -> None:
    """Queue the mail with a single-use link to set a password (the flow's ID is the token's hash), in the
    user's remembered language, else `language` (the page's, when a page asked for it), else English."""
    if not user.email:
        raise InvalidInput("user", "The user has no email address to mail the link to.")
    now = deps.clock()
    token = new_token()
    flow = new_flow(RESET_SPEC, hash_token(token), "", now, PortalReset(instance.identity_store_id, user.id,
                                                                        invitation))
    flow.type = FlowType.API
    if invitation:
        flow.expires_at = now + INVITATION_LIFETIME
    await uow.flows.add(FlowRecord(id=flow.id, kind=RESET_SPEC.kind.value, state=flow.state.value, browser_hash="",
                                   issued_at=now, expires_at=flow.expires_at, data=encode_data(flow)))
    link = f"{deps.settings.public_origin}/portal/{instance.settings.portal_subdomain or instance.identity_store_id}" \
           f"/password?token={token}"
    hours = int((flow.expires_at - now) // 3600)
    mail = await mail_templates.compose(
        deps, uow, "portal_invitation" if invitation else "portal_password_reset", to=user.email,
        language=language, principal=directory_user_ref(user.id).key, link=link, hours=hours,
        user_name=user.user_name, portal_url=portal_url(deps, instance))
    await outbox.enqueue(uow, deps.outbox, mail,
                         kind=MailKind.RECOVERY_LINK, lifetime=int(flow.expires_at - now))


async def reset_by_mail(deps: Deps, identity_store_id: str, user_name: str, *, invitation: bool = False) -> str:
    """Mail the link; the user's portal sessions end now. Returns the address mailed."""
    now = deps.clock()
    async with deps.store.unit() as uow:
        instance, user = await _target(uow, identity_store_id, user_name)
        await issue_link(deps, uow, instance, user, invitation=invitation)
        await end_portal_sessions(deps, uow, user, now)
        await audit.record(uow, at=now, event="PortalPasswordReset", result="Success", client=CLI,
                           account_id=instance.owner_account_id, principal=user.arn, method="email_link")
    return user.email or ""


@dataclass(frozen=True)
class OpenLink:
    flow: PortalResetFlow
    user: DirectoryUser


async def open_link(deps: Deps, token: str) -> OpenLink | None:
    """The live link behind `token`, or None (unknown, used or expired: all the same)."""
    if not token or len(token) > 100:
        return None
    async with deps.store.unit() as uow:
        try:
            flow = await flows.load(uow, RESET_SPEC, hash_token(token))
            flow.check("", deps.clock(), PortalResetState.ISSUED)
        except FlowError:
            return None
        user = await directory.get_user(uow, flow.payload.identity_store_id, flow.payload.user_id)
    if user is None or not user.enabled:
        return None
    return OpenLink(flow, user)


async def set_password_from_link(deps: Deps, client: Client, token: str, new_password: str, confirm: str) -> bool:
    """Use the link once: the new password is set, every portal session of the user ends. False: no live link."""
    opened = await open_link(deps, token)
    if opened is None:
        return False
    now = deps.clock()
    async with deps.store.unit() as uow:
        user = opened.user
        ref = directory_user_ref(user.id)
        new_hash = await check_new_password(deps, uow, portal_policy(), ref.key, new_password, confirm,
                                            user.password_hash, must_differ=True)
        opened.flow.complete()
        await flows.save(uow, opened.flow)
        await directory.set_password(uow, user.identity_store_id, user.id, new_hash, must_change=False, now=now)
        await end_portal_sessions(deps, uow, user, now)
        instance = await instances.by_identity_store_id(uow, user.identity_store_id)
        await audit.record(uow, at=now, event="PasswordChanged", result="Success", client=client,
                           account_id=instance.owner_account_id if instance else None, principal=user.arn,
                           method="portal_link")
    return True



async def forgot_password(deps: Deps, client: Client, captcha: CaptchaService, instance: Instance, user_name: str,
                          captcha_answer: str) -> None:
    """'Forgot password': after a solved CAPTCHA (every request costs one), a reset link to an enabled user's
    primary email; the same outcome for a name nobody has (no enumeration). Using the link ends the user's
    portal sessions."""
    if not await captcha.check(client.browser_hash, captcha_answer):
        raise CaptchaInvalid()
    now = deps.clock()
    async with deps.store.unit() as uow:
        user = await directory.user_by_name(uow, instance.identity_store_id, user_name.strip()[:128])
        target = user if user is not None and user.enabled and user.email else None
        if target is not None:
            await issue_link(deps, uow, instance, target, language=client.language)
        await audit.record(uow, at=now, event="PortalPasswordRecoveryRequested",
                           result="Success" if target else "Unknown", client=client,
                           account_id=instance.owner_account_id, principal=target.arn if target else "",
                           method="email_link")
