"""Service last accessed data: generate a report on a user, group, role or managed policy, read it (with the
entities behind one service), and the policies that give an identity access to a service."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from ....services.iam import last_accessed
from ...members import Member, enum, text
from ..errors import ValidationError
from ..params import shown
from ..request import QueryRequest
from ..sts import STS
from ..xml import Result, Timestamp, XmlValue
from .members import MARKER, MAX_ITEMS
from .shapes import Shape, snapshot_page
from .table import IAM

ARN = text("Arn", 20, 2048).required()
GRANULARITY = enum("Granularity", "SERVICE_LEVEL", "ACTION_LEVEL")
JOB_ID = text("JobId", 36, 36).required()
NAMESPACE_PATTERN = r"[\w-]*"
SERVICE_NAMESPACE = text("ServiceNamespace", 1, 64, NAMESPACE_PATTERN).required()
SERVICE_NAMESPACES = Member("ServiceNamespaces", "list", 1, 200, is_required=True)
_NAMESPACE = re.compile(NAMESPACE_PATTERN, re.ASCII)


@functools.cache
def served() -> Mapping[str, tuple[str, ...]]:
    """The actions Vestibule serves, per service namespace (its operation tables are complete by the first call)."""
    return {"iam": tuple(sorted(n for n, op in IAM.rows.items() if op.action)),
            "sts": tuple(sorted(n for n, op in STS.rows.items() if op.action))}


@IAM.operation("GenerateServiceLastAccessedDetails", action="iam:GenerateServiceLastAccessedDetails",
               audit="GenerateServiceLastAccessedDetails", inputs=(ARN, GRANULARITY))
async def generate_service_last_accessed_details(q: QueryRequest) -> Result:
    granularity: last_accessed.Granularity = (
        "ACTION_LEVEL" if q.input.text("Granularity") == "ACTION_LEVEL" else "SERVICE_LEVEL")
    return {"JobId": await last_accessed.generate(q.call, q.input.required("Arn"), granularity, served())}


def _service(entry: dict[str, Any]) -> Shape:
    shape: Shape = {"ServiceName": entry["name"], "ServiceNamespace": entry["namespace"],
                    "TotalAuthenticatedEntities": entry["total"]}
    if "last_at" in entry:
        shape.update(LastAuthenticated=Timestamp(entry["last_at"]), LastAuthenticatedEntity=entry["entity"],
                     LastAuthenticatedRegion=entry["region"])
    if "actions" in entry:
        actions: list[XmlValue] = []
        for action in entry["actions"]:
            tracked: Shape = {"ActionName": action["name"]}
            if "last_at" in action:
                tracked.update(LastAccessedEntity=action["entity"], LastAccessedTime=Timestamp(action["last_at"]),
                               LastAccessedRegion=action["region"])
            actions.append(tracked)
        shape["TrackedActionsLastAccessed"] = actions
    return shape


def _job(job: last_accessed.Job) -> Shape:
    return {"JobStatus": job.status, "JobCreationDate": Timestamp(job.created_at),
            "JobCompletionDate": Timestamp(job.completed_at or job.created_at)}


@IAM.operation("GetServiceLastAccessedDetails", action="iam:GetServiceLastAccessedDetails",
               inputs=(JOB_ID, MAX_ITEMS, MARKER))
async def get_service_last_accessed_details(q: QueryRequest) -> Result:
    job = await last_accessed.job(q.call, q.input.required("JobId"))
    items, extra = snapshot_page(q, "GetServiceLastAccessedDetails", q.input.required("JobId"), job.services)
    return {**_job(job), "JobType": job.granularity, "ServicesLastAccessed": [_service(s) for s in items], **extra}


def _entity(entity: dict[str, Any]) -> Shape:
    shape: Shape = {"EntityInfo": {"Arn": entity["arn"], "Name": entity["name"], "Type": entity["type"],
                                   "Id": entity["id"], "Path": entity["path"]}}
    if entity["last_at"] is not None:
        shape["LastAuthenticated"] = Timestamp(entity["last_at"])
    return shape


@IAM.operation("GetServiceLastAccessedDetailsWithEntities", action="iam:GetServiceLastAccessedDetailsWithEntities",
               inputs=(JOB_ID, SERVICE_NAMESPACE, MAX_ITEMS, MARKER))
async def get_service_last_accessed_details_with_entities(q: QueryRequest) -> Result:
    job = await last_accessed.job(q.call, q.input.required("JobId"))
    namespace = q.input.required("ServiceNamespace").lower()
    entities: list[dict[str, Any]] = next((s["entities"] for s in job.services if s["namespace"] == namespace), [])
    scope = f"{q.input.required('JobId')} {namespace}"
    items, extra = snapshot_page(q, "GetServiceLastAccessedDetailsWithEntities", scope, entities)
    return {**_job(job), "EntityDetailsList": [_entity(e) for e in items], **extra}


def _namespaces(q: QueryRequest) -> list[str]:
    namespaces = q.input.strings("ServiceNamespaces")
    for index, namespace in enumerate(namespaces, start=1):
        if not 1 <= len(namespace) <= 64 or _NAMESPACE.fullmatch(namespace) is None:
            raise ValidationError(f"1 validation error detected: Value '{shown(namespace)}' at "
                                  f"'serviceNamespaces.{index}.member' failed to satisfy constraint: Member must "
                                  f"have length between 1 and 64 and satisfy regular expression pattern: "
                                  f"{NAMESPACE_PATTERN}")
    return namespaces


def _granted(policy: last_accessed.Granted) -> Shape:
    shape: Shape = {"PolicyName": policy.name, "PolicyType": policy.type}
    if policy.arn is not None:
        shape["PolicyArn"] = policy.arn
    if policy.entity_type is not None:
        shape.update(EntityType=policy.entity_type, EntityName=policy.entity_name)
    return shape


@IAM.operation("ListPoliciesGrantingServiceAccess", action="iam:ListPoliciesGrantingServiceAccess",
               inputs=(MARKER, ARN, SERVICE_NAMESPACES))
async def list_policies_granting_service_access(q: QueryRequest) -> Result:
    marker = q.input.text("Marker")
    if marker is not None:  # every answer is complete, so no marker was ever handed out
        raise ValidationError(f"1 validation error detected: Value '{shown(marker)}' at 'marker' failed to "
                              "satisfy constraint: Member must be a marker from an earlier page")
    found = await last_accessed.policies_granting(q.call, q.input.required("Arn"), _namespaces(q), served())
    return {"PoliciesGrantingServiceAccess": [
        {"ServiceNamespace": entry.namespace, "Policies": [_granted(p) for p in entry.policies]} for entry in found],
        "IsTruncated": False}
