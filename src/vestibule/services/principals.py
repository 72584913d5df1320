"""Who signs in: a PrincipalRef with what pages show about it (names, account, alias, ARN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.identifiers import format_account_id, root_arn, user_arn
from ..core.principals import InvalidPrincipalKey, PrincipalKind, PrincipalRef
from ..store.models import Account, IamUser, Profile
from ..store.repositories import UnitOfWork


@dataclass(frozen=True)
class Principal:
    ref: PrincipalRef
    account_id: str
    account_name: str
    account_alias: str | None
    name: str  # "root" or the IAM user name (a profile's: its name)
    arn: str  # a profile's: `profile/<id>` (what its audit events name)
    email: str | None = None  # a personal profile's

    @property
    def key(self) -> str:
        return self.ref.key

    @property
    def kind(self) -> Literal["root", "iam"]:
        return "root" if self.ref.kind == PrincipalKind.ROOT else "iam"

    @property
    def user_id(self) -> str | None:
        return self.ref.id if self.ref.kind == PrincipalKind.IAM_USER else None

    @property
    def display_name(self) -> str:
        """What the top bar shows: the account name for the root user, else the user name."""
        return self.account_name if self.ref.kind == PrincipalKind.ROOT else self.name

    @property
    def formatted_account_id(self) -> str:
        return format_account_id(self.account_id)


def root_principal(account: Account) -> Principal:
    return Principal(PrincipalRef.root(account.id), account.id, account.name, account.alias, "root",
                     root_arn(account.id))


def user_principal(user: IamUser, account: Account) -> Principal:
    return Principal(PrincipalRef.iam_user(user.id), user.account_id, account.name, account.alias, user.name,
                     user_arn(user.account_id, user.name, user.path))


def profile_principal(profile: Profile) -> Principal:
    """A personal profile: no account (`account_id` is ""), shown by its name and email."""
    return Principal(PrincipalRef.profile(profile.id), "", "", None, profile.name, f"profile/{profile.id}",
                     profile.email)


async def load_profile(uow: UnitOfWork, ref: PrincipalRef) -> Principal | None:
    """The personal profile behind `ref`, or None (another kind, or a deleted profile)."""
    if ref.kind != PrincipalKind.PROFILE:
        return None
    profile = await uow.profiles.by_id(ref.id)
    return None if profile is None else profile_principal(profile)


@dataclass(frozen=True)
class LoadedPrincipal:
    """A principal with the rows a use case needs to change its credentials (never handed to web)."""

    principal: Principal
    account: Account
    user: IamUser | None

    @property
    def password_hash(self) -> str | None:
        return self.account.root_password_hash if self.user is None else self.user.password_hash


async def load_ref(uow: UnitOfWork, ref: PrincipalRef) -> LoadedPrincipal | None:
    if ref.kind == PrincipalKind.ROOT:
        account = await uow.accounts.get(ref.id)
        if account is None or account.status != "active":
            return None
        return LoadedPrincipal(root_principal(account), account, None)
    if ref.kind == PrincipalKind.IAM_USER:
        user = await uow.users.get(ref.id)
        if user is None:
            return None
        account = await uow.accounts.get(user.account_id)
        if account is None or account.status != "active":
            return None
        return LoadedPrincipal(user_principal(user, account), account, user)
    return None


async def load(uow: UnitOfWork, principal_key: str) -> LoadedPrincipal | None:
    try:
        ref = PrincipalRef.parse(principal_key)
    except InvalidPrincipalKey:
        return None
    return await load_ref(uow, ref)
