"""What the access portal shows a signed-in directory user: the accounts assigned to them (directly or through
their groups) with their roles (permission sets), and temporary STS credentials for a role: the same
credentials GetCallerIdentity and every SigV4 operation understand, for the permission set's reserved role,
valid for the permission set's session duration."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import arns
from ...core.flows.portal_signin import directory_user_ref
from ...core.pagination import MarkerCodec, Page, PageRequest
from ...core.principals import PrincipalRef
from ...errors import PermissionDenied
from ...store.models import AuditEvent, TemporaryCredential
from ...store.sql import identity_center as ic_rows
from ...store.sql.identity_center import PortalGrant
from .. import audit, temporary_credentials
from ..context import Client, Deps
from ..principals import Principal
from ..signin.completion import SignedIn, complete_sign_in
from . import applications, directory, provisioning
from .applications import Application
from .directory import DirectoryUser
from .instances import Instance


@dataclass(frozen=True)
class PortalRole:
    permission_set_arn: str
    name: str
    description: str | None
    session_duration: int


@dataclass(frozen=True)
class PortalAccount:
    id: str
    name: str
    root_email: str
    roles: tuple[PortalRole, ...]


@dataclass(frozen=True)
class RoleCredentials:
    account_id: str
    role_name: str
    arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float


def _accounts_of(grants: list[PortalGrant]) -> list[PortalAccount]:
    by_account: dict[str, list[PortalGrant]] = {}
    for g in sorted(grants, key=lambda g: (g.account_id, g.name)):
        by_account.setdefault(g.account_id, []).append(g)
    return [PortalAccount(account_id, gs[0].account_name, gs[0].root_email,
                          tuple(PortalRole(g.permission_set_arn, g.name, g.description, g.session_duration)
                                for g in gs))
            for account_id, gs in by_account.items()]


async def accounts_for(deps: Deps, instance: Instance, user: DirectoryUser) -> list[PortalAccount]:
    """The active accounts assigned to the user directly or through their groups, by ID, each with its roles
    (permission sets) by name: one statement, read afresh on every call."""
    grants = await deps.store.run(ic_rows.portal_grants, instance.arn, user.id)
    return _accounts_of(grants)


def account_markers(deps: Deps, instance: Instance, user: DirectoryUser) -> MarkerCodec:
    """The page tokens of one user's accounts (the portal's pages and the SSO portal API's ListAccounts)."""
    return MarkerCodec(deps.box.signing_key, "portal:accounts", instance.arn, user.id, separator="/")


def role_markers(deps: Deps, instance: Instance, user: DirectoryUser, account_id: str) -> MarkerCodec:
    return MarkerCodec(deps.box.signing_key, "portal:roles", instance.arn, user.id, account_id, separator="/")


async def accounts_page(deps: Deps, instance: Instance, user: DirectoryUser,
                        page: PageRequest) -> Page[PortalAccount]:
    """A page of `accounts_for` by account ID (InvalidMarker for a token not of this user's list): one
    statement reading the grants of `limit + 1` accounts, however many the user may use."""
    codec = account_markers(deps, instance, user)
    after = codec.after(page)
    grants = await deps.store.run(ic_rows.portal_account_page, instance.arn, user.id,
                                  None if after is None else after[0], page.limit)
    return codec.page(_accounts_of(grants), page, lambda account: (account.id,))


async def roles_page(deps: Deps, instance: Instance, user: DirectoryUser, account_id: str,
                     page: PageRequest) -> Page[PortalRole]:
    """A page of `roles_in` by role name (the user's roles in one account: bounded by the permission sets
    assigned there, so cut from the whole list)."""
    roles = {role.name: role for role in await roles_in(deps, instance, user, account_id)}
    return role_markers(deps, instance, user, account_id).page_in_memory(list(roles.values()), page,
                                                                         lambda role: (role.name,))


async def roles_in(deps: Deps, instance: Instance, user: DirectoryUser, account_id: str) -> list[PortalRole]:
    """The roles assigned to the user in one account (none when it is not active), by name: one statement."""
    grants = await deps.store.run(ic_rows.portal_grants, instance.arn, user.id,
                                  account_id)
    shown = _accounts_of(grants)
    return list(shown[0].roles) if shown else []


