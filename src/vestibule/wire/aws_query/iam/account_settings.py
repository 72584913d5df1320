"""Account-level settings and the operations of AWS Organizations features: the STS global endpoint's token
version, centralized root access, the Organizations access report."""

from __future__ import annotations

from ....services.iam import account_settings, organizations
from ...members import enum, text
from ..request import QueryRequest
from ..xml import Result, Timestamp
from .members import MARKER, MAX_ITEMS
from .shapes import Shape
from .table import IAM

TOKEN_VERSION = enum("GlobalEndpointTokenVersion", *account_settings.TOKEN_VERSIONS).required()
ENTITY_PATH = text("EntityPath", 19, 427, r"^o-[0-9a-z]{10,32}\/r-[0-9a-z]{4,32}[0-9a-z-\/]*").required()
POLICY_ID = text("OrganizationsPolicyId", pattern=r"^p-[0-9a-zA-Z_]{8,128}$")
JOB_ID = text("JobId", 36, 36).required()
SORT_KEY = enum("SortKey", "SERVICE_NAMESPACE_ASCENDING", "SERVICE_NAMESPACE_DESCENDING",
                "LAST_AUTHENTICATED_TIME_ASCENDING", "LAST_AUTHENTICATED_TIME_DESCENDING")


@IAM.operation("SetSecurityTokenServicePreferences", action="iam:SetSecurityTokenServicePreferences",
               audit="SetSecurityTokenServicePreferences", inputs=(TOKEN_VERSION,))
async def set_security_token_service_preferences(q: QueryRequest) -> Result:
    await account_settings.set_sts_preferences(q.call, q.input.required("GlobalEndpointTokenVersion"))
    return None


async def _features(q: QueryRequest, feature: organizations.Feature, enabled: bool) -> Result:
    features = await organizations.set_root_access_feature(q.call, feature, enabled)
    return {"EnabledFeatures": list(features)}


@IAM.operation("EnableOrganizationsRootCredentialsManagement",
               action="iam:EnableOrganizationsRootCredentialsManagement",
               audit="EnableOrganizationsRootCredentialsManagement")
async def enable_organizations_root_credentials_management(q: QueryRequest) -> Result:
    return await _features(q, "RootCredentialsManagement", True)


@IAM.operation("DisableOrganizationsRootCredentialsManagement",
               action="iam:DisableOrganizationsRootCredentialsManagement",
               audit="DisableOrganizationsRootCredentialsManagement")
async def disable_organizations_root_credentials_management(q: QueryRequest) -> Result:
    return await _features(q, "RootCredentialsManagement", False)


@IAM.operation("EnableOrganizationsRootSessions", action="iam:EnableOrganizationsRootSessions",
               audit="EnableOrganizationsRootSessions")
async def enable_organizations_root_sessions(q: QueryRequest) -> Result:
    return await _features(q, "RootSessions", True)


@IAM.operation("DisableOrganizationsRootSessions", action="iam:DisableOrganizationsRootSessions",
               audit="DisableOrganizationsRootSessions")
async def disable_organizations_root_sessions(q: QueryRequest) -> Result:
    return await _features(q, "RootSessions", False)


@IAM.operation("ListOrganizationsFeatures", action="iam:ListOrganizationsFeatures")
async def list_organizations_features(q: QueryRequest) -> Result:
    organization_id, features = await organizations.features(q.call)
    return {"OrganizationId": organization_id, "EnabledFeatures": list(features)}


@IAM.operation("GenerateOrganizationsAccessReport", action="iam:GenerateOrganizationsAccessReport",
               audit="GenerateOrganizationsAccessReport", inputs=(ENTITY_PATH, POLICY_ID))
async def generate_organizations_access_report(q: QueryRequest) -> Result:
    job_id = await organizations.generate_access_report(q.call, q.input.required("EntityPath"),
                                                        q.input.text("OrganizationsPolicyId"))
    return {"JobId": job_id}


@IAM.operation("GetOrganizationsAccessReport", action="iam:GetOrganizationsAccessReport",
               inputs=(JOB_ID, MAX_ITEMS, MARKER, SORT_KEY))
async def get_organizations_access_report(q: QueryRequest) -> Result:
    report = await organizations.access_report(q.call, q.input.required("JobId"))
    shape: Shape = {"JobStatus": report.status, "JobCreationDate": Timestamp(report.created_at)}
    if report.completed_at is not None:
        shape["JobCompletionDate"] = Timestamp(report.completed_at)
    if report.error_code is not None:
        shape["ErrorDetails"] = {"Message": report.error_message, "Code": report.error_code}
    shape["IsTruncated"] = False
    return shape
