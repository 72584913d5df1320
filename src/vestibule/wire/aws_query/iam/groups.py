"""IAM groups and membership."""

from __future__ import annotations

from ....services.iam import groups
from ..request import QueryRequest
from ..xml import Result
from .members import EXISTING_USER_NAME, GROUP_NAME, PATH, PATH_PREFIX, listing
from .shapes import group_shape, page_request, page_shape, user_shape
from .table import IAM

GROUP = GROUP_NAME.required()


@IAM.operation("CreateGroup", action="iam:CreateGroup", audit="CreateGroup", inputs=(PATH, GROUP))
async def create_group(q: QueryRequest) -> Result:
    group = await groups.create_group(q.call, q.input.required("GroupName"), q.input.text("Path") or "/")
    return {"Group": group_shape(group)}


@IAM.operation("GetGroup", action="iam:GetGroup", inputs=listing(GROUP))
async def get_group(q: QueryRequest) -> Result:
    group, members = await groups.get_group(q.call, q.input.required("GroupName"), page_request(q))
    return {"Group": group_shape(group), "Users": [user_shape(u) for u in members.items], **page_shape(members)}


@IAM.operation("ListGroups", action="iam:ListGroups", inputs=listing(PATH_PREFIX))
async def list_groups(q: QueryRequest) -> Result:
    listed = await groups.list_groups(q.call, q.input.text("PathPrefix") or "/", page_request(q))
    return {"Groups": [group_shape(g) for g in listed.items], **page_shape(listed)}


@IAM.operation("UpdateGroup", action="iam:UpdateGroup", audit="UpdateGroup", inputs=(
    GROUP, PATH.named("NewPath"), GROUP_NAME.named("NewGroupName")))
async def update_group(q: QueryRequest) -> Result:
    await groups.update_group(q.call, q.input.required("GroupName"), q.input.text("NewGroupName"),
                              q.input.text("NewPath"))
    return None


@IAM.operation("DeleteGroup", action="iam:DeleteGroup", audit="DeleteGroup", inputs=(GROUP,))
async def delete_group(q: QueryRequest) -> Result:
    await groups.delete_group(q.call, q.input.required("GroupName"))
    return None


@IAM.operation("AddUserToGroup", action="iam:AddUserToGroup", audit="AddUserToGroup", inputs=(
    GROUP, EXISTING_USER_NAME.required()))
async def add_user_to_group(q: QueryRequest) -> Result:
    await groups.add_user_to_group(q.call, q.input.required("GroupName"), q.input.required("UserName"))
    return None


@IAM.operation("RemoveUserFromGroup", action="iam:RemoveUserFromGroup", audit="RemoveUserFromGroup", inputs=(
    GROUP, EXISTING_USER_NAME.required()))
async def remove_user_from_group(q: QueryRequest) -> Result:
    await groups.remove_user_from_group(q.call, q.input.required("GroupName"), q.input.required("UserName"))
    return None


@IAM.operation("ListGroupsForUser", action="iam:ListGroupsForUser", inputs=listing(EXISTING_USER_NAME.required()))
async def list_groups_for_user(q: QueryRequest) -> Result:
    listed = await groups.list_groups_for_user(q.call, q.input.required("UserName"), page_request(q))
    return {"Groups": [group_shape(g) for g in listed.items], **page_shape(listed)}
