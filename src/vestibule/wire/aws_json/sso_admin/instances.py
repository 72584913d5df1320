"""SSO Admin instances: CreateInstance, ListInstances, DescribeInstance, UpdateInstance, DeleteInstance."""

from __future__ import annotations

from ....services.identity_center import instances as ic
from ...json_values import JsonObject, JsonValue
from ...members import boolean, enum, structure
from ..request import JsonRequest
from . import members as m
from .table import SSO_ADMIN


def _metadata(instance: ic.Instance) -> dict[str, JsonValue]:
    shape: dict[str, JsonValue] = {"InstanceArn": instance.arn, "IdentityStoreId": instance.identity_store_id,
                                   "OwnerAccountId": instance.owner_account_id, "CreatedDate": instance.created_at,
                                   "Status": instance.status}
    if instance.name is not None:
        shape["Name"] = instance.name
    return shape


@SSO_ADMIN.operation("CreateInstance", action="sso:CreateInstance", audit="sso:CreateInstance",
                     inputs=(m.NAME, m.CLIENT_TOKEN, m.TAGS))
async def create_instance(r: JsonRequest) -> JsonObject:
    arn = await ic.create_instance(r.call, r.input.text("Name"), r.input.text("ClientToken"), m.tags(r.input))
    return {"InstanceArn": arn}


@SSO_ADMIN.operation("ListInstances", action="sso:ListInstances",
                     inputs=(*m.PAGING, enum("RegionScope", "CURRENT_REGION", "ALL_REGIONS")))
async def list_instances(r: JsonRequest) -> JsonObject:
    page = m.page_in_memory(r.call, r.input, await ic.list_instances(r.call), lambda i: (i.arn,), "ListInstances")
    return {"Instances": [_metadata(i) for i in page.items], **m.next_token(page)}


@SSO_ADMIN.operation("DescribeInstance", action="sso:DescribeInstance", inputs=(m.INSTANCE.required(),))
async def describe_instance(r: JsonRequest) -> JsonObject:
    instance = await ic.describe_instance(r.call, r.input.text("InstanceArn") or "")
    return {**_metadata(instance), "IdentityStoreArn": instance.identity_store_arn}


@SSO_ADMIN.operation("UpdateInstance", action="sso:UpdateInstance", audit="sso:UpdateInstance",
                     inputs=(m.NAME, m.INSTANCE.required(), structure("EncryptionConfiguration"),
                             boolean("PermissionSetsEnabled"), structure("NetworkConfiguration")))
async def update_instance(r: JsonRequest) -> JsonObject:
    await ic.update_instance(r.call, r.input.text("InstanceArn") or "", r.input.text("Name"))
    return {}


@SSO_ADMIN.operation("DeleteInstance", action="sso:DeleteInstance", audit="sso:DeleteInstance",
                     inputs=(m.INSTANCE.required(),))
async def delete_instance(r: JsonRequest) -> JsonObject:
    await ic.delete_instance(r.call, r.input.text("InstanceArn") or "")
    return {}
