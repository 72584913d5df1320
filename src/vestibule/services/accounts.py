"""Accounts: creation (sign-up and CLI), alias, password policy."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import identifiers as ids
from ..core import passwords as rules
from ..errors import AlreadyExists, InvalidInput, NotFound
from ..store.models import Account
from ..store.repositories import Conflict, UnitOfWork
from . import audit
from .context import Client, Deps
from .passwords import check_new_password, stored_policy


@dataclass(frozen=True)
class NewAccount:
    account_id: str
    alias: str | None
    root_email: str
    name: str

    def as_json(self) -> dict[str, str | None]:
        return {"AccountId": self.account_id, "Alias": self.alias, "RootEmail": self.root_email,
                "AccountName": self.name}


def _checked_email(raw: str) -> str:
    try:
        return ids.normalize_email(raw)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("email", str(exc)) from None


# First path segments the server routes itself: `/{alias}/console` must reach the IAM sign-in page
# (for example `/static/console` would be swallowed by the static files).
RESERVED_ALIASES = frozenset({"static", "console", "signin", "signup", "signout", "recovery", "captcha",
                              "portal", "device", "profile", "federation", "saml"})


def _checked_alias(raw: str) -> str:
    try:
        alias = ids.validate_alias(raw)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("alias", str(exc)) from None
    if alias in RESERVED_ALIASES:
        raise InvalidInput("alias", f"The alias {alias!r} is reserved; choose another.")
    return alias


async def create_account(
    deps: Deps,
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    name: str | None = None,
    alias: str | None = None,
    client: Client = Client(),
    via: str = "cli",
    password_hash: str | None = None,
) -> NewAccount:
    """Create an account and its root user. `password_hash` skips hashing when sign-up already did it."""
    root_email = _checked_email(email)
    account_name = (name or root_email.split("@")[0]).strip()
    try:
        account_name = ids.validate_account_name(account_name)
    except ids.InvalidIdentifier as exc:
        raise InvalidInput("account_name", str(exc)) from None
    if alias is not None:
        alias = _checked_alias(alias)
        if await uow.accounts.by_alias(alias) is not None:
            raise AlreadyExists("alias", "That alias is already taken.")
    if (await uow.accounts.by_email(root_email) is not None
            or await uow.root_email_changes.reserved_for(root_email, deps.clock()) is not None):  # an undo link's
        raise AlreadyExists("email", "That email address cannot be used for a new account.")
    if password_hash is None:
        password_hash = await check_new_password(deps, uow, rules.ROOT_POLICY, "", password, None, None)
    now = deps.clock()
    for _ in range(10):
        account_id = ids.new_account_id()
        if await uow.accounts.get(account_id) is None:
            break
    else:
        raise RuntimeError("could not find a free account ID")
    account = Account(
        id=account_id,
        name=account_name,
        alias=alias,
        root_email=root_email,
        root_password_hash=password_hash,
        root_password_changed_at=now,
        status="active",
        password_policy=None,
        created_at=now,
    )
    try:
        await uow.accounts.add(account)
    except Conflict:
        raise AlreadyExists("email", "That email address or alias cannot be used for a new account.") from None
    await audit.record(
        uow, at=now, event="AccountCreated", result="Success", client=client, account_id=account_id,
        principal=ids.root_arn(account_id), method=via,
    )
    return NewAccount(account_id, alias, root_email, account_name)


async def resolve(uow: UnitOfWork, reference: str) -> Account | None:
    """An account by 12-digit ID (hyphens allowed) or alias; None when unknown or closed."""
    ref = ids.parse_account_reference(reference)
    account = await (uow.accounts.get(ref) if ids.is_account_id(ref) else uow.accounts.by_alias(ref))
    if account is None or account.status != "active":
        return None
    return account


async def require(uow: UnitOfWork, reference: str) -> Account:
    account = await resolve(uow, reference)
    if account is None:
        raise NotFound(f"no account {reference!r}")
    return account


async def set_alias(deps: Deps, uow: UnitOfWork, account: Account, alias: str | None, client: Client = Client(),
                    *, audited: bool = True) -> None:
    if alias is not None:
        alias = _checked_alias(alias)
        other = await uow.accounts.by_alias(alias)
        if other is not None and other.id != account.id:
            raise AlreadyExists("alias", "That alias is already taken.")
    old = account.alias
    account.alias = alias
    try:
        await uow.accounts.save()
    except Conflict:
        raise AlreadyExists("alias", "That alias is already taken.") from None
    if audited:
        await audit.record(
            uow, at=deps.clock(), event="AccountAliasChanged", result="Success", client=client,
            account_id=account.id, principal=ids.root_arn(account.id), method="cli", old=old, new=alias,
        )


async def set_password_policy(
    deps: Deps, uow: UnitOfWork, account: Account, policy: rules.PasswordPolicy | None, client: Client = Client(),
    *, audited: bool = True, refuse_breached: bool | None = None,
) -> None:
    """Replace (None: remove) the IAM password policy; the breached-password option is kept unless given."""
    account.password_policy = stored_policy(account, policy, refuse_breached)
    await uow.accounts.save()
    if not audited:
        return
    await audit.record(
        uow, at=deps.clock(), event="PasswordPolicyChanged", result="Success", client=client,
        account_id=account.id, principal=ids.root_arn(account.id), method="cli",
        policy=account.password_policy,
    )
