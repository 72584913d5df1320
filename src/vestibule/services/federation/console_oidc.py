"""Which OIDC providers an account's IAM sign-in page offers as "Sign in with <label>" buttons, configured with
`vestibule federation oidc-signin add|list|remove`. Each names an IAM OIDC provider of the account (registered
with CreateOpenIDConnectProvider), the client ID Vestibule is registered as there (one of the provider's client
IDs, so its ID tokens' `aud` is accepted as AssumeRoleWithWebIdentity accepts it) and, for a confidential
client, its client secret, sealed under the master key."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import arns
from ...core import identifiers as ids
from ...core.tokens import new_token
from ...errors import AlreadyExists, InvalidInput, LimitExceeded, NotFound
from ...store.models import ConsoleOidcLogin
from ...store.repositories import Conflict, UnitOfWork
from .. import audit
from ..context import Client, Deps
from ..iam.identity_providers import OidcProviderView, oidc_provider

MAX_PER_ACCOUNT = 10  # buttons on one sign-in page
MAX_LABEL = 64
MAX_SECRET = 1024


@dataclass(frozen=True)
class ConsoleOidcSignIn:
    """One button: never the client secret, only whether there is one."""

    account_id: str
    provider_arn: str
    client_id: str
    label: str
    has_client_secret: bool
    created_at: float


@dataclass(frozen=True)
class SignInButton:
    account_id: str
    provider_arn: str
    label: str


@dataclass(frozen=True)
class ClientRegistration:
    """What the sign-in uses at the provider: the provider, the client ID and the opened client secret."""

    provider: OidcProviderView
    client_id: str
    client_secret: str | None
    label: str


def secret_context(login_id: str) -> str:
    return f"console-oidc:{login_id}"


def _view(row: ConsoleOidcLogin) -> ConsoleOidcSignIn:
    return ConsoleOidcSignIn(row.account_id, row.provider_arn, row.client_id, row.label,
                             row.client_secret_sealed is not None, row.created_at)


def _checked_label(label: str) -> str:
    label = label.strip()
    if not 1 <= len(label) <= MAX_LABEL or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in label):
        raise InvalidInput("label", f"The label must be 1-{MAX_LABEL} characters without control characters.")
    return label


async def _provider_of_account(uow: UnitOfWork, account_id: str, provider_arn: str) -> OidcProviderView:
    provider = await oidc_provider(uow, provider_arn)
    if provider is None or provider.account_id != account_id:
        raise NotFound(f"no OIDC provider {provider_arn} in account {account_id} "
                       "(register it with `aws iam create-open-id-connect-provider` first)")
    return provider


async def add(deps: Deps, uow: UnitOfWork, account_id: str, provider_arn: str, client_id: str, label: str,
              client_secret: str | None = None, client: Client = Client()) -> ConsoleOidcSignIn:
    """A new button on the account's IAM sign-in page; AlreadyExists when the provider has one there."""
    provider = await _provider_of_account(uow, account_id, provider_arn)
    if client_id not in provider.client_ids:
        raise InvalidInput("client_id", f"{client_id!r} is not a client ID of {provider_arn} (add it with "
                                        "`aws iam add-client-id-to-open-id-connect-provider`)")
    label = _checked_label(label)
    if client_secret is not None and not 1 <= len(client_secret) <= MAX_SECRET:
        raise InvalidInput("client_secret", f"The client secret must be 1-{MAX_SECRET} characters.")
    if await uow.console_oidc_logins.get(account_id, provider_arn) is not None:
        raise AlreadyExists("provider_arn", f"{provider_arn} already has a sign-in button in this account.")
    if len(await uow.console_oidc_logins.of_account(account_id)) >= MAX_PER_ACCOUNT:
        raise LimitExceeded(f"An account's sign-in page shows at most {MAX_PER_ACCOUNT} providers.")
    login_id = new_token()[:24]
    row = ConsoleOidcLogin(id=login_id, account_id=account_id, provider_arn=provider_arn, client_id=client_id,
                           client_secret_sealed=deps.box.seal(client_secret.encode(), secret_context(login_id))
                           if client_secret is not None else None, label=label, created_at=deps.clock())
    try:
        await uow.console_oidc_logins.add(row)
    except Conflict:
        raise AlreadyExists("provider_arn", f"{provider_arn} already has a sign-in button in this account.") from None
    await audit.record(uow, at=deps.clock(), event="ConsoleOidcSignInAdded", result="Success", client=client,
                       account_id=account_id, principal=arns.root_arn(account_id), method="cli",
                       provider=provider_arn, client_id=client_id, label=label,
                       has_client_secret=client_secret is not None)
    return _view(row)


async def list_of(uow: UnitOfWork, account_id: str) -> list[ConsoleOidcSignIn]:
    return [_view(row) for row in await uow.console_oidc_logins.of_account(account_id)]


async def remove(deps: Deps, uow: UnitOfWork, account_id: str, provider_arn: str,
                 client: Client = Client()) -> None:
    if not await uow.console_oidc_logins.remove(account_id, provider_arn):
        raise NotFound(f"{provider_arn} has no sign-in button in account {account_id}")
    await audit.record(uow, at=deps.clock(), event="ConsoleOidcSignInRemoved", result="Success", client=client,
                       account_id=account_id, principal=arns.root_arn(account_id), method="cli",
                       provider=provider_arn)


async def buttons_for(deps: Deps, account_reference: str) -> list[SignInButton]:
    """The buttons of the IAM sign-in page of an account ID or alias (none for an unknown or inactive account:
    one statement either way)."""
    reference = ids.parse_account_reference(account_reference)
    if not reference or len(reference) > 63:
        return []
    async with deps.store.unit() as uow:
        found = await uow.console_oidc_logins.shown_on(reference, by_id=ids.is_account_id(reference))
    return [SignInButton(account_id, arn, label) for account_id, arn, label in found]


async def registration(deps: Deps, uow: UnitOfWork, account_id: str, provider_arn: str) -> ClientRegistration:
    """The button's client registration at its provider; NotFound when either is gone."""
    row = await uow.console_oidc_logins.get(account_id, provider_arn)
    if row is None:
        raise NotFound(f"{provider_arn} has no sign-in button in account {account_id}")
    provider = await _provider_of_account(uow, account_id, provider_arn)
    secret = (deps.box.open(row.client_secret_sealed, secret_context(row.id)).decode()
              if row.client_secret_sealed is not None else None)
    return ClientRegistration(provider, row.client_id, secret, row.label)
