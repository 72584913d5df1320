"""What the access portal shows a signed-in directory user: the accounts assigned to them (directly or through
their groups) with their roles (permission sets), and temporary STS credentials for a role: the same
credentials GetCallerIdentity and every SigV4 operation understand, for the permission set's reserved role,
valid for the permission set's session duration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...core import arns
from ...core.flows.portal_signin import directory_user_ref
from ...core.principals import PrincipalRef
from ...errors import PermissionDenied
from ...store.repositories import UnitOfWork
from .. import audit, temporary_credentials
from ..context import Client, Deps
from ..principals import Principal
from ..signin.completion import SignedIn, complete_sign_in
from . import applications, directory, provisioning
from .applications import Application
from .directory import DirectoryUser
from .instances import Instance
from .permission_sets import PermissionSet


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


async def _assigned(uow: UnitOfWork, instance: Instance, user: DirectoryUser) -> list[tuple[str, PermissionSet]]:
    groups = await directory.group_ids_of_user(uow, user.identity_store_id, user.id)
    return await provisioning.assignments_for_user(uow, instance, user.id, groups)


async def accounts_for(deps: Deps, instance: Instance, user: DirectoryUser) -> list[PortalAccount]:
    async with deps.store.unit() as uow:
        pairs = await _assigned(uow, instance, user)
        by_account: dict[str, list[PortalRole]] = {}
        for account_id, ps in pairs:
            by_account.setdefault(account_id, []).append(
                PortalRole(ps.arn, ps.name, ps.description, ps.session_duration))
        shown = []
        for account_id, roles in by_account.items():
            account = await uow.accounts.get(account_id)
            if account is not None and account.status == "active":
                shown.append(PortalAccount(account.id, account.name, account.root_email, tuple(roles)))
    return shown


async def applications_for(deps: Deps, instance: Instance, user: DirectoryUser) -> list[Application]:
    """The bookmark applications assigned to the user directly or through their groups, by name."""
    async with deps.store.unit() as uow:
        groups = await directory.group_ids_of_user(uow, user.identity_store_id, user.id)
        return await applications.applications_for_user(uow, instance, user.id, groups)


async def role_credentials(deps: Deps, client: Client, instance: Instance, user: DirectoryUser, account_id: str,
                           permission_set_arn: str) -> RoleCredentials:
    """Credentials of the reserved role, issued only for an assignment the user has now; PermissionDenied for
    anything else (another user's account, a permission set not provisioned there)."""
    return await _role_credentials(deps, client, instance, user, account_id,
                                   lambda ps: ps.arn == permission_set_arn, "portal")


async def role_credentials_by_name(deps: Deps, client: Client, instance: Instance, user: DirectoryUser,
                                   account_id: str, role_name: str) -> RoleCredentials:
    """The SSO portal API's GetRoleCredentials: the role is named by its permission set's name, as
    ListAccountRoles lists it; the same rules as `role_credentials`."""
    return await _role_credentials(deps, client, instance, user, account_id, lambda ps: ps.name == role_name,
                                   "sso-api")


async def _role_credentials(deps: Deps, client: Client, instance: Instance, user: DirectoryUser, account_id: str,
                            wanted: Callable[[PermissionSet], bool], method: str) -> RoleCredentials:
    async with deps.store.unit() as uow:
        pairs = await _assigned(uow, instance, user)
        chosen = next((ps for acct, ps in pairs if acct == account_id and wanted(ps)), None)
        role = (await provisioning.reserved_role(uow, instance, chosen.arn, account_id)
                if chosen is not None else None)
        if chosen is None or role is None:
            raise PermissionDenied("No such role is assigned to you.")
        session_name = user.user_name[:64]
        arn = arns.assumed_role_arn(account_id, role.name, session_name)
        issued = await temporary_credentials.issue(
            deps, uow, account_id=account_id, kind="assumed-role",
            source_principal_key=directory_user_ref(user.id).key, arn=arn,
            user_id=f"{role.id}:{session_name}", duration=chosen.session_duration, role_id=role.id,
            session_name=session_name)
        await audit.record(uow, at=deps.clock(), event="GetRoleCredentials", result="Success", client=client,
                           account_id=account_id, principal=user.arn, method=method, role=role.name)
    return RoleCredentials(account_id, role.name, arn, issued.access_key_id, issued.secret_access_key,
                           issued.session_token, issued.expires_at)


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