async def applications_for(deps: Deps, instance: Instance, user: DirectoryUser) -> list[Application]:
    """The bookmark applications assigned to the user directly or through their groups, by name."""
    async with deps.store.unit() as uow:
        groups = await directory.group_ids_of_user(uow, user.identity_store_id, user.id)
        return await applications.applications_for_user(uow, instance, user.id, groups)


async def role_credentials(deps: Deps, client: Client, instance: Instance, user: DirectoryUser, account_id: str,
                           permission_set_arn: str) -> RoleCredentials:
    """Credentials of the reserved role, issued only for an assignment the user has now; PermissionDenied for
    anything else (another user's account, a permission set not provisioned there)."""
    return await _role_credentials(deps, client, instance, user, account_id, permission_set_arn, False, "portal")


async def role_credentials_by_name(deps: Deps, client: Client, instance: Instance, user: DirectoryUser,
                                   account_id: str, role_name: str) -> RoleCredentials:
    """The SSO portal API's GetRoleCredentials: the role is named by its permission set's name, as
    ListAccountRoles lists it; the same rules as `role_credentials`."""
    return await _role_credentials(deps, client, instance, user, account_id, role_name, True, "sso-api")


async def _role_credentials(deps: Deps, client: Client, instance: Instance, user: DirectoryUser, account_id: str,
                            permission_set: str, by_name: bool, method: str) -> RoleCredentials:
    """One hot unit: the assignment, provisioning and reserved role read in one statement, then the credential
    and its audit event written in the same transaction (nothing written when there is no such role)."""
    session_name = user.user_name[:64]
    issued: list[temporary_credentials.Issued] = []

    def issue(grant: ic_rows.RoleGrant) -> tuple[TemporaryCredential, AuditEvent]:
        row, creds = temporary_credentials.new_credential(
            deps, account_id=account_id, kind="assumed-role", source_principal_key=directory_user_ref(user.id).key,
            arn=arns.assumed_role_arn(account_id, grant.role_name, session_name),
            user_id=f"{grant.role_id}:{session_name}", duration=grant.session_duration, role_id=grant.role_id,
            session_name=session_name)
        issued.append(creds)
        event = audit.new_event(at=deps.clock(), event="GetRoleCredentials", result="Success", client=client,
                                account_id=account_id, principal=user.arn, method=method, role=grant.role_name)
        return row, event

    grant = await deps.store.run(ic_rows.issue_for_role_grant, instance.arn, user.id,
                                 account_id, permission_set, by_name=by_name, reserved_path=provisioning.PATH,
                                 issue=issue)
    if grant is None:
        raise PermissionDenied("No such role is assigned to you.")
    [creds] = issued
    arn = arns.assumed_role_arn(account_id, grant.role_name, session_name)
    return RoleCredentials(account_id, grant.role_name, arn, creds.access_key_id, creds.secret_access_key,
                           creds.session_token, creds.expires_at)


async def open_console(deps: Deps, client: Client, instance: Instance, user: DirectoryUser, account_id: str,
                       permission_set_arn: str, previous_session: str = "", mfa_used: bool = False) -> SignedIn:
    """A console session as the reserved role (session name: the user name), lasting as long as the role's
    credentials it stands on (the permission set's session duration)."""
    creds = await role_credentials(deps, client, instance, user, account_id, permission_set_arn)
    async with deps.store.unit() as uow:
        account = await uow.accounts.get(account_id)
    if account is None:
        raise PermissionDenied("No such role is assigned to you.")
    principal = Principal(PrincipalRef.role(creds.access_key_id), account.id, account.name, account.alias,
                          f"{creds.role_name}/{creds.arn.rsplit('/', 1)[1]}", creds.arn)
    return await complete_sign_in(deps.session_ports, principal=principal, client=client, method="portal",
                                  mfa_used=mfa_used, previous_session=previous_session,
                                  lifetime=max(1, int(creds.expires_at - deps.clock())))
