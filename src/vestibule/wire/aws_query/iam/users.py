"""IAM users and their tags."""

from __future__ import annotations

from ....services.iam import users
from ...members import text
from ..request import QueryRequest
from ..xml import Result
from .members import EXISTING_USER_NAME, PATH, PATH_PREFIX, TAG_KEYS, TAGS, USER_NAME, listing
from .shapes import page_request, page_shape, root_shape, tags_of, tags_shape, user_shape
from .table import IAM

BOUNDARY = text("PermissionsBoundary", 20, 2048)  # arnType


@IAM.operation("CreateUser", action="iam:CreateUser", audit="CreateUser", inputs=(
    PATH, USER_NAME.required(), BOUNDARY, TAGS))
async def create_user(q: QueryRequest) -> Result:
    tags = tags_of(q)
    user = await users.create_user(q.call, q.input.required("UserName"), q.input.text("Path") or "/", tags,
                                   q.input.text("PermissionsBoundary"))
    return {"User": user_shape(user, tags, boundary=True)}


@IAM.operation("GetUser", action="iam:GetUser", inputs=(EXISTING_USER_NAME,))
async def get_user(q: QueryRequest) -> Result:
    found = await users.get_user(q.call, q.input.text("UserName"))
    return {"User": user_shape(found.user, found.tags, boundary=True) if found.user else root_shape(found.account)}


@IAM.operation("PutUserPermissionsBoundary", action="iam:PutUserPermissionsBoundary",
               audit="PutUserPermissionsBoundary", inputs=(USER_NAME.required(), BOUNDARY.required()))
async def put_user_permissions_boundary(q: QueryRequest) -> Result:
    await users.put_boundary(q.call, q.input.required("UserName"), q.input.required("PermissionsBoundary"))
    return None


@IAM.operation("DeleteUserPermissionsBoundary", action="iam:DeleteUserPermissionsBoundary",
               audit="DeleteUserPermissionsBoundary", inputs=(USER_NAME.required(),))
async def delete_user_permissions_boundary(q: QueryRequest) -> Result:
    await users.delete_boundary(q.call, q.input.required("UserName"))
    return None


@IAM.operation("ListUsers", action="iam:ListUsers", inputs=listing(PATH_PREFIX))
async def list_users(q: QueryRequest) -> Result:
    listed = await users.list_users(q.call, q.input.text("PathPrefix") or "/", page_request(q))
    return {"Users": [user_shape(u) for u in listed.items], **page_shape(listed)}


@IAM.operation("UpdateUser", action="iam:UpdateUser", audit="UpdateUser", inputs=(
    EXISTING_USER_NAME.required(), PATH.named("NewPath"), USER_NAME.named("NewUserName")))
async def update_user(q: QueryRequest) -> Result:
    await users.update_user(q.call, q.input.required("UserName"), q.input.text("NewUserName"),
                            q.input.text("NewPath"))
    return None


@IAM.operation("DeleteUser", action="iam:DeleteUser", audit="DeleteUser", inputs=(EXISTING_USER_NAME.required(),))
async def delete_user(q: QueryRequest) -> Result:
    await users.delete_user(q.call, q.input.required("UserName"))
    return None


@IAM.operation("TagUser", action="iam:TagUser", audit="TagUser", inputs=(
    EXISTING_USER_NAME.required(), TAGS.required()))
async def tag_user(q: QueryRequest) -> Result:
    await users.tag_user(q.call, q.input.required("UserName"), tags_of(q))
    return None


@IAM.operation("UntagUser", action="iam:UntagUser", audit="UntagUser", inputs=(
    EXISTING_USER_NAME.required(), TAG_KEYS.required()))
async def untag_user(q: QueryRequest) -> Result:
    await users.untag_user(q.call, q.input.required("UserName"), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListUserTags", action="iam:ListUserTags", inputs=listing(EXISTING_USER_NAME.required()))
async def list_user_tags(q: QueryRequest) -> Result:
    listed = await users.list_user_tags(q.call, q.input.required("UserName"), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}


