"""The IAM and STS operations of botocore's models that Vestibule does not serve, each with the reason.
A request for one answers `InvalidAction`; the contract test `tests/contract/test_served_or_unserved.py`
fails when an operation is neither served nor listed here, or both. Serving one: delete its line here
in the same commit."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_FEDERATION = "federation: not yet (issue 12)"
_DELEGATION = ("delegation requests are AWS's partner-console feature (a partner asks a customer for access); "
               "not applicable to a self-hosted service")
_TEMPLATES = "role templates: no IAM API creates one, so there is none to read or acquire"
_ORGANIZATIONS_REPORT = ("needs an AWS Organizations organization with service control policies, "
                         "which Vestibule does not have")
_BUILDING = "being built"

IAM_UNSERVED: Mapping[str, str] = MappingProxyType({
    "AcceptDelegationRequest": _DELEGATION,
    "AcquireRole": _TEMPLATES,
    "AddClientIDToOpenIDConnectProvider": _FEDERATION,
    "AssociateDelegationRequest": _DELEGATION,
    "CreateDelegationRequest": _DELEGATION,
    "CreateOpenIDConnectProvider": _FEDERATION,
    "CreateSAMLProvider": _FEDERATION,
    "DeleteOpenIDConnectProvider": _FEDERATION,
    "DeleteRolePermissionsBoundary": _BUILDING,
    "DeleteSAMLProvider": _FEDERATION,
    "DeleteUserPermissionsBoundary": _BUILDING,
    "DisableOrganizationsRootCredentialsManagement": _BUILDING,
    "DisableOrganizationsRootSessions": _BUILDING,
    "DisableOutboundWebIdentityFederation": _BUILDING,
    "EnableOrganizationsRootCredentialsManagement": _BUILDING,
    "EnableOrganizationsRootSessions": _BUILDING,
    "EnableOutboundWebIdentityFederation": _BUILDING,
    "GenerateCredentialReport": _BUILDING,
    "GenerateOrganizationsAccessReport": _ORGANIZATIONS_REPORT,
    "GenerateServiceLastAccessedDetails": _BUILDING,
    "GetAccountAuthorizationDetails": _BUILDING,
    "GetAccountProperties": _BUILDING,
    "GetCredentialReport": _BUILDING,
    "GetDelegationRequest": _DELEGATION,
    "GetHumanReadableSummary": ("AWS writes the summary of a delegation request with a large language model; "
                                "there are no delegation requests here and no model"),
    "GetOpenIDConnectProvider": _FEDERATION,
    "GetOrganizationsAccessReport": _ORGANIZATIONS_REPORT,
    "GetOutboundWebIdentityFederationInfo": _BUILDING,
    "GetRoleTemplateVersion": _TEMPLATES,
    "GetSAMLProvider": _FEDERATION,
    "GetServiceLastAccessedDetails": _BUILDING,
    "GetServiceLastAccessedDetailsWithEntities": _BUILDING,
    "ListDelegationRequests": _DELEGATION,
    "ListOpenIDConnectProviderTags": _FEDERATION,
    "ListOpenIDConnectProviders": _FEDERATION,
    "ListOrganizationsFeatures": _BUILDING,
    "ListPoliciesGrantingServiceAccess": _BUILDING,
    "ListSAMLProviderTags": _FEDERATION,
    "ListSAMLProviders": _FEDERATION,
    "PutAccountProperties": _BUILDING,
    "PutRolePermissionsBoundary": _BUILDING,
    "PutUserPermissionsBoundary": _BUILDING,
    "RejectDelegationRequest": _DELEGATION,
    "RemoveClientIDFromOpenIDConnectProvider": _FEDERATION,
    "SendDelegationToken": _DELEGATION,
    "SetSecurityTokenServicePreferences": _BUILDING,
    "TagOpenIDConnectProvider": _FEDERATION,
    "TagSAMLProvider": _FEDERATION,
    "UntagOpenIDConnectProvider": _FEDERATION,
    "UntagSAMLProvider": _FEDERATION,
    "UpdateDelegationRequest": _DELEGATION,
    "UpdateOpenIDConnectProvider": _FEDERATION,
    "UpdateOpenIDConnectProviderThumbprint": _FEDERATION,
    "UpdateSAMLProvider": _FEDERATION,
})

STS_UNSERVED: Mapping[str, str] = MappingProxyType({
    "AssumeRoleWithSAML": _FEDERATION,
    "AssumeRoleWithWebIdentity": _FEDERATION,
    "AssumeRoot": _BUILDING,
    "GetDelegatedAccessToken": ("exchanges the token of an IAM delegation request (AWS's partner-console "
                                "feature); not applicable to a self-hosted service"),
    "GetWebIdentityToken": _BUILDING,
})

UNSERVED: Mapping[str, Mapping[str, str]] = MappingProxyType({"iam": IAM_UNSERVED, "sts": STS_UNSERVED})
