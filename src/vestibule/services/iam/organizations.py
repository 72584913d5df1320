"""The IAM operations that need an AWS Organizations organization: centralized root access
(Enable/DisableOrganizationsRootCredentialsManagement, Enable/DisableOrganizationsRootSessions,
ListOrganizationsFeatures) and the Organizations access report (Generate/GetOrganizationsAccessReport).

An account in no organization gets what AWS answers it (OrganizationNotFoundException; the access report's job
fails with that reason). In an organization, a member account gets AccountNotManagementOrDelegatedAdministrator;
the management account gets ServiceAccessNotEnabled, as AWS answers while trusted access for IAM is not enabled
(Vestibule does not serve EnableAWSServiceAccess), and its access report's job fails saying so.
`organization_of` is the one place that decides which organization an account belongs to."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Literal, NoReturn

from ...errors import NotFound, NotInOrganization, NotManagementAccount, ServiceAccessNotEnabled
from ...store.models import ReportJob
from ...store.repositories import UnitOfWork
from ..api_call import ApiCall

KIND = "organizations"
NOT_IN_ORGANIZATION = "The request was rejected because no organization is associated with your account."
NOT_MANAGEMENT = ("The request was rejected because the account making the request is not the management account "
                  "or delegated administrator account for centralized root access.")
NO_SERVICE_ACCESS = "The request was rejected because trusted access is not enabled for IAM in Organizations."
Feature = Literal["RootCredentialsManagement", "RootSessions"]


@dataclass(frozen=True)
class Organization:
    id: str
    management_account_id: str


async def organization_of(uow: UnitOfWork, account_id: str) -> Organization | None:
    """The organization the account belongs to (as its management account or as a member), None if none."""
    row = await uow.organizations.of_account(account_id)
    return None if row is None else Organization(row.id, row.management_account_id)


async def _refuse(call: ApiCall, uow: UnitOfWork) -> NoReturn:
    """After authorization, what AWS answers the caller: no organization, not its management account, or (to
    its management account) no trusted access for IAM."""
    await call.authorize(uow, "*")
    organization = await organization_of(uow, call.account_id)
    if organization is None:
        raise NotInOrganization(NOT_IN_ORGANIZATION)
    if organization.management_account_id != call.account_id:
        raise NotManagementAccount(NOT_MANAGEMENT)
    raise ServiceAccessNotEnabled(NO_SERVICE_ACCESS)


async def set_root_access_feature(call: ApiCall, feature: Feature, enabled: bool) -> list[Feature]:
    """Turn a centralized root access feature on or off; the features enabled afterwards."""
    async with call.unit() as uow:
        await _refuse(call, uow)
    raise AssertionError("unreachable: every caller is refused while IAM has no trusted access")


async def features(call: ApiCall) -> tuple[str, list[Feature]]:
    async with call.unit() as uow:
        await _refuse(call, uow)
    raise AssertionError("unreachable: every caller is refused while IAM has no trusted access")


@dataclass(frozen=True)
class AccessReport:
    status: str
    created_at: float
    completed_at: float | None
    error_code: str | None
    error_message: str | None


def _report_failure(organization: Organization | None, account_id: str) -> dict[str, str]:
    if organization is None:
        return {"code": "OrganizationNotFoundException", "message": NOT_IN_ORGANIZATION}
    if organization.management_account_id != account_id:
        return {"code": "AccountNotManagementOrDelegatedAdministratorException",
                "message": "Only the management account of the organization can generate its access report."}
    return {"code": "ServiceAccessNotEnabledException", "message": NO_SERVICE_ACCESS}


async def generate_access_report(call: ApiCall, entity_path: str, policy_id: str | None) -> str:
    """A job for the Organizations access report of `entity_path`; it fails at once (no organization, not its
    management account, or no trusted access for IAM), and GetOrganizationsAccessReport tells why."""
    now = call.now()
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        organization = await organization_of(uow, call.account_id)
        failure = _report_failure(organization, call.account_id)
        job = ReportJob(id=str(uuid.uuid4()), account_id=call.account_id, kind=KIND, subject=entity_path,
                        granularity="", status="FAILED", created_at=now, completed_at=now,
                        result=json.dumps({"error": failure, "policy_id": policy_id}))
        await uow.report_jobs.add(job)
        await call.record(uow, entity_path=entity_path, job_id=job.id)
        return job.id


async def access_report(call: ApiCall, job_id: str) -> AccessReport:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        row = await uow.report_jobs.get(job_id, call.account_id, KIND)
    if row is None:
        raise NotFound(f"No Organizations access report with job ID {job_id} exists.")
    error = json.loads(row.result).get("error") or {}
    return AccessReport(row.status, row.created_at, row.completed_at, error.get("code"), error.get("message"))
