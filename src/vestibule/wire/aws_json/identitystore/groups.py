"""Identity Store groups: CreateGroup, DescribeGroup, ListGroups, UpdateGroup, DeleteGroup, GetGroupId."""

from __future__ import annotations

from ....errors import InvalidValue
from ....services.identity_center import identity_store as ids
from ...json_values import JsonObject
from ..request import JsonRequest
from . import members as m
from . import shapes
from .table import IDENTITY_STORE


@IDENTITY_STORE.operation("CreateGroup", action="identitystore:CreateGroup", audit="identitystore:CreateGroup",
                          inputs=(m.STORE, m.DISPLAY_NAME, m.DESCRIPTION))
async def create_group(r: JsonRequest) -> JsonObject:
    group = await ids.create_group(r.call, r.input.text("IdentityStoreId") or "", r.input.text("DisplayName"),
                                   r.input.text("Description"))
    return {**shapes.group_ref(group), "Revision": str(group.revision)}


@IDENTITY_STORE.operation("DescribeGroup", action="identitystore:DescribeGroup", inputs=(m.STORE, m.GROUP_ID))
async def describe_group(r: JsonRequest) -> JsonObject:
    return shapes.group(await ids.describe_group(r.call, r.input.text("IdentityStoreId") or "",
                                                 r.input.text("GroupId") or ""))


@IDENTITY_STORE.operation("ListGroups", action="identitystore:ListGroups", inputs=(m.STORE, *m.PAGING, m.FILTERS))
async def list_groups(r: JsonRequest) -> JsonObject:
    found = m.filter_of(r.input, ("DisplayName",))
    page = await ids.list_groups(r.call, r.input.text("IdentityStoreId") or "",
                                 display_name=found[1] if found else None, page=m.page_request(r.input))
    return {"Groups": [shapes.group(g) for g in page.items], **m.next_token(page)}


@IDENTITY_STORE.operation("UpdateGroup", action="identitystore:UpdateGroup", audit="identitystore:UpdateGroup",
                          inputs=(m.STORE, m.GROUP_ID, m.OPERATIONS, m.REVISION))
async def update_group(r: JsonRequest) -> JsonObject:
    group = await ids.update_group(r.call, r.input.text("IdentityStoreId") or "", r.input.text("GroupId") or "",
                                   m.operations(r.input), m.revision(r.input))
    return {**shapes.group_ref(group), "Revision": str(group.revision)}


@IDENTITY_STORE.operation("DeleteGroup", action="identitystore:DeleteGroup", audit="identitystore:DeleteGroup",
                          inputs=(m.STORE, m.GROUP_ID, m.REVISION))
async def delete_group(r: JsonRequest) -> JsonObject:
    await ids.delete_group(r.call, r.input.text("IdentityStoreId") or "", r.input.text("GroupId") or "",
                           m.revision(r.input))
    return {}


@IDENTITY_STORE.operation("GetGroupId", action="identitystore:GetGroupId",
                          inputs=(m.STORE, m.ALTERNATE_IDENTIFIER))
async def get_group_id(r: JsonRequest) -> JsonObject:
    external, unique = m.alternate_identifier(r.input)
    store = r.input.text("IdentityStoreId") or ""
    if external is not None:
        group = await ids.group_id_of(r.call, store, external_id=external)
    else:
        assert unique is not None
        path, value = unique
        if path != "displayname" or not isinstance(value, str) or not value:
            raise InvalidValue("UniqueAttribute must be displayName with a string value.")
        group = await ids.group_id_of(r.call, store, display_name=value)
    return shapes.group_ref(group)
