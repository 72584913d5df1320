"""The console's OIDC sign-in buttons: by account (in the order they were added), by account and provider, and
those an IAM sign-in page shows (one statement by account ID or alias, whether or not the account exists; only
buttons whose IAM OIDC provider still exists)."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..models import Account, ConsoleOidcLogin, OidcProvider
from .base import Repository, rowcount


class ConsoleOidcLogins(Repository):
    async def add(self, row: ConsoleOidcLogin) -> None:
        """Conflict when the account already has a button for this provider."""
        await self._add(row)

    async def of_account(self, account_id: str) -> list[ConsoleOidcLogin]:
        stmt = (select(ConsoleOidcLogin).where(ConsoleOidcLogin.account_id == account_id)
                .order_by(ConsoleOidcLogin.created_at, ConsoleOidcLogin.id))
        return list((await self.db.execute(stmt)).scalars())

    async def get(self, account_id: str, provider_arn: str) -> ConsoleOidcLogin | None:
        stmt = select(ConsoleOidcLogin).where(ConsoleOidcLogin.account_id == account_id,
                                              ConsoleOidcLogin.provider_arn == provider_arn)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def remove(self, account_id: str, provider_arn: str) -> bool:
        result = await self.db.execute(delete(ConsoleOidcLogin).where(
            ConsoleOidcLogin.account_id == account_id, ConsoleOidcLogin.provider_arn == provider_arn))
        return rowcount(result) == 1

    async def shown_on(self, account_reference: str, *, by_id: bool) -> list[tuple[str, str, str]]:
        """(account ID, provider ARN, label) of an active account named by ID (`by_id`) or alias, for the
        providers still registered in IAM (a deleted provider's button is not shown)."""
        named = Account.id == account_reference if by_id else Account.alias == account_reference
        stmt = (select(Account.id, ConsoleOidcLogin.provider_arn, ConsoleOidcLogin.label)
                .join(ConsoleOidcLogin, ConsoleOidcLogin.account_id == Account.id)
                .join(OidcProvider, (OidcProvider.arn == ConsoleOidcLogin.provider_arn)
                      & (OidcProvider.account_id == Account.id))
                .where(named, Account.status == "active")
                .order_by(ConsoleOidcLogin.created_at, ConsoleOidcLogin.id))
        return [(str(a), str(p), str(label)) for a, p, label in (await self.db.execute(stmt)).all()]
