"""The unit of work (one transaction) and the store that opens units.

A unit builds a repository the first time a use case asks for it and keeps it for the rest of the
transaction, so a step that touches two aggregates pays for two repositories, not for every one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session as SyncSession

from .access_keys import AccessKeys, TemporaryCredentials
from .account_contacts import AccountContacts, RootEmailChanges
from .account_details import AccountDetails
from .accounts import Accounts
from .applications import Applications
from .audit import AuditEvents
from .base import Conflict
from .cli_login import CliLoginGrants, CliLoginRefreshTokens, CliLogins, DpopReplays
from .console_oidc import ConsoleOidcLogins
from .counts import EntityCounts
from .directory import Directory
from .expiry import ExpiredRows
from .federation_failures import FederationFailures
from .federation_tokens import FederationSigninTokens
from .flows import Captchas, Flows, RecoveryTokens
from .iam import Groups, Policies, Roles, Tags
from .iam_users import Users
from .identity_center import IdentityCenter
from .identity_providers import OidcProviders, SamlProviders
from .identity_sources import IdentitySources
from .instance_profiles import InstanceProfiles
from .lifecycle import AccountLifecycles
from .mail_languages import MailLanguages
from .mfa import MfaDevices, VirtualMfa
from .organizations import CreateAccountRequests, Organizations
from .outbound_web_identity import OutboundWebIdentities
from .outbox import MailOutbox
from .passwords import PasswordHistories
from .profiles import ProfileExports, Profiles, ProfileTrustedBrowsers
from .recovery_codes import RecoveryCodes
from .reports import AccountSettingsRows, CredentialReports, LastAccessed, ReportJobs
from .saml_assertions import SamlAssertionUses
from .scim import ScimTokens
from .server_certificates import ServerCertificates
from .service_linked_roles import ServiceLinkedRoleDeletions
from .sessions import Browsers, Sessions
from .sso_oidc import OidcClients, OidcGrants, OidcTokens
from .sync_units import SyncUnits
from .throttle import ThrottleCounters
from .user_keys import CredentialOwners, ServiceCredentials, SigningCertificates, SshPublicKeys
from .webauthn import WebAuthnCredentials

AfterCommit = Callable[[], Awaitable[None]]
T = TypeVar("T")
A = ParamSpec("A")


class UnitOfWork:
    """One transaction and the repositories that work inside it, each built on first use."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self._after_commit: list[AfterCommit] = []

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.db)

    @cached_property
    def account_contacts(self) -> AccountContacts:
        return AccountContacts(self.db)

    @cached_property
    def root_email_changes(self) -> RootEmailChanges:
        return RootEmailChanges(self.db)

    @cached_property
    def lifecycle(self) -> AccountLifecycles:
        return AccountLifecycles(self.db)

    @cached_property
    def users(self) -> Users:
        return Users(self.db)

    @cached_property
    def password_history(self) -> PasswordHistories:
        return PasswordHistories(self.db)

    @cached_property
    def mfa(self) -> MfaDevices:
        return MfaDevices(self.db)

    @cached_property
    def virtual_mfa(self) -> VirtualMfa:
        return VirtualMfa(self.db)

    @cached_property
    def webauthn(self) -> WebAuthnCredentials:
        return WebAuthnCredentials(self.db)

    @cached_property
    def sessions(self) -> Sessions:
        return Sessions(self.db)

    @cached_property
    def browsers(self) -> Browsers:
        return Browsers(self.db)

    @cached_property
    def flows(self) -> Flows:
        return Flows(self.db)

    @cached_property
    def recovery(self) -> RecoveryTokens:
        return RecoveryTokens(self.db)

    @cached_property
    def recovery_codes(self) -> RecoveryCodes:
        return RecoveryCodes(self.db)

    @cached_property
    def captchas(self) -> Captchas:
        return Captchas(self.db)

    @cached_property
    def mail_languages(self) -> MailLanguages:
        return MailLanguages(self.db)

    @cached_property
    def throttle(self) -> ThrottleCounters:
        return ThrottleCounters(self.db)

    @cached_property
    def audit(self) -> AuditEvents:
        return AuditEvents(self.db)

    @cached_property
    def access_keys(self) -> AccessKeys:
        return AccessKeys(self.db)

    @cached_property
    def temp_credentials(self) -> TemporaryCredentials:
        return TemporaryCredentials(self.db)

    @cached_property
    def groups(self) -> Groups:
        return Groups(self.db)

    @cached_property
    def roles(self) -> Roles:
        return Roles(self.db)

    @cached_property
    def instance_profiles(self) -> InstanceProfiles:
        return InstanceProfiles(self.db)

    @cached_property
    def policies(self) -> Policies:
        return Policies(self.db)

    @cached_property
    def tags(self) -> Tags:
        return Tags(self.db)

    @cached_property
    def ssh_keys(self) -> SshPublicKeys:
        return SshPublicKeys(self.db)

    @cached_property
    def signing_certificates(self) -> SigningCertificates:
        return SigningCertificates(self.db)

    @cached_property
    def service_credentials(self) -> ServiceCredentials:
        return ServiceCredentials(self.db)

    @cached_property
    def credential_owners(self) -> CredentialOwners:
        return CredentialOwners(self.db)

    @cached_property
    def server_certificates(self) -> ServerCertificates:
        return ServerCertificates(self.db)

    @cached_property
    def oidc_providers(self) -> OidcProviders:
        return OidcProviders(self.db)

    @cached_property
    def saml_providers(self) -> SamlProviders:
        return SamlProviders(self.db)

    @cached_property
    def federation_signin_tokens(self) -> FederationSigninTokens:
        return FederationSigninTokens(self.db)

    @cached_property
    def service_linked_role_deletions(self) -> ServiceLinkedRoleDeletions:
        return ServiceLinkedRoleDeletions(self.db)

    @cached_property
    def identity_center(self) -> IdentityCenter:
        return IdentityCenter(self.db)

    @cached_property
    def identity_sources(self) -> IdentitySources:
        return IdentitySources(self.db)

    @cached_property
    def applications(self) -> Applications:
        return Applications(self.db)

    @cached_property
    def scim_tokens(self) -> ScimTokens:
        return ScimTokens(self.db)

    @cached_property
    def oidc_clients(self) -> OidcClients:
        return OidcClients(self.db)

    @cached_property
    def oidc_grants(self) -> OidcGrants:
        return OidcGrants(self.db)

    @cached_property
    def oidc_tokens(self) -> OidcTokens:
        return OidcTokens(self.db)

    @cached_property
    def cli_login_grants(self) -> CliLoginGrants:
        return CliLoginGrants(self.db)

    @cached_property
    def cli_logins(self) -> CliLogins:
        return CliLogins(self.db)

    @cached_property
    def cli_login_refresh_tokens(self) -> CliLoginRefreshTokens:
        return CliLoginRefreshTokens(self.db)

    @cached_property
    def dpop_replays(self) -> DpopReplays:
        return DpopReplays(self.db)

    @cached_property
    def saml_assertion_uses(self) -> SamlAssertionUses:
        return SamlAssertionUses(self.db)

    @cached_property
    def console_oidc_logins(self) -> ConsoleOidcLogins:
        return ConsoleOidcLogins(self.db)

    @cached_property
    def directory(self) -> Directory:
        return Directory(self.db)

    @cached_property
    def organizations(self) -> Organizations:
        return Organizations(self.db)

    @cached_property
    def create_account_requests(self) -> CreateAccountRequests:
        return CreateAccountRequests(self.db)

    @cached_property
    def outbound_web_identities(self) -> OutboundWebIdentities:
        return OutboundWebIdentities(self.db)

    @cached_property
    def credential_reports(self) -> CredentialReports:
        return CredentialReports(self.db)

    @cached_property
    def report_jobs(self) -> ReportJobs:
        return ReportJobs(self.db)

    @cached_property
    def last_accessed(self) -> LastAccessed:
        return LastAccessed(self.db)

    @cached_property
    def account_settings(self) -> AccountSettingsRows:
        return AccountSettingsRows(self.db)

    @cached_property
    def account_details(self) -> AccountDetails:
        return AccountDetails(self.db)

    @cached_property
    def entity_counts(self) -> EntityCounts:
        return EntityCounts(self.db)

    @cached_property
    def federation_failures(self) -> FederationFailures:
        return FederationFailures(self.db)

    @cached_property
    def expired(self) -> ExpiredRows:
        return ExpiredRows(self.db)

    @cached_property
    def outbox(self) -> MailOutbox:
        return MailOutbox(self.db)

    @cached_property
    def profiles(self) -> Profiles:
        return Profiles(self.db)

    @cached_property
    def profile_trusted_browsers(self) -> ProfileTrustedBrowsers:
        return ProfileTrustedBrowsers(self.db)

    @cached_property
    def profile_exports(self) -> ProfileExports:
        return ProfileExports(self.db)

    async def run(self, fn: Callable[Concatenate[Connection, A], T], *args: A.args, **kwargs: A.kwargs) -> T:
        """A hot unit (`hot.py`) inside this unit's transaction, after the ORM's pending changes."""
        try:
            return await self.db.run_sync(_on_connection, fn, args, kwargs)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None

    def after_commit(self, action: AfterCommit) -> None:
        """Run `action` once this unit has committed (never when it rolls back): e.g. publishing an
        invalidation, so other nodes cannot re-read the old row before the new one is visible."""
        self._after_commit.append(action)

    async def commit(self) -> None:
        try:
            await self.db.commit()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None

    async def _run_after_commit(self) -> None:
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            await action()


def _on_connection(session: SyncSession, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    session.flush()
    connection: Connection = session.connection()
    return fn(connection, *args, **kwargs)


class Store:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        bind = sessionmaker.kw.get("bind")
        self._units = SyncUnits(bind) if isinstance(bind, AsyncEngine) else None

    async def run(self, fn: Callable[Concatenate[Connection, A], T], *args: A.args, **kwargs: A.kwargs) -> T:
        """A hot unit of work (`hot.py`): `fn(connection, *args)` in a transaction of its own, one hand-off."""
        if self._units is None:
            raise RuntimeError("a store without an engine runs no hot units")
        return await self._units.run(fn, *args, **kwargs)

    async def close(self) -> None:
        """Stop the hot units' thread and close its connection (the engine is disposed by its owner)."""
        if self._units is not None:
            await self._units.close()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitOfWork]:
        """Commit when the block ends normally, roll back when it raises."""
        async with self._sessionmaker() as db:
            uow = UnitOfWork(db)
            try:
                yield uow
                await uow.commit()
            except BaseException:
                await db.rollback()
                raise
        await uow._run_after_commit()
