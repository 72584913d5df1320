"""Tables, one module per aggregate; every model is importable from here."""

from .account_contacts import AccountContact, RootEmailChange
from .accounts import Account
from .applications import SsoApplication, SsoApplicationAssignment
from .audit import AuditEvent
from .base import Base
from .cli_login import CliLogin, CliLoginGrant, CliLoginRefreshToken, DpopReplay
from .console_oidc import ConsoleOidcLogin
from .counts import EntityCount
from .credentials import AccessKey, MfaDevice, PasswordHistory, TemporaryCredential
from .directory import DirectoryExternalId, DirectoryGroup, DirectoryMembership, DirectoryUser
from .federation_failures import FederationFailureRecord
from .federation_tokens import FederationSigninToken
from .flows import Captcha, FlowRecord, RecoveryToken
from .iam import (
    GroupMembership,
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    ManagedPolicy,
    ManagedPolicyVersion,
    PolicyAttachment,
    Tag,
)
from .identity_center import SsoAssignment, SsoInstance, SsoPermissionSet, SsoProvisioning, SsoRequest
from .identity_providers import OidcProvider, SamlProvider
from .identity_sources import SsoIdentitySource
from .instance_profiles import InstanceProfile
from .lifecycle import AccountLifecycle
from .mail_languages import MailLanguage
from .organizations import CreateAccountRequest, Organization, OrganizationAccount
from .outbound_web_identity import OutboundWebIdentity
from .outbox import OutboxMail
from .profiles import Profile, ProfileExport, ProfileTrustedBrowser
from .recovery_codes import RecoveryCode
from .reports import AccountSettings, CredentialReport, ReportJob, ServiceLastAccessed
from .saml_assertions import SamlAssertionUse
from .scim import ScimToken
from .server_certificates import ServerCertificate
from .service_linked_roles import ServiceLinkedRoleDeletion
from .sessions import KnownBrowser, Session
from .sso_oidc import OidcClient, OidcGrant, OidcToken
from .throttle import ThrottleCounter
from .user_keys import ServiceSpecificCredential, SigningCertificate, SshPublicKey
from .webauthn import WebAuthnCredential

__all__ = [
    "AccessKey",
    "Account",
    "AccountContact",
    "AccountLifecycle",
    "AccountSettings",
    "AuditEvent",
    "Base",
    "Captcha",
    "CliLogin",
    "CliLoginGrant",
    "CliLoginRefreshToken",
    "ConsoleOidcLogin",
    "CreateAccountRequest",
    "CredentialReport",
    "DirectoryExternalId",
    "DirectoryGroup",
    "DirectoryMembership",
    "DirectoryUser",
    "DpopReplay",
    "EntityCount",
    "FederationFailureRecord",
    "FederationSigninToken",
    "FlowRecord",
    "GroupMembership",
    "IamGroup",
    "IamRole",
    "IamUser",
    "InlinePolicy",
    "InstanceProfile",
    "KnownBrowser",
    "MailLanguage",
    "ManagedPolicy",
    "ManagedPolicyVersion",
    "MfaDevice",
    "OidcClient",
    "OidcGrant",
    "OidcProvider",
    "OidcToken",
    "Organization",
    "OrganizationAccount",
    "OutboundWebIdentity",
    "OutboxMail",
    "PasswordHistory",
    "PolicyAttachment",
    "Profile",
    "ProfileExport",
    "ProfileTrustedBrowser",
    "RecoveryCode",
    "RecoveryToken",
    "ReportJob",
    "RootEmailChange",
    "SamlAssertionUse",
    "SamlProvider",
    "ScimToken",
    "ServerCertificate",
    "ServiceLastAccessed",
    "ServiceLinkedRoleDeletion",
    "ServiceSpecificCredential",
    "Session",
    "SigningCertificate",
    "SshPublicKey",
    "SsoApplication",
    "SsoApplicationAssignment",
    "SsoAssignment",
    "SsoIdentitySource",
    "SsoInstance",
    "SsoPermissionSet",
    "SsoProvisioning",
    "SsoRequest",
    "Tag",
    "TemporaryCredential",
    "ThrottleCounter",
    "WebAuthnCredential",
]
