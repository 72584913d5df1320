"""SSO Admin permission sets: Create/Describe/List/Update/Delete, managed and inline policies, provisioning."""

from __future__ import annotations

from ....services.identity_center import permission_sets as ps
from ...json_values import JsonObject, JsonValue
from ..request import JsonRequest
from . import members as m
from .table import SSO_ADMIN

_INSTANCE = m.INSTANCE.required()
_SET = m.PERMISSION_SET.required()
_BOTH = (_INSTANCE, _SET)


def _arns(r: JsonRequest) -> tuple[str, str]:
    return r.input.text("InstanceArn") or "", r.input.text("PermissionSetArn") or ""


def _shape(p: ps.PermissionSet) -> dict[str, JsonValue]:
    shape: dict[str, JsonValue] = {"Name": p.name, "PermissionSetArn": p.arn, "CreatedDate": p.created_at,
                                   "SessionDuration": ps.iso_duration(p.session_duration)}
    if p.description is not None:
        shape["Description"] = p.description
    if p.relay_state is not None:
        shape["RelayState"] = p.relay_state
    return shape


def provisioning_status(row: ps.RequestStatus) -> dict[str, JsonValue]:
    shape: dict[str, JsonValue] = {"Status": row.status, "RequestId": row.id,
                                   "PermissionSetArn": row.permission_set_arn, "CreatedDate": row.created_at}
    if row.target_id is not None:
        shape["AccountId"] = row.target_id
    if row.failure_reason is not None:
        shape["FailureReason"] = row.failure_reason
    return shape


@SSO_ADMIN.operation("CreatePermissionSet", action="sso:CreatePermissionSet", audit="sso:CreatePermissionSet",
                     inputs=(m.PS_NAME, m.DESCRIPTION, _INSTANCE, m.SESSION_DURATION, m.RELAY_STATE, m.TAGS))
async def create_permission_set(r: JsonRequest) -> JsonObject:
    made = await ps.create_permission_set(r.call, r.input.text("InstanceArn") or "", r.input.text("Name") or "",
                                          r.input.text("Description"), r.input.text("SessionDuration"),
                                          r.input.text("RelayState"), m.tags(r.input))
    return {"PermissionSet": _shape(made)}


@SSO_ADMIN.operation("DescribePermissionSet", action="sso:DescribePermissionSet", inputs=_BOTH)
async def describe_permission_set(r: JsonRequest) -> JsonObject:
    return {"PermissionSet": _shape(await ps.describe_permission_set(r.call, *_arns(r)))}


@SSO_ADMIN.operation("ListPermissionSets", action="sso:ListPermissionSets", inputs=(_INSTANCE, *m.PAGING))
async def list_permission_sets(r: JsonRequest) -> JsonObject:
    page = await ps.list_permission_sets(r.call, r.input.text("InstanceArn") or "", m.page_request(r.input))
    return {"PermissionSets": list[JsonValue](page.items), **m.next_token(page)}


@SSO_ADMIN.operation("UpdatePermissionSet", action="sso:UpdatePermissionSet", audit="sso:UpdatePermissionSet",
                     inputs=(*_BOTH, m.DESCRIPTION, m.SESSION_DURATION, m.RELAY_STATE))
async def update_permission_set(r: JsonRequest) -> JsonObject:
    await ps.update_permission_set(r.call, *_arns(r), r.input.text("Description"), r.input.text("SessionDuration"),
                                   r.input.text("RelayState"))
    return {}


@SSO_ADMIN.operation("DeletePermissionSet", action="sso:DeletePermissionSet", audit="sso:DeletePermissionSet",
                     inputs=_BOTH)
async def delete_permission_set(r: JsonRequest) -> JsonObject:
    await ps.delete_permission_set(r.call, *_arns(r))
    return {}


@SSO_ADMIN.operation("AttachManagedPolicyToPermissionSet", action="sso:AttachManagedPolicyToPermissionSet",
                     audit="sso:AttachManagedPolicyToPermissionSet", inputs=(*_BOTH, m.MANAGED_POLICY))
async def attach_managed_policy(r: JsonRequest) -> JsonObject:
    await ps.attach_managed_policy(r.call, *_arns(r), r.input.text("ManagedPolicyArn") or "")
    return {}


@SSO_ADMIN.operation("DetachManagedPolicyFromPermissionSet", action="sso:DetachManagedPolicyFromPermissionSet",
                     audit="sso:DetachManagedPolicyFromPermissionSet", inputs=(*_BOTH, m.MANAGED_POLICY))
async def detach_managed_policy(r: JsonRequest) -> JsonObject:
    await ps.detach_managed_policy(r.call, *_arns(r), r.input.text("ManagedPolicyArn") or "")
    return {}


