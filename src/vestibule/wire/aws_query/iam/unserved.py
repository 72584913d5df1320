"""The IAM and STS operations of botocore's models that Vestibule does not serve, each with the reason.
A request for one answers `InvalidAction`; the contract test `tests/contract/test_served_or_unserved.py`
fails when an operation is neither served nor listed here, or both. Serving one: delete its line here
in the same commit."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_DELEGATION = ("delegation requests are AWS's partner-console feature (a partner asks a customer for access); "
               "not applicable to a self-hosted service")
_TEMPLATES = "role templates: no IAM API creates one, so there is none to read or acquire"
_ACCOUNT_PROPERTIES = ("account properties configure Role Manager, an AWS feature Vestibule does not have; AWS "
                       "documents no property keys or value types to validate against")

IAM_UNSERVED: Mapping[str, str] = MappingProxyType({
    "AcceptDelegationRequest": _DELEGATION,
    "AcquireRole": _TEMPLATES,
    "AssociateDelegationRequest": _DELEGATION,
    "CreateDelegationRequest": _DELEGATION,
    "GetAccountProperties": _ACCOUNT_PROPERTIES,
    "GetDelegationRequest": _DELEGATION,
    "GetHumanReadableSummary": ("AWS writes the summary of a delegation request with a large language model; "
                                "there are no delegation requests here and no model"),
    "GetRoleTemplateVersion": _TEMPLATES,
    "ListDelegationRequests": _DELEGATION,
    "PutAccountProperties": _ACCOUNT_PROPERTIES,
    "RejectDelegationRequest": _DELEGATION,
    "SendDelegationToken": _DELEGATION,
    "UpdateDelegationRequest": _DELEGATION,
})

STS_UNSERVED: Mapping[str, str] = MappingProxyType({
    "GetDelegatedAccessToken": ("exchanges the token of an IAM delegation request (AWS's partner-console "
                                "feature); not applicable to a self-hosted service"),
})

UNSERVED: Mapping[str, Mapping[str, str]] = MappingProxyType({"iam": IAM_UNSERVED, "sts": STS_UNSERVED})
