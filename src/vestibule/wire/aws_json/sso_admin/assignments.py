"""SSO Admin account assignments: Create/Delete, their status calls, and the two lists."""

from __future__ import annotations

from ....services.identity_center import assignments as asg
from ....services.identity_center import permission_sets as ps
from ...json_values import JsonObject, JsonValue
from ...members import structure
from ..request import JsonRequest
from . import members as m
from .table import SSO_ADMIN

_INSTANCE = m.INSTANCE.required()
_ASSIGNMENT = (_INSTANCE, m.TARGET_ID.required(), m.TARGET_TYPE, m.PERMISSION_SET.required(), m.PRINCIPAL_TYPE,
               m.PRINCIPAL_ID)


def _status(row: ps.RequestStatus) -> dict[str, JsonValue]:
    shape: dict[str, JsonValue] = {"Status": row.status, "RequestId": row.id, "TargetId": row.target_id,
                                   "TargetType": "AWS_ACCOUNT", "PermissionSetArn": row.permission_set_arn,
                                   "PrincipalType": row.principal_type, "PrincipalId": row.principal_id,
                                   "CreatedDate": row.created_at}
    if row.failure_reason is not None:
        shape["FailureReason"] = row.failure_reason
    return shape


def _given(r: JsonRequest) -> tuple[str, str, str, str, str]:
    i = r.input
    return (i.text("InstanceArn") or "", i.text("TargetId") or "", i.text("PermissionSetArn") or "",
            i.text("PrincipalType") or "", i.text("PrincipalId") or "")


def _assignment(a: asg.Assignment) -> dict[str, JsonValue]:
    return {"AccountId": a.account_id, "PermissionSetArn": a.permission_set_arn, "PrincipalType": a.principal_type,
            "PrincipalId": a.principal_id}


@SSO_ADMIN.operation("CreateAccountAssignment", action="sso:CreateAccountAssignment",
                     audit="sso:CreateAccountAssignment", inputs=_ASSIGNMENT)
async def create_account_assignment(r: JsonRequest) -> JsonObject:
    return {"AccountAssignmentCreationStatus": _status(await asg.create_assignment(r.call, *_given(r)))}


@SSO_ADMIN.operation("DeleteAccountAssignment", action="sso:DeleteAccountAssignment",
                     audit="sso:DeleteAccountAssignment", inputs=_ASSIGNMENT)
async def delete_account_assignment(r: JsonRequest) -> JsonObject:
    return {"AccountAssignmentDeletionStatus": _status(await asg.delete_assignment(r.call, *_given(r)))}


@SSO_ADMIN.operation("DescribeAccountAssignmentCreationStatus", action="sso:DescribeAccountAssignmentCreationStatus",
                     inputs=(_INSTANCE, m.uuid_member("AccountAssignmentCreationRequestId")))
async def describe_creation_status(r: JsonRequest) -> JsonObject:
    row = await ps.request_status(r.call, r.input.text("InstanceArn") or "", asg.CREATE,
                                  r.input.text("AccountAssignmentCreationRequestId") or "")
    return {"AccountAssignmentCreationStatus": _status(row)}


@SSO_ADMIN.operation("DescribeAccountAssignmentDeletionStatus", action="sso:DescribeAccountAssignmentDeletionStatus",
                     inputs=(_INSTANCE, m.uuid_member("AccountAssignmentDeletionRequestId")))
async def describe_deletion_status(r: JsonRequest) -> JsonObject:
    row = await ps.request_status(r.call, r.input.text("InstanceArn") or "", asg.DELETE,
                                  r.input.text("AccountAssignmentDeletionRequestId") or "")
    return {"AccountAssignmentDeletionStatus": _status(row)}


async def _statuses(r: JsonRequest, kind: str, key: str) -> JsonObject:
    page = await ps.request_statuses(r.call, r.input.text("InstanceArn") or "", kind, m.status_filter(r.input),
                                     m.page_request(r.input))
    items: list[JsonValue] = [{"Status": row.status, "RequestId": row.id, "CreatedDate": row.created_at}
                              for row in page.items]
    return {key: items, **m.next_token(page)}


@SSO_ADMIN.operation("ListAccountAssignmentCreationStatus", action="sso:ListAccountAssignmentCreationStatus",
                     inputs=(_INSTANCE, *m.PAGING, m.FILTER))
async def list_creation_status(r: JsonRequest) -> JsonObject:
    return await _statuses(r, asg.CREATE, "AccountAssignmentsCreationStatus")


@SSO_ADMIN.operation("ListAccountAssignmentDeletionStatus", action="sso:ListAccountAssignmentDeletionStatus",
                     inputs=(_INSTANCE, *m.PAGING, m.FILTER))
async def list_deletion_status(r: JsonRequest) -> JsonObject:
    return await _statuses(r, asg.DELETE, "AccountAssignmentsDeletionStatus")


@SSO_ADMIN.operation("ListAccountAssignments", action="sso:ListAccountAssignments",
                     inputs=(_INSTANCE, m.TARGET_ID.named("AccountId").required(), m.PERMISSION_SET.required(),
                             *m.PAGING))
async def list_account_assignments(r: JsonRequest) -> JsonObject:
    page = await asg.list_assignments(r.call, r.input.text("InstanceArn") or "", r.input.text("AccountId") or "",
                                      r.input.text("PermissionSetArn") or "", m.page_request(r.input))
    return {"AccountAssignments": [_assignment(a) for a in page.items], **m.next_token(page)}


@SSO_ADMIN.operation("ListAccountAssignmentsForPrincipal", action="sso:ListAccountAssignmentsForPrincipal",
                     inputs=(_INSTANCE, m.PRINCIPAL_ID, m.PRINCIPAL_TYPE, structure("Filter"), *m.PAGING))
async def list_assignments_for_principal(r: JsonRequest) -> JsonObject:
    given = r.input.value("Filter")
    account = given.get("AccountId") if isinstance(given, dict) else None
    found = await asg.assignments_for_principal(r.call, r.input.text("InstanceArn") or "",
                                                r.input.text("PrincipalType") or "", r.input.text("PrincipalId") or "",
                                                account if isinstance(account, str) else None, m.page_request(r.input))
    return {"AccountAssignments": [_assignment(a) for a in found.items], **m.next_token(found)}
