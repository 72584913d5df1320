"""The IAM operations that need an AWS Organizations organization: centralized root access
(Enable/DisableOrganizationsRootCredentialsManagement, Enable/DisableOrganizationsRootSessions,
ListOrganizationsFeatures) and the Organizations access report (Generate/GetOrganizationsAccessReport).

Vestibule has no organizations yet, so every account is standalone: after authorization, these answer what AWS
answers an account that belongs to no organization (OrganizationNotFoundException; the access report's job
fails with that reason). `organization_of` is the one place that decides; the organizations issue replaces it."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Literal

from ...errors import NotFound, NotInOrganization, NotSupported
from ...store.models import ReportJob
from ...store.repositories import UnitOfWork
from ..api_call import ApiCall

KIND = "organizations"
NOT_IN_ORGANIZATION = "The request was rejected because no organization is associated with your account."
Feature = Literal["RootCredentialsManagement", "RootSessions"]


@dataclass(frozen=True)
class Organization:
    id: str
    management_account_id: str


async def organization_of(uow: UnitOfWork, account_id: str) -> Organization | None:
    """The organization the account belongs to: none yet (Vestibule has no AWS Organizations)."""
    return None


async def _organization(call: ApiCall, uow: UnitOfWork) -> Organization:
    await call.authorize(uow, "*")
    organization = await organization_of(uow, call.account_id)
    if organization is None:
        raise NotInOrganization(NOT_IN_ORGANIZATION)
    return organization


async def set_root_access_feature(call: ApiCall, feature: Feature, enabled: bool) -> list[Feature]:
    """Turn a centralized root access feature on or off; the features enabled afterwards."""
    async with call.unit() as uow:
        await _organization(call, uow)
    # not reached while `organization_of` finds none; the organizations issue stores the features
    raise NotSupported(f"{'Enabling' if enabled else 'Disabling'} {feature} needs AWS Organizations.")


async def features(call: ApiCall) -> tuple[str, list[Feature]]:
    async with call.unit() as uow:
        organization = await _organization(call, uow)
        return organization.id, []


@dataclass(frozen=True)
class AccessReport:
    status: str
    created_at: float
    completed_at: float | None
    error_code: str | None
    error_message: str | None


async def generate_access_report(call: ApiCall, entity_path: str, policy_id: str | None) -> str:
    """A job for the Organizations access report of `entity_path`; for an account in no organization it fails
    at once, and GetOrganizationsAccessReport tells why."""
    now = call.now()
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        organization = await organization_of(uow, call.account_id)
        failure = None if organization is not None else {"code": "OrganizationNotFoundException",
                                                          "message": NOT_IN_ORGANIZATION}
        job = ReportJob(id=str(uuid.uuid4()), account_id=call.account_id, kind=KIND, subject=entity_path,
                        granularity="", status="FAILED" if failure else "IN_PROGRESS", created_at=now,
                        completed_at=now if failure else None,
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
