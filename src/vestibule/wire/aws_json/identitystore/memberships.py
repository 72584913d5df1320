"""Identity Store group memberships: Create/Describe/Delete, ListGroupMemberships(ForMember),
GetGroupMembershipId, IsMemberInGroups."""

from __future__ import annotations

from ....errors import InvalidValue
from ....services.identity_center import identity_store as ids
from ...json_values import JsonObject
from ..request import JsonRequest
from . import members as m
from . import shapes
from .table import IDENTITY_STORE


def _store(r: JsonRequest) -> str:
    return r.input.text("IdentityStoreId") or ""


@IDENTITY_STORE.operation("CreateGroupMembership", action="identitystore:CreateGroupMembership",
                          audit="identitystore:CreateGroupMembership", inputs=(m.STORE, m.GROUP_ID, m.MEMBER_ID))
async def create_group_membership(r: JsonRequest) -> JsonObject:
    membership = await ids.create_membership(r.call, _store(r), r.input.text("GroupId") or "",
                                             m.member_user_id(r.input))
    return shapes.membership_ref(membership)


@IDENTITY_STORE.operation("DescribeGroupMembership", action="identitystore:DescribeGroupMembership",
                          inputs=(m.STORE, m.MEMBERSHIP_ID))
async def describe_group_membership(r: JsonRequest) -> JsonObject:
    return shapes.membership(await ids.describe_membership(r.call, _store(r), r.input.text("MembershipId") or ""))


@IDENTITY_STORE.operation("DeleteGroupMembership", action="identitystore:DeleteGroupMembership",
                          audit="identitystore:DeleteGroupMembership", inputs=(m.STORE, m.MEMBERSHIP_ID))
async def delete_group_membership(r: JsonRequest) -> JsonObject:
    await ids.delete_membership(r.call, _store(r), r.input.text("MembershipId") or "")
    return {}


@IDENTITY_STORE.operation("ListGroupMemberships", action="identitystore:ListGroupMemberships",
                          inputs=(m.STORE, m.GROUP_ID, *m.PAGING))
async def list_group_memberships(r: JsonRequest) -> JsonObject:
    page = await ids.memberships_of_group(r.call, _store(r), r.input.text("GroupId") or "",
                                          page=m.page_request(r.input))
    return {"GroupMemberships": [shapes.membership(x) for x in page.items], **m.next_token(page)}


@IDENTITY_STORE.operation("ListGroupMembershipsForMember", action="identitystore:ListGroupMembershipsForMember",
                          inputs=(m.STORE, m.MEMBER_ID, *m.PAGING))
async def list_group_memberships_for_member(r: JsonRequest) -> JsonObject:
    page = await ids.memberships_of_user(r.call, _store(r), m.member_user_id(r.input),
                                         page=m.page_request(r.input))
    return {"GroupMemberships": [shapes.membership(x) for x in page.items], **m.next_token(page)}


@IDENTITY_STORE.operation("GetGroupMembershipId", action="identitystore:GetGroupMembershipId",
                          inputs=(m.STORE, m.GROUP_ID, m.MEMBER_ID))
async def get_group_membership_id(r: JsonRequest) -> JsonObject:
    membership = await ids.membership_id_of(r.call, _store(r), r.input.text("GroupId") or "",
                                            m.member_user_id(r.input))
    return shapes.membership_ref(membership)


@IDENTITY_STORE.operation("IsMemberInGroups", action="identitystore:IsMemberInGroups",
                          inputs=(m.STORE, m.MEMBER_ID, m.GROUP_IDS))
async def is_member_in_groups(r: JsonRequest) -> JsonObject:
    group_ids = r.input.value("GroupIds") or []
    if not isinstance(group_ids, list) or not all(isinstance(g, str) and 1 <= len(g) <= 100 for g in group_ids):
        raise InvalidValue("GroupIds must be a list of group IDs.")
    user_id = m.member_user_id(r.input)
    results = await ids.is_member_in_groups(r.call, _store(r), user_id, [str(g) for g in group_ids])
    return {"Results": [{"GroupId": group_id, "MemberId": {"UserId": user_id}, "MembershipExists": exists}
                        for group_id, exists in results]}
