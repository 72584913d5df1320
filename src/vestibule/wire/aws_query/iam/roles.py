"""IAM roles and their trust policies."""

from __future__ import annotations

from ....services.iam import roles
from ...members import integer, text
from ..request import QueryRequest
from ..xml import Result
from .members import PATH, PATH_PREFIX, POLICY_DOCUMENT, ROLE_NAME, TAG_KEYS, TAGS, listing
from .shapes import page_request, page_shape, role_shape, tags_of, tags_shape
from .table import IAM

ROLE = ROLE_NAME.required()
DESCRIPTION = text("Description", None, 1000, r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*")
MAX_SESSION = integer("MaxSessionDuration", 3600, 43200)
BOUNDARY = text("PermissionsBoundary", 20, 2048)  # arnType


@IAM.operation("CreateRole", action="iam:CreateRole", audit="CreateRole", inputs=(
    PATH, ROLE, POLICY_DOCUMENT.named("AssumeRolePolicyDocument").required(), DESCRIPTION, MAX_SESSION, BOUNDARY,
    TAGS))
async def create_role(q: QueryRequest) -> Result:
    tags = tags_of(q)
    role = await roles.create_role(q.call, roles.NewRole(
        name=q.input.required("RoleName"), path=q.input.text("Path") or "/",
        trust_policy=q.input.required("AssumeRolePolicyDocument"), description=q.input.text("Description"),
        max_session_duration=q.input.integer("MaxSessionDuration") or 3600, tags=tags,
        permissions_boundary=q.input.text("PermissionsBoundary")))
    return {"Role": role_shape(role, tags, boundary=True)}


@IAM.operation("GetRole", action="iam:GetRole", inputs=(ROLE,))
async def get_role(q: QueryRequest) -> Result:
    role, tags = await roles.get_role(q.call, q.input.required("RoleName"))
    return {"Role": role_shape(role, tags, last_used=True, boundary=True)}


@IAM.operation("PutRolePermissionsBoundary", action="iam:PutRolePermissionsBoundary",
               audit="PutRolePermissionsBoundary", inputs=(ROLE, BOUNDARY.required()))
async def put_role_permissions_boundary(q: QueryRequest) -> Result:
    await roles.put_boundary(q.call, q.input.required("RoleName"), q.input.required("PermissionsBoundary"))
    return None


@IAM.operation("DeleteRolePermissionsBoundary", action="iam:DeleteRolePermissionsBoundary",
               audit="DeleteRolePermissionsBoundary", inputs=(ROLE,))
async def delete_role_permissions_boundary(q: QueryRequest) -> Result:
    await roles.delete_boundary(q.call, q.input.required("RoleName"))
    return None


@IAM.operation("ListRoles", action="iam:ListRoles", inputs=listing(PATH_PREFIX))
async def list_roles(q: QueryRequest) -> Result:
    listed = await roles.list_roles(q.call, q.input.text("PathPrefix") or "/", page_request(q))
    return {"Roles": [role_shape(r) for r in listed.items], **page_shape(listed)}


@IAM.operation("UpdateRole", action="iam:UpdateRole", audit="UpdateRole", inputs=(ROLE, DESCRIPTION, MAX_SESSION))
async def update_role(q: QueryRequest) -> Result:
    await roles.update_role(q.call, q.input.required("RoleName"), q.input.text("Description"),
                            q.input.integer("MaxSessionDuration"))
    return {}  # the model has an (empty) UpdateRoleResult, which botocore's parser requires


@IAM.operation("UpdateRoleDescription", action="iam:UpdateRoleDescription", audit="UpdateRoleDescription",
               inputs=(ROLE, DESCRIPTION.required()))
async def update_role_description(q: QueryRequest) -> Result:
    role = await roles.update_role(q.call, q.input.required("RoleName"), q.input.required("Description"), None)
    return {"Role": role_shape(role)}


@IAM.operation("UpdateAssumeRolePolicy", action="iam:UpdateAssumeRolePolicy", audit="UpdateAssumeRolePolicy",
               inputs=(ROLE, POLICY_DOCUMENT.required()))
async def update_assume_role_policy(q: QueryRequest) -> Result:
    await roles.update_trust_policy(q.call, q.input.required("RoleName"), q.input.required("PolicyDocument"))
    return None


@IAM.operation("DeleteRole", action="iam:DeleteRole", audit="DeleteRole", inputs=(ROLE,))
async def delete_role(q: QueryRequest) -> Result:
    await roles.delete_role(q.call, q.input.required("RoleName"))
    return None


@IAM.operation("TagRole", action="iam:TagRole", audit="TagRole", inputs=(ROLE, TAGS.required()))
async def tag_role(q: QueryRequest) -> Result:
    await roles.tag_role(q.call, q.input.required("RoleName"), tags_of(q))
    return None


@IAM.operation("UntagRole", action="iam:UntagRole", audit="UntagRole", inputs=(ROLE, TAG_KEYS.required()))
async def untag_role(q: QueryRequest) -> Result:
    await roles.untag_role(q.call, q.input.required("RoleName"), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListRoleTags", action="iam:ListRoleTags", inputs=listing(ROLE))
async def list_role_tags(q: QueryRequest) -> Result:
    listed = await roles.list_role_tags(q.call, q.input.required("RoleName"), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}
