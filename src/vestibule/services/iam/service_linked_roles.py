"""IAM service-linked roles: roles that an AWS service creates and owns, under `/aws-service-role/<service>/`,
trusting only that service. IAM users cannot change them (UnmodifiableEntity): only DeleteServiceLinkedRole
removes one, as a deletion task whose status GetServiceLinkedRoleDeletionStatus reports.

Which services: the ones in `_KNOWN` get the role name AWS gives them; any other `<name>.amazonaws.com` gets
`AWSServiceRoleFor` followed by its labels capitalized (`my-service.amazonaws.com` -> `AWSServiceRoleForMyService`)
and accepts a CustomSuffix. Vestibule runs none of these services: the role is created, listed and deletable,
no service assumes it, and no service policy is attached to it."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from ...core import arns
from ...core import identifiers as ids
from ...errors import InvalidInput, NotFound, Unmodifiable
from ...store.models import IamRole, ServiceLinkedRoleDeletion
from ...store.repositories import Conflict
from ..api_call import ApiCall
from .common import named_role

PATH_PREFIX = "/aws-service-role/"
RESERVED_PATH_PREFIX = "/aws-reserved/"
RESERVED_NAME_PREFIX = "AWSReservedSSO_"
_SERVICE = re.compile(r"([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)\.amazonaws\.com")
_TASK = re.compile(r"task/aws-service-role/([\w+=,.@-]+)/([\w+=,.@-]{1,64})/[0-9a-f-]{36}")


@dataclass(frozen=True)
class LinkedService:
    role_name: str  # the part after AWSServiceRoleFor
    custom_suffix: bool


_KNOWN: dict[str, LinkedService] = {
    "autoscaling.amazonaws.com": LinkedService("AutoScaling", True),
    "elasticbeanstalk.amazonaws.com": LinkedService("ElasticBeanstalk", True),
    "lex.amazonaws.com": LinkedService("LexBots", True),
    "ecs.amazonaws.com": LinkedService("ECS", False),
    "eks.amazonaws.com": LinkedService("AmazonEKS", False),
    "eks-nodegroup.amazonaws.com": LinkedService("AmazonEKSNodegroup", False),
    "es.amazonaws.com": LinkedService("AmazonElasticsearchService", False),
    "opensearchservice.amazonaws.com": LinkedService("AmazonOpenSearchService", False),
    "spot.amazonaws.com": LinkedService("EC2Spot", False),
    "elasticloadbalancing.amazonaws.com": LinkedService("ElasticLoadBalancing", False),
    "rds.amazonaws.com": LinkedService("RDS", False),
    "organizations.amazonaws.com": LinkedService("Organizations", False),
    "sso.amazonaws.com": LinkedService("SSO", False),
    "config.amazonaws.com": LinkedService("Config", False),
    "cloudtrail.amazonaws.com": LinkedService("CloudTrail", False),
    "guardduty.amazonaws.com": LinkedService("AmazonGuardDuty", False),
    "support.amazonaws.com": LinkedService("Support", False),
    "trustedadvisor.amazonaws.com": LinkedService("TrustedAdvisor", False),
}


@dataclass(frozen=True)
class DeletionStatus:
    status: str  # SUCCEEDED | IN_PROGRESS | FAILED | NOT_STARTED
    reason: str | None = None
    usage: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (region, resource ARNs)


def is_service_linked(role: IamRole) -> bool:
    return role.path.startswith(PATH_PREFIX)


def refuse_if_service_linked(role: IamRole) -> None:
    """UnmodifiableEntity, as AWS answers, for a change IAM users may not make to a service-linked role (or to a
    role a service reserved, such as Identity Center's `/aws-reserved/sso.amazonaws.com/` roles)."""
    if is_service_linked(role) or role.path.startswith(RESERVED_PATH_PREFIX):
        raise Unmodifiable(f"Cannot perform the operation on the protected role '{role.name}' - "
                           "this role is only modifiable by AWS")


def refuse_if_reserved(role: IamRole) -> None:
    """UnmodifiableEntity for a role a service reserved (`/aws-reserved/`): even the changes a service-linked
    role allows (tags, description) are the service's to make."""
    if role.path.startswith(RESERVED_PATH_PREFIX):
        refuse_if_service_linked(role)


def refuse_reserved_name(name: str) -> None:
    """CreateRole may not take a name of Identity Center's reserved roles (`AWSReservedSSO_...`): provisioning
    makes them, and a role of that name made by anyone else must never be taken for one."""
    if name.lower().startswith(RESERVED_NAME_PREFIX.lower()):
        raise InvalidInput("roleName", f"Role names starting with {RESERVED_NAME_PREFIX} are reserved for roles "
                                       "IAM Identity Center creates.")


def refuse_reserved_path(path: str) -> None:
    """CreateRole (and the like) may not place a role under the service-linked roles' or reserved roles' path."""
    if path.startswith(PATH_PREFIX):
        raise InvalidInput("path", f"The path {PATH_PREFIX} is reserved for service-linked roles; "
                                   "create them with CreateServiceLinkedRole.")
    if path.startswith(RESERVED_PATH_PREFIX):
        raise InvalidInput("path", f"The path {RESERVED_PATH_PREFIX} is reserved for roles AWS services create.")


def linked_service(name: str) -> LinkedService:
    known = _KNOWN.get(name)
    if known is not None:
        return known
    match = _SERVICE.fullmatch(name)
    if match is None:
        raise InvalidInput("AWSServiceName", f"Invalid service name: {name[:128]} is not a service principal of the "
                                             "form <service>.amazonaws.com.")
    return LinkedService("".join(part[:1].upper() + part[1:] for part in re.split(r"[.-]", match.group(1))), True)


def role_name(service: str, suffix: str | None) -> str:
    linked = linked_service(service)
    name = f"AWSServiceRoleFor{linked.role_name}"
    if suffix is not None:
        if not linked.custom_suffix:
            raise InvalidInput("CustomSuffix", f"Custom suffix is not allowed for {service}")
        name = f"{name}_{suffix}"
    if len(name) > 64:
        raise InvalidInput("CustomSuffix", f"The role name {name} is longer than 64 characters; "
                                           "use a shorter CustomSuffix.")
    return name


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": "sts:AssumeRole"}]})


async def create_service_linked_role(call: ApiCall, service: str, description: str | None,
                                     suffix: str | None) -> IamRole:
    name = role_name(service, suffix)
    path = f"{PATH_PREFIX}{service}/"
    taken = InvalidInput("RoleName", f"Service role name {name} has been taken in this account, please try a "
                                     "different suffix.")
    async with call.unit() as uow:
        await call.authorize(uow, arns.role_arn(call.account_id, name, path),
                             context={"iam:AWSServiceName": service})
        if await uow.roles.by_name(call.account_id, name) is not None:
            raise taken
        role = IamRole(id=ids.new_iam_id("AROA"), account_id=call.account_id, name=name, name_lower=name.lower(),
                       path=path, description=description, trust_policy=_trust(service), max_session_duration=3600,
                       created_at=call.now())
        try:
            await uow.roles.add(role)
        except Conflict:
            raise taken from None
        await call.record(uow, role=name, service=service)
        return role


async def delete_service_linked_role(call: ApiCall, name: str) -> str:
    """The deletion task's ID. The role goes at once unless something here still uses it (an instance
    profile holds it): then the task has FAILED and says which resources to remove first."""
    async with call.unit() as uow:
        role = await named_role(call, uow, name)
        if not is_service_linked(role):
            raise InvalidInput("RoleName", f"The role {name} is not a service-linked role; delete it with DeleteRole.")
        service = role.path[len(PATH_PREFIX):].rstrip("/")
        task_id = f"task/aws-service-role/{service}/{role.name}/{uuid.uuid4()}"
        profiles = await uow.instance_profiles.holding(role.id)
        reason = None
        if profiles:
            status = "FAILED"
            reason = json.dumps({"Reason": "The service-linked role is used by instance profiles; remove it from "
                                           "them first.",
                                 "RoleUsageList": [{"Region": call.region or "us-east-1", "Resources": [
                                     f"arn:aws:iam::{p.account_id}:instance-profile{p.path}{p.name}"
                                     for p in profiles]}]})
        else:
            status = "SUCCEEDED"
            await uow.policies.detach_all_from("role", role.id)
            await uow.policies.delete_all_inline("role", role.id)
            await uow.tags.remove_all("role", role.id)
            await uow.roles.delete(role)
        await uow.service_linked_role_deletions.add(ServiceLinkedRoleDeletion(
            id=task_id, account_id=call.account_id, role_name=role.name, status=status, reason=reason,
            created_at=call.now()))
        await call.record(uow, role=role.name, task=task_id, status=status)
        return task_id


async def deletion_status(call: ApiCall, task_id: str) -> DeletionStatus:
    match = _TASK.fullmatch(task_id)
    if match is None:
        raise InvalidInput("DeletionTaskId", f"Invalid deletion task ID {task_id[:128]}: expected "
                                             "task/aws-service-role/<service>/<role name>/<task id>.")
    service, name = match.groups()
    async with call.unit() as uow:
        await call.authorize(uow, arns.role_arn(call.account_id, name, f"{PATH_PREFIX}{service}/"))
        task = await uow.service_linked_role_deletions.get(call.account_id, task_id)
    if task is None:
        raise NotFound(f"Deletion task {task_id[:256]} does not exist.")
    if task.reason is None:
        return DeletionStatus(task.status)
    reason = json.loads(task.reason)
    usage = tuple((str(u.get("Region", "")), tuple(str(r) for r in u.get("Resources", [])))
                  for u in reason.get("RoleUsageList", []))
    return DeletionStatus(task.status, str(reason.get("Reason", "")), usage)