@SSO_ADMIN.operation("ListManagedPoliciesInPermissionSet", action="sso:ListManagedPoliciesInPermissionSet",
                     inputs=(*_BOTH, *m.PAGING))
async def list_managed_policies(r: JsonRequest) -> JsonObject:
    instance_arn, arn = _arns(r)
    page = m.page_in_memory(r.call, r.input, await ps.managed_policies(r.call, instance_arn, arn),
                            lambda policy: (policy[1],), "ListManagedPoliciesInPermissionSet", instance_arn, arn)
    return {"AttachedManagedPolicies": [{"Name": n, "Arn": a} for n, a in page.items], **m.next_token(page)}


@SSO_ADMIN.operation("PutInlinePolicyToPermissionSet", action="sso:PutInlinePolicyToPermissionSet",
                     audit="sso:PutInlinePolicyToPermissionSet", inputs=(*_BOTH, m.INLINE_POLICY))
async def put_inline_policy(r: JsonRequest) -> JsonObject:
    await ps.put_inline_policy(r.call, *_arns(r), r.input.text("InlinePolicy") or "")
    return {}


@SSO_ADMIN.operation("GetInlinePolicyForPermissionSet", action="sso:GetInlinePolicyForPermissionSet", inputs=_BOTH)
async def get_inline_policy(r: JsonRequest) -> JsonObject:
    return {"InlinePolicy": await ps.inline_policy(r.call, *_arns(r))}


@SSO_ADMIN.operation("DeleteInlinePolicyFromPermissionSet", action="sso:DeleteInlinePolicyFromPermissionSet",
                     audit="sso:DeleteInlinePolicyFromPermissionSet", inputs=_BOTH)
async def delete_inline_policy(r: JsonRequest) -> JsonObject:
    await ps.delete_inline_policy(r.call, *_arns(r))
    return {}


@SSO_ADMIN.operation("ProvisionPermissionSet", action="sso:ProvisionPermissionSet", audit="sso:ProvisionPermissionSet",
                     inputs=(*_BOTH, m.TARGET_ID, m.PROVISION_TARGET))
async def provision_permission_set(r: JsonRequest) -> JsonObject:
    row = await ps.provision_permission_set(r.call, *_arns(r), r.input.text("TargetType") or "",
                                            r.input.text("TargetId"))
    return {"PermissionSetProvisioningStatus": provisioning_status(row)}


@SSO_ADMIN.operation("DescribePermissionSetProvisioningStatus", action="sso:DescribePermissionSetProvisioningStatus",
                     inputs=(_INSTANCE, m.uuid_member("ProvisionPermissionSetRequestId")))
async def describe_provisioning_status(r: JsonRequest) -> JsonObject:
    row = await ps.request_status(r.call, r.input.text("InstanceArn") or "", "provision",
                                  r.input.text("ProvisionPermissionSetRequestId") or "")
    return {"PermissionSetProvisioningStatus": provisioning_status(row)}


@SSO_ADMIN.operation("ListPermissionSetProvisioningStatus", action="sso:ListPermissionSetProvisioningStatus",
                     inputs=(_INSTANCE, *m.PAGING, m.FILTER))
async def list_provisioning_status(r: JsonRequest) -> JsonObject:
    page = await ps.request_statuses(r.call, r.input.text("InstanceArn") or "", "provision", m.status_filter(r.input),
                                     m.page_request(r.input))
    items: list[JsonValue] = [{"Status": row.status, "RequestId": row.id, "CreatedDate": row.created_at}
                              for row in page.items]
    return {"PermissionSetsProvisioningStatus": items, **m.next_token(page)}


@SSO_ADMIN.operation("ListPermissionSetsProvisionedToAccount", action="sso:ListPermissionSetsProvisionedToAccount",
                     inputs=(_INSTANCE, m.ACCOUNT_ID, m.PROVISIONING_STATUS, *m.PAGING))
async def list_provisioned_to_account(r: JsonRequest) -> JsonObject:
    page = await ps.provisioned_to_account(r.call, r.input.text("InstanceArn") or "", r.input.text("AccountId") or "",
                                           r.input.text("ProvisioningStatus"), m.page_request(r.input))
    return {"PermissionSets": list[JsonValue](page.items), **m.next_token(page)}


@SSO_ADMIN.operation("ListAccountsForProvisionedPermissionSet",
                     action="sso:ListAccountsForProvisionedPermissionSet",
                     inputs=(*_BOTH, m.PROVISIONING_STATUS, *m.PAGING))
async def list_accounts_for_permission_set(r: JsonRequest) -> JsonObject:
    page = await ps.accounts_for_permission_set(r.call, *_arns(r), r.input.text("ProvisioningStatus"),
                                                m.page_request(r.input))
    return {"AccountIds": list[JsonValue](page.items), **m.next_token(page)}
