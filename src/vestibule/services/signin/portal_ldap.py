"""The access portal's password step when the instance's identity source is an LDAP directory: the password is
checked by the directory (services/identity_center/ldap_directory.py, in a thread), the directory user of that
name is made or brought up to date (email and display name from the entry; membership of the directory groups
named like the entry's LDAP groups, existing groups only), then the portal goes on as for any user (MFA as the
instance says, one completion).

The same throttle and the same "incorrect user name or password" as the portal's own passwords for an unknown
name, a wrong password or a disabled entry with a wrong password. What is not the user's doing (the directory
does not answer, the service account cannot bind) and a disabled entry whose password was right become a
FederationFailure page with a reference (door `portal-ldap`); those attempts are taken back from the counters
when the user's password was never checked."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ...core.federation_failures import Cause, FederationFailure
from ...core.principals import PrincipalKind
from ...core.throttle import ThrottleKey
from ...errors import AlreadyExists, InvalidCredentials, InvalidValue, StaleRevision, VestibuleError
from ...store.repositories import Conflict, UnitOfWork
from ..captcha import CaptchaService
from ..context import Client, Deps
from ..federation.failures import record_failure as record_federation_failure
from ..identity_center import directory, identity_sources
from ..identity_center.directory import DirectoryUser
from ..identity_center.directory_profile import Email, UserProfile
from ..identity_center.instances import Instance
from ..identity_center.ldap_directory import LdapUser, authenticate
from .gate import admit, record_failure, succeeded

ACTOR = "ldap"  # CreatedBy / UpdatedBy of what the directory source writes; memberships it made carry it too
DOOR = "portal-ldap"
_NOT_THE_USERS_DOING = (Cause.LDAP_UNREACHABLE, Cause.LDAP_SERVICE_ACCOUNT)


class LdapSignInFailed(VestibuleError):
    """A failure the user is shown on the federation failure page, under `reference`."""

    code = "federation.failure"

    def __init__(self, failure: FederationFailure, reference: str) -> None:
        super().__init__(failure.detail)
        self.failure, self.reference = failure, reference

    @property
    def status(self) -> int:
        return 503 if self.failure.cause in _NOT_THE_USERS_DOING else 403


async def source_of(deps: Deps, instance: Instance) -> tuple[identity_sources.LdapSource, str] | None:
    async with deps.store.unit() as uow:
        return await identity_sources.ldap_of(deps, uow, instance.arn)


async def verify_password(deps: Deps, client: Client, captcha: CaptchaService, instance: Instance,
                          ldap: tuple[identity_sources.LdapSource, str], keys: list[ThrottleKey], user_name: str,
                          password: str, captcha_answer: str) -> DirectoryUser:
    """The directory user whose LDAP entry accepted `password`, or InvalidCredentials / LdapSignInFailed."""
    source, service_password = ldap
    admission = await admit(deps, client, keys, captcha, captcha_answer)
    try:
        entry = await asyncio.to_thread(authenticate, source, service_password, user_name, password)
        user = await _directory_user(deps, instance, entry)
    except FederationFailure as failure:
        if failure.cause is Cause.INVALID_CREDENTIALS:
            await record_failure(deps, client, kind=PrincipalKind.DIRECTORY_USER,
                                 account_id=instance.owner_account_id, principal="", method="portal_ldap",
                                 reason=f"ldap: {failure.admin.get('reason', 'refused')}")
            raise InvalidCredentials() from None
        if failure.cause in _NOT_THE_USERS_DOING:
            await deps.throttle.settle([], list(admission.keys))  # the user's password was never checked
        reference = await record_federation_failure(deps, client, failure, door=DOOR,
                                                    account_id=instance.owner_account_id,
                                                    provider=source.url, principal=user_name[:256])
        raise LdapSignInFailed(failure, reference) from None
    await succeeded(deps, admission)
    return user


async def _directory_user(deps: Deps, instance: Instance, entry: LdapUser) -> DirectoryUser:
    """The directory user named like the entry, made or updated, with its LDAP-made memberships brought in line
    with the entry's groups (in one transaction; a concurrent first sign-in of the same name reads the winner's)."""
    store = instance.identity_store_id
    for _ in range(3):
        try:
            async with deps.store.unit() as uow:
                user = await _upsert(uow, store, entry, deps.clock())
                if not user.enabled:
                    raise FederationFailure(Cause.USER_DISABLED, "The directory user is disabled.",
                                            admin={"user_name": user.user_name, "user_id": user.id})
                await _sync_groups(uow, store, user, entry.groups, deps.clock())
                await uow.commit()
                return user
        except (AlreadyExists, StaleRevision, Conflict):
            continue
    raise FederationFailure(Cause.LDAP_UNREACHABLE, "The directory user kept changing during the sign-in.",
                            admin={"user_name": entry.user_name})


def _profile(current: UserProfile, entry: LdapUser) -> UserProfile:
    emails = current.emails
    if entry.email and entry.email != current.primary_email:
        emails = (Email(entry.email, "work", True),)
    return replace(current, display_name=entry.display_name or current.display_name, emails=emails)


async def _upsert(uow: UnitOfWork, store: str, entry: LdapUser, now: float) -> DirectoryUser:
    try:
        name = directory.check_user_name(entry.user_name)
    except InvalidValue as exc:
        raise FederationFailure(Cause.USER_NOT_FOUND, "The LDAP user name cannot be a directory user name.",
                                admin={"user_name": entry.user_name, "dn": entry.dn, "error": str(exc)}) from None
    user = await directory.user_by_name(uow, store, name)
    if user is None:
        return await directory.create_user(uow, store, name, _profile(UserProfile(), entry), actor=ACTOR, now=now)
    profile = _profile(user.profile, entry)
    if profile == user.profile:
        return user
    return await directory.replace_user(uow, store, user.id, user.user_name, profile, actor=ACTOR, now=now)


async def _sync_groups(uow: UnitOfWork, store: str, user: DirectoryUser, names: tuple[str, ...],
                       now: float) -> None:
    """Membership of each existing directory group named like one of the entry's groups; memberships this source
    made earlier for groups the entry has left are removed (those an administrator made stay)."""
    wanted: set[str] = set()
    for name in names:
        page = await directory.find_groups(uow, store, display_name=name, limit=1)
        wanted.update(g.id for g in page.items)
    current = await directory.groups_of_user(uow, store, user.id, limit=directory.PAGE_MAX * 10)
    have = {m.group_id: m for m in current.items}
    for group_id in sorted(wanted - have.keys()):
        await directory.add_member(uow, store, group_id, user.id, actor=ACTOR, now=now)
    for group_id, membership in have.items():
        if group_id not in wanted and membership.created_by == ACTOR:
            await directory.remove_member(uow, store, membership.id)
