"""AWS Organizations: organizations, their accounts, CreateAccount requests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update

from ..models import Account, CreateAccountRequest, Organization, OrganizationAccount
from .base import Repository
from .keyset import page_of


class Organizations(Repository):
    async def add(self, organization: Organization, management: OrganizationAccount) -> None:
        """The organization and its management account's membership, one flush (Conflict when the account is
        already in one, also when a concurrent CreateOrganization won)."""
        self.db.add(organization)
        await self._flush()
        self.db.add(management)
        await self._flush()

    async def get(self, organization_id: str) -> Organization | None:
        return await self.db.get(Organization, organization_id)

    async def lock(self, organization_id: str) -> None:
        """Hold the organization's row until the unit ends (a no-op UPDATE, which also takes SQLite's write
        lock): DeleteOrganization and CreateAccount of one organization run one after the other."""
        await self.db.execute(update(Organization).where(Organization.id == organization_id)
                              .values(id=Organization.id).execution_options(synchronize_session=False))

    async def of_account(self, account_id: str) -> Organization | None:
        """The organization the account belongs to (as its management account or a member)."""
        stmt = (select(Organization).join(OrganizationAccount,
                                          OrganizationAccount.organization_id == Organization.id)
                .where(OrganizationAccount.account_id == account_id))
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def delete(self, organization: Organization) -> None:
        await self.db.execute(delete(OrganizationAccount)
                              .where(OrganizationAccount.organization_id == organization.id))
        await self.db.execute(delete(CreateAccountRequest)
                              .where(CreateAccountRequest.organization_id == organization.id))
        await self.db.delete(organization)
        await self._flush()

    async def join(self, membership: OrganizationAccount) -> None:
        await self._add(membership)

    async def member_count(self, organization_id: str) -> int:
        stmt = (select(func.count()).select_from(OrganizationAccount)
                .where(OrganizationAccount.organization_id == organization_id))
        return int((await self.db.execute(stmt)).scalar_one())

    async def accounts(self, organization_id: str) -> Sequence[tuple[OrganizationAccount, Account]]:
        """Every account of the organization with its account row, in the order they joined."""
        stmt = (select(OrganizationAccount, Account).join(Account, Account.id == OrganizationAccount.account_id)
                .where(OrganizationAccount.organization_id == organization_id)
                .order_by(OrganizationAccount.joined_at, OrganizationAccount.account_id))
        return [(row[0], row[1]) for row in (await self.db.execute(stmt)).all()]

    async def accounts_page(self, organization_id: str, *, after: tuple[float, str] | None,
                            limit: int) -> Sequence[tuple[OrganizationAccount, Account]]:
        """Up to `limit + 1` accounts after the key (joined_at, account_id), in the order they joined (the
        index (organization_id, joined_at) serves it)."""
        stmt = (select(OrganizationAccount, Account).join(Account, Account.id == OrganizationAccount.account_id)
                .where(OrganizationAccount.organization_id == organization_id))
        stmt = page_of(stmt, (OrganizationAccount.joined_at, OrganizationAccount.account_id), after, limit)
        return [(row[0], row[1]) for row in (await self.db.execute(stmt)).all()]

    async def account(self, organization_id: str, account_id: str) -> tuple[OrganizationAccount, Account] | None:
        stmt = (select(OrganizationAccount, Account).join(Account, Account.id == OrganizationAccount.account_id)
                .where(OrganizationAccount.organization_id == organization_id,
                       OrganizationAccount.account_id == account_id))
        row = (await self.db.execute(stmt)).one_or_none()
        return None if row is None else (row[0], row[1])


class CreateAccountRequests(Repository):
    async def add(self, request: CreateAccountRequest) -> None:
        await self._add(request)

    async def get(self, organization_id: str, request_id: str) -> CreateAccountRequest | None:
        stmt = select(CreateAccountRequest).where(CreateAccountRequest.organization_id == organization_id,
                                                  CreateAccountRequest.id == request_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def list(self, organization_id: str, states: Sequence[str] | None, *, after: tuple[float, str] | None,
                   limit: int) -> Sequence[CreateAccountRequest]:
        """Up to `limit + 1` requests after the key (requested_at, id), newest first as AWS lists them (the
        index (organization_id, requested_at) serves it, read backwards)."""
        stmt = select(CreateAccountRequest).where(CreateAccountRequest.organization_id == organization_id)
        if states:
            stmt = stmt.where(CreateAccountRequest.state.in_(list(states)))
        stmt = page_of(stmt, (CreateAccountRequest.requested_at, CreateAccountRequest.id), after, limit,
                       descending=True)
        return (await self.db.execute(stmt)).scalars().all()
