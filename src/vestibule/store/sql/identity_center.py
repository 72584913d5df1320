"""Identity Center (SSO Admin) rows: instances, permission sets, provisionings, assignments, request statuses;
and the access portal's reads as hot units (one statement each, `Store.run`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from ..models import (
    Account,
    AuditEvent,
    DirectoryMembership,
    IamRole,
    SsoAssignment,
    SsoInstance,
    SsoPermissionSet,
    SsoProvisioning,
    SsoRequest,
    TemporaryCredential,
)
from .base import Repository
from .hot import Statement, insert
from .keyset import page_of


class IdentityCenter(Repository):
    # instances

    async def add(self, row: SsoInstance | SsoPermissionSet | SsoProvisioning | SsoAssignment | SsoRequest) -> None:
        await self._add(row)

    async def flush(self) -> None:
        await self._flush()

    async def instance(self, arn: str) -> SsoInstance | None:
        return await self.db.get(SsoInstance, arn)

    async def instance_of_store(self, identity_store_id: str) -> SsoInstance | None:
        stmt = select(SsoInstance).where(SsoInstance.identity_store_id == identity_store_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def instance_of_account(self, account_id: str) -> SsoInstance | None:
        stmt = select(SsoInstance).where(SsoInstance.owner_account_id == account_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def instance_of_subdomain(self, subdomain: str) -> SsoInstance | None:
        stmt = select(SsoInstance).where(SsoInstance.portal_subdomain == subdomain)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def delete(self, row: SsoInstance | SsoPermissionSet | SsoProvisioning | SsoAssignment) -> None:
        await self.db.delete(row)
        await self.db.flush()

    # permission sets

    async def permission_set(self, arn: str) -> SsoPermissionSet | None:
        return await self.db.get(SsoPermissionSet, arn)

    async def permission_sets(self, instance_arn: str) -> Sequence[SsoPermissionSet]:
        stmt = (select(SsoPermissionSet).where(SsoPermissionSet.instance_arn == instance_arn)
                .order_by(SsoPermissionSet.created_at, SsoPermissionSet.arn))
        return (await self.db.execute(stmt)).scalars().all()

    async def permission_sets_page(self, instance_arn: str, *, after: Sequence[str] | None,
                                   limit: int) -> Sequence[SsoPermissionSet]:
        """Up to `limit + 1` permission sets after the key (name, arn): the unique (instance_arn, name) index."""
        stmt = select(SsoPermissionSet).where(SsoPermissionSet.instance_arn == instance_arn)
        stmt = page_of(stmt, (SsoPermissionSet.name, SsoPermissionSet.arn), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    # provisionings

    async def provisionings_page(self, instance_arn: str, *, permission_set_arn: str | None = None,
                                 account_id: str | None = None, latest: bool | None, after: Sequence[str] | None,
                                 limit: int) -> Sequence[SsoProvisioning]:
        """Up to `limit + 1` provisionings of one permission set (key (account_id,): the primary key) or to one
        account (key (permission_set_arn,)), `latest` telling whether the set changed since (None: either)."""
        stmt = select(SsoProvisioning).where(SsoProvisioning.instance_arn == instance_arn)
        if permission_set_arn is not None:
            stmt = stmt.where(SsoProvisioning.permission_set_arn == permission_set_arn)
        if account_id is not None:
            stmt = stmt.where(SsoProvisioning.account_id == account_id)
        if latest is not None:
            current = SsoPermissionSet.updated_at <= SsoProvisioning.provisioned_at
            stmt = stmt.join(SsoPermissionSet, SsoPermissionSet.arn == SsoProvisioning.permission_set_arn).where(
                current if latest else sa.not_(current))
        order = SsoProvisioning.account_id if permission_set_arn is not None else SsoProvisioning.permission_set_arn
        return (await self.db.execute(page_of(stmt, (order,), after, limit))).scalars().all()

    async def provisioning(self, permission_set_arn: str, account_id: str) -> SsoProvisioning | None:
        return await self.db.get(SsoProvisioning, (permission_set_arn, account_id))

    async def provisionings(self, instance_arn: str, *, permission_set_arn: str | None = None,
                            account_id: str | None = None) -> Sequence[SsoProvisioning]:
        stmt = select(SsoProvisioning).where(SsoProvisioning.instance_arn == instance_arn)
        if permission_set_arn is not None:
            stmt = stmt.where(SsoProvisioning.permission_set_arn == permission_set_arn)
        if account_id is not None:
            stmt = stmt.where(SsoProvisioning.account_id == account_id)
        stmt = stmt.order_by(SsoProvisioning.provisioned_at, SsoProvisioning.account_id)
        return (await self.db.execute(stmt)).scalars().all()

    # assignments

    async def assignment(self, permission_set_arn: str, account_id: str, principal_type: str,
                         principal_id: str) -> SsoAssignment | None:
        return await self.db.get(SsoAssignment, (permission_set_arn, account_id, principal_type, principal_id))

    async def assignments(self, instance_arn: str, *, permission_set_arn: str | None = None,
                          account_id: str | None = None, principals: Sequence[tuple[str, str]] | None = None
                          ) -> Sequence[SsoAssignment]:
        stmt = select(SsoAssignment).where(SsoAssignment.instance_arn == instance_arn)
        if permission_set_arn is not None:
            stmt = stmt.where(SsoAssignment.permission_set_arn == permission_set_arn)
        if account_id is not None:
            stmt = stmt.where(SsoAssignment.account_id == account_id)
        if principals is not None:
            ids = [p for _, p in principals]
            stmt = stmt.where(SsoAssignment.principal_id.in_(ids))
        stmt = stmt.order_by(SsoAssignment.created_at, SsoAssignment.account_id, SsoAssignment.principal_id)
        rows = (await self.db.execute(stmt)).scalars().all()
        if principals is None:
            return rows
        wanted = set(principals)
        return [r for r in rows if (r.principal_type, r.principal_id) in wanted]

    async def assignments_page(self, permission_set_arn: str, account_id: str, *, after: Sequence[str] | None,
                               limit: int) -> Sequence[SsoAssignment]:
        """Up to `limit + 1` assignments of a permission set in an account after (principal_type, principal_id):
        the primary key serves it."""
        stmt = select(SsoAssignment).where(SsoAssignment.permission_set_arn == permission_set_arn,
                                           SsoAssignment.account_id == account_id)
        stmt = page_of(stmt, (SsoAssignment.principal_type, SsoAssignment.principal_id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def assignments_of_principal_page(self, instance_arn: str, principal_type: str, principal_id: str,
                                            account_id: str | None, *, after: Sequence[str] | None,
                                            limit: int) -> Sequence[SsoAssignment]:
        """Up to `limit + 1` of a principal's assignments after (account_id, permission_set_arn)."""
        stmt = select(SsoAssignment).where(SsoAssignment.instance_arn == instance_arn,
                                           SsoAssignment.principal_id == principal_id,
                                           SsoAssignment.principal_type == principal_type)
        if account_id is not None:
            stmt = stmt.where(SsoAssignment.account_id == account_id)
        stmt = page_of(stmt, (SsoAssignment.account_id, SsoAssignment.permission_set_arn), after, limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def delete_assignments_of_principal(self, instance_arn: str, principal_id: str) -> None:
        await self.db.execute(delete(SsoAssignment).where(SsoAssignment.instance_arn == instance_arn,
                                                          SsoAssignment.principal_id == principal_id))

    # request statuses

    async def request(self, instance_arn: str, kind: str, request_id: str) -> SsoRequest | None:
        row = await self.db.get(SsoRequest, request_id)
        return row if row is not None and row.instance_arn == instance_arn and row.kind == kind else None

    async def requests(self, instance_arn: str, kind: str, status: str | None) -> Sequence[SsoRequest]:
        stmt = select(SsoRequest).where(SsoRequest.instance_arn == instance_arn, SsoRequest.kind == kind)
        if status is not None:
            stmt = stmt.where(SsoRequest.status == status)
        stmt = stmt.order_by(SsoRequest.created_at, SsoRequest.id)
        return (await self.db.execute(stmt)).scalars().all()

    async def requests_page(self, instance_arn: str, kind: str, status: str | None, *,
                            after: tuple[float, str] | None, limit: int) -> Sequence[SsoRequest]:
        """Up to `limit + 1` requests after (created_at, id), oldest first: the (instance_arn, kind, created_at)
        index serves it."""
        stmt = select(SsoRequest).where(SsoRequest.instance_arn == instance_arn, SsoRequest.kind == kind)
        if status is not None:
            stmt = stmt.where(SsoRequest.status == status)
        stmt = page_of(stmt, (SsoRequest.created_at, SsoRequest.id), after, limit)
        return (await self.db.execute(stmt)).scalars().all()


# ---- the access portal: what a directory user may use, as hot units (`Store.run`) ------------------------

_assignments = cast(sa.Table, SsoAssignment.__table__)
_sets = cast(sa.Table, SsoPermissionSet.__table__)
_provisionings = cast(sa.Table, SsoProvisioning.__table__)
_accounts = cast(sa.Table, Account.__table__)
_roles = cast(sa.Table, IamRole.__table__)
_members = cast(sa.Table, DirectoryMembership.__table__)


@dataclass(frozen=True, slots=True)
class PortalGrant:
    """One (account, permission set) assigned to a user, with what the portal shows of both."""

    account_id: str
    account_name: str
    root_email: str
    permission_set_arn: str
    name: str
    description: str | None
    session_duration: int


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """An assigned permission set provisioned to the account, and its reserved role there."""

    permission_set_arn: str
    session_duration: int
    role_id: str
    role_name: str


def _assigned_to_user() -> sa.Join:
    """The user's assignments in the instance, with their permission sets. The principals an assignment may
    name come first: the user and each group of theirs (memberships by user ID: a user ID is unique across
    stores, its memberships are all in its store), each then one index lookup (ix_sso_assignments_principal)."""
    user = sa.bindparam("user_id", type_=sa.String())
    direct = sa.select(sa.literal("USER", sa.String()).label("kind"), user.label("id"))
    groups = sa.select(sa.literal("GROUP", sa.String()), _members.c.group_id).where(_members.c.user_id == user)
    principals = sa.union_all(direct, groups).subquery("principals")
    return (principals
            .join(_assignments, sa.and_(_assignments.c.instance_arn == sa.bindparam("instance_arn"),
                                        _assignments.c.principal_id == principals.c.id,
                                        _assignments.c.principal_type == principals.c.kind))
            .join(_sets, _sets.c.arn == _assignments.c.permission_set_arn))


def _grants(by_account: bool) -> Statement:
    assigned = _assigned_to_user()
    stmt = (sa.select(_assignments.c.account_id, _accounts.c.name, _accounts.c.root_email, _sets.c.arn,
                      _sets.c.name, _sets.c.description, _sets.c.session_duration)
            .select_from(assigned.join(_accounts, _accounts.c.id == _assignments.c.account_id))
            .where(_accounts.c.status == "active"))
    if by_account:
        stmt = stmt.where(_assignments.c.account_id == sa.bindparam("account_id"))
    return Statement(stmt)


def _role_grant(by_name: bool) -> Statement:
    assigned = _assigned_to_user()
    chosen = (_sets.c.name == sa.bindparam("permission_set") if by_name
              else _sets.c.arn == sa.bindparam("permission_set"))
    stmt = (sa.select(_sets.c.arn, _sets.c.session_duration, _roles.c.id, _roles.c.name)
            .select_from(assigned
                         .join(_provisionings, sa.and_(_provisionings.c.permission_set_arn == _sets.c.arn,
                                                       _provisionings.c.account_id == _assignments.c.account_id,
                                                       _provisionings.c.instance_arn == sa.bindparam("instance_arn")))
                         .join(_roles, sa.and_(_roles.c.account_id == _provisionings.c.account_id,
                                               _roles.c.name == _provisionings.c.role_name,
                                               _roles.c.path == sa.bindparam("reserved_path")))
                         .join(_accounts, _accounts.c.id == _assignments.c.account_id))
            .where(_assignments.c.account_id == sa.bindparam("account_id"), chosen,
                   _accounts.c.status == "active")
            .limit(1))
    return Statement(stmt)


def _account_page(after: bool) -> Statement:
    """The grants in the first `limit + 1` active accounts assigned to the user after `after`, by account ID:
    the portal's page of accounts, whatever the number the user may use."""
    assigned = _assigned_to_user()
    accounts = (sa.select(_assignments.c.account_id).distinct()
                .select_from(assigned.join(_accounts, _accounts.c.id == _assignments.c.account_id))
                .where(_accounts.c.status == "active"))
    if after:
        accounts = accounts.where(_assignments.c.account_id > sa.bindparam("after"))
    page = accounts.order_by(_assignments.c.account_id).limit(sa.bindparam("limit", type_=sa.Integer())).subquery()
    assigned = _assigned_to_user()
    stmt = (sa.select(_assignments.c.account_id, _accounts.c.name, _accounts.c.root_email, _sets.c.arn,
                      _sets.c.name, _sets.c.description, _sets.c.session_duration)
            .select_from(assigned.join(_accounts, _accounts.c.id == _assignments.c.account_id))
            .where(_assignments.c.account_id.in_(sa.select(page.c.account_id))))
    return Statement(stmt)


_GRANTS = _grants(by_account=False)
_ACCOUNT_PAGE = _account_page(after=False)
_ACCOUNT_PAGE_AFTER = _account_page(after=True)
_GRANTS_IN_ACCOUNT = _grants(by_account=True)
_ROLE_GRANT_BY_NAME = _role_grant(by_name=True)
_ROLE_GRANT_BY_ARN = _role_grant(by_name=False)


def portal_grants(conn: Connection, instance_arn: str, user_id: str, account_id: str | None = None
                  ) -> list[PortalGrant]:
    """Every (active account, permission set) assigned to the user directly or through one of their groups
    in the instance, each once, in no particular order; only those in `account_id` when given. One statement."""
    params = {"instance_arn": instance_arn, "user_id": user_id}
    if account_id is None:
        rows = _GRANTS.rows(conn, params)
    else:
        rows = _GRANTS_IN_ACCOUNT.rows(conn, {**params, "account_id": account_id})
    return _unique_grants(rows)


def portal_account_page(conn: Connection, instance_arn: str, user_id: str, after: str | None,
                        limit: int) -> list[PortalGrant]:
    """The grants of the first `limit + 1` active accounts after `after` (by ID) assigned to the user directly
    or through one of their groups, each (account, permission set) once. One statement."""
    params: dict[str, object] = {"instance_arn": instance_arn, "user_id": user_id, "limit": limit + 1}
    rows = (_ACCOUNT_PAGE.rows(conn, params) if after is None
            else _ACCOUNT_PAGE_AFTER.rows(conn, {**params, "after": after}))
    return _unique_grants(rows)


def _unique_grants(rows: Sequence[tuple[Any, ...]]) -> list[PortalGrant]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        if (r[0], r[3]) not in seen:  # assigned both directly and through a group, or through two groups
            seen.add((r[0], r[3]))
            out.append(PortalGrant(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6])))
    return out


RoleIssue = Callable[[RoleGrant], tuple[TemporaryCredential, AuditEvent]]


def issue_for_role_grant(conn: Connection, instance_arn: str, user_id: str, account_id: str, permission_set: str,
                         *, by_name: bool, reserved_path: str, issue: RoleIssue) -> RoleGrant | None:
    """The permission set (by name, or by ARN) assigned to the user in the active account directly or through one of
    their groups, provisioned there by this instance, and its reserved role (at `reserved_path`): one
    statement. When found, `issue` makes the credential and audit rows for it and both are written in this
    unit's transaction; None (nothing written) otherwise."""
    row = (_ROLE_GRANT_BY_NAME if by_name else _ROLE_GRANT_BY_ARN).first(conn, {
        "instance_arn": instance_arn, "user_id": user_id, "account_id": account_id,
        "permission_set": permission_set, "reserved_path": reserved_path})
    if row is None:
        return None
    grant = RoleGrant(row[0], int(row[1]), row[2], row[3])
    credential, event = issue(grant)
    insert(conn, credential)
    insert(conn, event)
    return grant
