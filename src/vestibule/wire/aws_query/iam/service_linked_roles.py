"""IAM service-linked roles: create, delete (a deletion task), the task's status."""

from __future__ import annotations

from ....services.iam import service_linked_roles as linked
from ...members import text
from ..request import QueryRequest
from ..xml import Result
from .members import ROLE_NAME
from .shapes import Shape, role_shape
from .table import IAM

TASK_ID = text("DeletionTaskId", 1, 1000).required()


@IAM.operation("CreateServiceLinkedRole", action="iam:CreateServiceLinkedRole", audit="CreateServiceLinkedRole",
               inputs=(text("AWSServiceName", 1, 128, r"[\w+=,.@-]+").required(),
                       text("Description", None, 1000, r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*"),
                       text("CustomSuffix", 1, 64, r"[\w+=,.@-]+")))
async def create_service_linked_role(q: QueryRequest) -> Result:
    role = await linked.create_service_linked_role(q.call, q.input.required("AWSServiceName"),
                                                   q.input.text("Description"), q.input.text("CustomSuffix"))
    return {"Role": role_shape(role)}


@IAM.operation("DeleteServiceLinkedRole", action="iam:DeleteServiceLinkedRole", audit="DeleteServiceLinkedRole",
               inputs=(ROLE_NAME.required(),))
async def delete_service_linked_role(q: QueryRequest) -> Result:
    return {"DeletionTaskId": await linked.delete_service_linked_role(q.call, q.input.required("RoleName"))}


@IAM.operation("GetServiceLinkedRoleDeletionStatus", action="iam:GetServiceLinkedRoleDeletionStatus",
               inputs=(TASK_ID,))
async def get_service_linked_role_deletion_status(q: QueryRequest) -> Result:
    status = await linked.deletion_status(q.call, q.input.required("DeletionTaskId"))
    result: Shape = {"Status": status.status}
    if status.reason is not None:
        result["Reason"] = {"Reason": status.reason, "RoleUsageList": [
            {"Region": region, "Resources": list(resources)} for region, resources in status.usage]}
    return result
