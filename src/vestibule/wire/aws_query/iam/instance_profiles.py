"""IAM instance profiles and the role each one holds."""

from __future__ import annotations

from ....services.iam import instance_profiles as profiles
from ...members import text
from ..request import QueryRequest
from ..xml import Result, Timestamp
from .members import NAME, PATH, PATH_PREFIX, ROLE_NAME, TAG_KEYS, TAGS, listing
from .shapes import Shape, page_request, page_shape, role_shape, tags_of, tags_shape
from .table import IAM

PROFILE = text("InstanceProfileName", 1, 128, NAME).required()
ROLE = ROLE_NAME.required()


def profile_shape(view: profiles.ProfileView) -> Shape:
    p = view.profile
    shape: Shape = {"Path": p.path, "InstanceProfileName": p.name, "InstanceProfileId": p.id,
                    "Arn": profiles.profile_arn(p), "CreateDate": Timestamp(p.created_at),
                    "Roles": [role_shape(r) for r in view.roles]}
    if view.tags:
        shape["Tags"] = tags_shape(view.tags)
    return shape


def _name(q: QueryRequest) -> str:
    return q.input.required("InstanceProfileName")


@IAM.operation("CreateInstanceProfile", action="iam:CreateInstanceProfile", audit="CreateInstanceProfile",
               inputs=(PROFILE, PATH, TAGS))
async def create_instance_profile(q: QueryRequest) -> Result:
    view = await profiles.create_profile(q.call, _name(q), q.input.text("Path") or "/", tags_of(q))
    return {"InstanceProfile": profile_shape(view)}


@IAM.operation("GetInstanceProfile", action="iam:GetInstanceProfile", inputs=(PROFILE,))
async def get_instance_profile(q: QueryRequest) -> Result:
    return {"InstanceProfile": profile_shape(await profiles.get_profile(q.call, _name(q)))}


@IAM.operation("DeleteInstanceProfile", action="iam:DeleteInstanceProfile", audit="DeleteInstanceProfile",
               inputs=(PROFILE,))
async def delete_instance_profile(q: QueryRequest) -> Result:
    await profiles.delete_profile(q.call, _name(q))
    return None


@IAM.operation("ListInstanceProfiles", action="iam:ListInstanceProfiles", inputs=listing(PATH_PREFIX))
async def list_instance_profiles(q: QueryRequest) -> Result:
    listed = await profiles.list_profiles(q.call, q.input.text("PathPrefix") or "/", page_request(q))
    return {"InstanceProfiles": [profile_shape(v) for v in listed.items], **page_shape(listed)}


@IAM.operation("AddRoleToInstanceProfile", action="iam:AddRoleToInstanceProfile", audit="AddRoleToInstanceProfile",
               inputs=(PROFILE, ROLE))
async def add_role_to_instance_profile(q: QueryRequest) -> Result:
    await profiles.add_role(q.call, _name(q), q.input.required("RoleName"))
    return None


@IAM.operation("RemoveRoleFromInstanceProfile", action="iam:RemoveRoleFromInstanceProfile",
               audit="RemoveRoleFromInstanceProfile", inputs=(PROFILE, ROLE))
async def remove_role_from_instance_profile(q: QueryRequest) -> Result:
    await profiles.remove_role(q.call, _name(q), q.input.required("RoleName"))
    return None


@IAM.operation("ListInstanceProfilesForRole", action="iam:ListInstanceProfilesForRole", inputs=listing(ROLE))
async def list_instance_profiles_for_role(q: QueryRequest) -> Result:
    listed = await profiles.profiles_for_role(q.call, q.input.required("RoleName"), page_request(q))
    return {"InstanceProfiles": [profile_shape(v) for v in listed.items], **page_shape(listed)}


@IAM.operation("TagInstanceProfile", action="iam:TagInstanceProfile", audit="TagInstanceProfile",
               inputs=(PROFILE, TAGS.required()))
async def tag_instance_profile(q: QueryRequest) -> Result:
    await profiles.tag_profile(q.call, _name(q), tags_of(q))
    return None


@IAM.operation("UntagInstanceProfile", action="iam:UntagInstanceProfile", audit="UntagInstanceProfile",
               inputs=(PROFILE, TAG_KEYS.required()))
async def untag_instance_profile(q: QueryRequest) -> Result:
    await profiles.untag_profile(q.call, _name(q), q.input.strings("TagKeys"))
    return None


@IAM.operation("ListInstanceProfileTags", action="iam:ListInstanceProfileTags", inputs=listing(PROFILE))
async def list_instance_profile_tags(q: QueryRequest) -> Result:
    listed = await profiles.list_profile_tags(q.call, _name(q), page_request(q))
    return {"Tags": tags_shape(listed.items), **page_shape(listed)}
