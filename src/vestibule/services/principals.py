"""Who signs in: the root user of an account or an IAM user in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.identifiers import root_arn, user_arn
from ..store.models import Account, IamUser
from ..store.repositories import UnitOfWork


@dataclass(frozen=True)
class Principal:
    kind: Literal["root", "iam"]
    account_id: str
    user_id: str | None
    name: str  # "root" or the IAM user name
    arn: str

    @property
    def key(self) -> str:
        return f"root:{self.account_id}" if self.kind == "root" else f"user:{self.user_id}"


def root_principal(account: Account) -> Principal:
    return Principal("root", account.id, None, "root", root_arn(account.id))


def user_principal(user: IamUser) -> Principal:
    return Principal("iam", user.account_id, user.id, user.name, user_arn(user.account_id, user.name, user.path))


async def load(uow: UnitOfWork, principal_key: str) -> tuple[Principal, Account, IamUser | None] | None:
    kind, _, ident = principal_key.partition(":")
    if kind == "root":
        account = await uow.accounts.get(ident)
        if account is None or account.status != "active":
            return None
        return root_principal(account), account, None
    if kind == "user":
        user = await uow.users.get(ident)
        if user is None:
            return None
        account = await uow.accounts.get(user.account_id)
        if account is None or account.status != "active":
            return None
        return user_principal(user), account, user
    return None
